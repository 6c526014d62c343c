"""Per-gemeente cost of the batch (prepare, run, peak memory) on the real areas, each measured in
a fresh process, and the national time on N workers projected from those measurements.

    .venv/bin/python bench/area_cost.py [AREA_ID ...] [--runs 1] [--workers 1 2 8 32]

Each run is one process that imports the project, prepares the area (network source to ready
``Prepared``) and runs the default profile once (a cold run), as one batch task does. It prints
one JSON line per run and then a table. The projection scales the measured seconds per resident
(summed over the areas whose data covers most of their residents) to the Netherlands' residents
(:data:`NL_INWONERS`) and divides by the number of workers; a task needs the peak memory of
the largest area measured. It is an estimate from these areas, printed as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Residents of the Netherlands on 1 January 2024 (CBS StatLine, Bevolking; kerncijfers).
NL_INWONERS = 17_942_942
#: Gemeenten in the Netherlands on 1 January 2024 (CBS).
NL_GEMEENTEN = 342
#: Only areas whose data covers at least this share of their buurten's residents count for
#: the projection (a small partial extract costs the fixed reading of its gemeente's files
#: for few residents).
MIN_COVERED = 0.5

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
t0 = time.perf_counter()
import numpy as np
from geo.profiles import load_profiles
from layers.analysis import prepare, run
from layers.datasets import discover
t1 = time.perf_counter()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
area = next(a for a in discover(include_demo=True) if a.id == sys.argv[1])
profiles, default = load_profiles()
prep = prepare(area)
t2 = time.perf_counter()
res = run(prep, profiles[default])
t3 = time.perf_counter()
counted = res.table[res.table.get("status", "volledig") != "buiten"] if "status" in res.table \
    else res.table
print(json.dumps({"gebied": area.id, "import_s": round(t1 - t0, 2),
                  "prepare_s": round(t2 - t1, 2), "run_s": round(t3 - t2, 3),
                  "rss_na_import_mb": round(rss0 / 1024), "piek_rss_mb":
                  round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "knopen": int(prep.net.n_nodes), "herkomsten": int(len(prep.origins)),
                  "buurten": int(len(res.table)),
                  "inwoners": float(np.nansum(counted["inwoners"].to_numpy(dtype=float))),
                  "inwoners_alle_buurten": float(np.nansum(
                      res.table["inwoners"].to_numpy(dtype=float)))}))
"""


def measure(area_id: str) -> dict:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, area_id, str(REPO)], capture_output=True,
                         text=True, cwd=REPO)
    if out.returncode != 0:
        return {"gebied": area_id, "fout": (out.stderr.strip().splitlines() or ["?"])[-1]}
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    rec["proces_s"] = round(time.perf_counter() - t, 2)
    return rec


def projection(recs: list[dict], workers: list[int]) -> list[str]:
    """Lines projecting the national batch from the measured areas."""
    ok = [r for r in recs if "fout" not in r and r.get("inwoners", 0) > 0
          and r["inwoners"] >= MIN_COVERED * r.get("inwoners_alle_buurten", 0)]
    if not ok:
        return ["projectie: geen gemeten gebied dat de meeste inwoners van zijn gemeente dekt"]
    secs = sum(r["prepare_s"] + r["run_s"] for r in ok)
    people = sum(r["inwoners"] for r in ok)
    per = secs / people
    peak = max(r["piek_rss_mb"] for r in ok)
    total = per * NL_INWONERS
    basis = ", ".join(r["gebied"] for r in ok)
    lines = [f"basis {basis}: {people:,.0f} inwoners in de gedekte buurten, "
             f"{secs:.1f} s voorbereiden + rekenen = {per * 1e6:.0f} µs per inwoner; "
             f"grootste piekgeheugen per taak {peak:.0f} MB",
             f"projectie Nederland ({NL_INWONERS:,} inwoners, {NL_GEMEENTEN} gemeenten, "
             f"gemiddeld {total / NL_GEMEENTEN:.1f} s per gemeente):"]
    for n in workers:
        lines.append(f"  {n:>3} workers: {total / n / 60:7.1f} min "
                     f"(geheugen: {n} x ~{peak:.0f} MB)")
    lines.append("  (schatting: tijd per inwoner van deze gebieden x inwoners van Nederland / "
                 "workers; het uitsnijden uit het landelijke extract en grotere steden met meer "
                 "paden per inwoner komen erbij)")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("areas", nargs="*", help="area ids (default: every real area that routes)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2, 8, 32])
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from layers.datasets import discover

    ids = args.areas or [a.id for a in discover() if a.can_route and a.boundaries]
    recs = []
    for aid in ids:
        for _ in range(args.runs):
            rec = measure(aid)
            print(json.dumps(rec))
            recs.append(rec)
    print(f"\n{'gebied':<32}{'knopen':>8}{'herkomsten':>11}{'inwoners':>10}{'prepare':>9}"
          f"{'run':>8}{'piek MB':>9}")
    for r in recs:
        if "fout" in r:
            print(f"{r['gebied']:<32} mislukt: {r['fout'][:60]}")
            continue
        print(f"{r['gebied']:<32}{r['knopen']:>8}{r['herkomsten']:>11}{r['inwoners']:>10.0f}"
              f"{r['prepare_s']:>8.2f}s{r['run_s']:>7.3f}s{r['piek_rss_mb']:>9}")
    for line in projection(recs, args.workers):
        print(line)


if __name__ == "__main__":
    main()
