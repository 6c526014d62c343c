"""How long the dashboard takes to update after a profile change, from a warm start.

Drives the real app.py with Streamlit's AppTest (the same script a browser session runs) on the
default routable area (or ``--gebied``): one cold run, then each profile in turn, several rounds.
Prints per-change times (wall clock and this process's cpu time) and the median/maximum, for
a profile's first result (computed) and for a change back to one seen before (cached); the
README reports them.

    .venv/bin/python scripts/measure_dashboard.py [--gebied demo-helsinki] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from streamlit.testing.v1 import AppTest

    from geo.profiles import load_profiles
    from layers.datasets import discover

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gebied", help="area id (default: the first area that can route)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    areas = discover()
    area = args.gebied or next(a.id for a in areas if a.can_route)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["gebied"] = area
    t0 = time.perf_counter()
    at.run()
    print(f"gebied: {area}; koude start (voorbereiden + eerste berekening): "
          f"{time.perf_counter() - t0:.2f} s")
    if at.exception:
        print(at.exception[0].value)
        return 1
    t, c = time.perf_counter(), time.process_time()
    at.run()
    print(f"herhaalde run zonder wijziging (vaste kosten van een rerun): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms (cpu {(time.process_time() - c) * 1000:.0f})")
    all_profiles, default = load_profiles()
    profiles = list(all_profiles)
    first, warm = [], []  # a profile's first result (computed) and later ones (cached)
    for r in range(args.rounds):
        for pid in profiles[1:] + profiles[:1]:
            t, c = time.perf_counter(), time.process_time()
            at.sidebar.selectbox(key="profiel").set_value(pid).run()
            dt, dc = time.perf_counter() - t, time.process_time() - c
            (warm if r or pid == default else first).append((dt, dc))
            beyond = at.metric[0].value if at.metric else "?"
            print(f"ronde {r + 1}: profiel {pid:<10} {dt * 1000:7.0f} ms (cpu {dc * 1000:5.0f})"
                  f"  buiten bereik: {beyond}")
    # cpu: the time this process computed (all threads); less sensitive than the wall clock
    # to other programs on the machine, but it counts work on several cores twice
    for label, xs in (("eerste resultaat per profiel", first), ("profielwissel (warm)", warm)):
        if xs:
            wall, cpu = zip(*xs, strict=True)
            print(f"{label}: mediaan {statistics.median(wall) * 1000:.0f} ms, max "
                  f"{max(wall) * 1000:.0f} ms (cpu mediaan {statistics.median(cpu) * 1000:.0f}, "
                  f"max {max(cpu) * 1000:.0f}) over {len(xs)} wissels (doel < 1000 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
