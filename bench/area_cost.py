"""Time and peak memory of prepare + coverage for one area, each run in a fresh process, for
the scaling estimate of `ontmoet batch` (README). Usage:

    .venv/bin/python bench/area_cost.py [AREA_ID ...] [--runs 3]

Prints one line per run: area, seconds to import, prepare, run, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from geo.profiles import load_profiles
from layers.analysis import prepare, run
from layers.datasets import discover
t1 = time.perf_counter()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
area = next(a for a in discover() if a.id == sys.argv[1])
prep = prepare(area)
t2 = time.perf_counter()
res = run(prep, load_profiles()[0]["older"])
t3 = time.perf_counter()
print(json.dumps({"gebied": area.id, "import_s": round(t1 - t0, 2),
                  "prepare_s": round(t2 - t1, 2), "run_s": round(t3 - t2, 3),
                  "rss_na_import_mb": round(rss0 / 1024), "piek_rss_mb":
                  round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "knopen": int(prep.net.n_nodes), "gebieden": len(res.table)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("areas", nargs="*", default=["demo-helsinki"])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    for aid in args.areas:
        for _ in range(args.runs):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, aid], capture_output=True,
                                 text=True, check=True).stdout
            rec = json.loads(out.strip().splitlines()[-1])
            rec["proces_s"] = round(time.perf_counter() - t, 2)
            print(json.dumps(rec))


if __name__ == "__main__":
    main()
