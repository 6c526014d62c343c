"""Cost of the choice layer (one bounded pass per category) against the nearest-place run it
extends, on the Helsinki demo and the TU Delft extract (median of 9, warm). Usage:

    .venv/bin/python bench/choice.py

Prints one line per area and a last ``ratios:`` line (choice time / run time).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.profiles import load_profiles  # noqa: E402
from layers.analysis import prepare, run  # noqa: E402
from layers.choice import category_reach  # noqa: E402
from layers.datasets import DEMO_ID, discover  # noqa: E402
from tests.layers.real_data import delft_tu  # noqa: E402

REPEAT = 9


def median_s(f) -> float:
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    older = load_profiles()[0]["older"]
    areas = {"demo-helsinki": next(a for a in discover() if a.id == DEMO_ID),
             "delft-tu": delft_tu()}
    ratios = []
    for name, area in areas.items():
        prep = prepare(area)
        run(prep, older)  # warm: routing state and base field cached

        def choice(prep=prep):
            category_reach(run(prep, older))  # a fresh result: nothing cached

        t_run = median_s(lambda prep=prep: run(prep, older))
        t_all = median_s(choice)
        t_choice = max(t_all - t_run, 0.0)
        n_cat = len(category_reach(run(prep, older)).categories)
        ratios.append(f"{name}={t_choice / t_run:.2f}")
        print(f"{name}: {prep.net.n_nodes} knopen, {n_cat} categorieën, run "
              f"{1000 * t_run:.1f} ms, keuze {1000 * t_choice:.1f} ms")
    print("ratios: " + " ".join(ratios))


if __name__ == "__main__":
    main()
