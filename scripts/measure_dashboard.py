"""How long the dashboard takes to update after a profile change, from a warm start.

Drives the real app.py with Streamlit's AppTest (the same script a browser session runs) on the
default routable area (or ``--gebied``): one cold run, then each profile in turn, several rounds.
Prints per-change times and the median/maximum; the README reports them.

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
    t = time.perf_counter()
    at.run()
    print(f"herhaalde run zonder wijziging (vaste kosten van een rerun): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms")
    profiles = list(load_profiles()[0])
    times = []
    for r in range(args.rounds):
        for pid in profiles[1:] + profiles[:1]:
            t = time.perf_counter()
            at.sidebar.selectbox(key="profiel").set_value(pid).run()
            dt = time.perf_counter() - t
            times.append(dt)
            beyond = at.metric[0].value if at.metric else "?"
            print(f"ronde {r + 1}: profiel {pid:<10} {dt * 1000:7.0f} ms  buiten bereik: {beyond}")
    print(f"profielwissel (warm): mediaan {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {len(times)} wissels (doel < 1000 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
