"""Compare our median walking distance per buurt with CBS Nabijheid (Spearman rank correlation).

    .venv/bin/python scripts/compare_nabijheid.py [--data DIR]

Runs for every area that has an OSM extract, buurt boundaries and a CBS Nabijheid file; for the
others it says what is missing. Prints one line per area and topic (park, bibliotheek).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.profiles import load_profiles  # noqa: E402
from layers.analysis import prepare, run  # noqa: E402
from layers.datasets import discover  # noqa: E402
from layers.nabijheid import TOPICS, compare_distances, read_cbs_distance  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data folder (default: ../shared/data)")
    args = ap.parse_args()
    profile = load_profiles()[0]["fit"].with_(minutes=120)  # distance only; no limit matters
    for area in discover(args.data, include_demo=False):
        if not area.nabijheid:
            continue
        missing = [m.split(":")[0] for m in area.missing()]
        if not (area.osm and area.boundaries):
            print(f"{area.name}: niet te vergelijken, ontbreekt: {'; '.join(missing)}")
            continue
        prep = prepare(area)
        for topic in TOPICS:
            cbs_m = read_cbs_distance(area.nabijheid[0], topic)
            if cbs_m.notna().sum() == 0:
                print(f"{area.name} {topic}: CBS publiceert in {area.nabijheid[0].name} geen "
                      "waarden (alle buurten '.')")
                continue
            r = run(prep, profile, categories=[topic])
            ours = r.table.set_index("buurtcode")["mediaan_afstand_m"]
            out = compare_distances(ours, cbs_m)
            print(f"{area.name} {topic}: n={out['n']} buurten, Spearman rho={out['spearman']:.2f} "
                  f"(p={out['p']:.2g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
