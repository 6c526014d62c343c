"""Cost of the gap areas (homes beyond reach, 30 m discs dissolved) on the whole of Delft's way
layer, per profile: the traced union of :mod:`geo.discs` against the shapely buffer union it
replaced (16-gon per home, ``union_all``), median of 5 in cpu time. Usage:

    .venv/bin/python bench/gaps.py

Prints one line per profile (homes beyond reach, both times, areas, land in ha) and a last
``ratios:`` line (buffer union time / traced time).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shapely  # noqa: E402

from geo.discs import disc_union  # noqa: E402
from geo.profiles import load_profiles  # noqa: E402
from layers.analysis import prepare, run  # noqa: E402
from layers.outputs import GAP_BUFFER_M  # noqa: E402
from tests.layers.real_data import delft_city  # noqa: E402

REPEAT = 5


def median_cpu(f):
    times, out = [], None
    for _ in range(REPEAT):
        t = time.process_time()
        out = f()
        times.append(time.process_time() - t)
    return statistics.median(times), out


def main() -> None:
    prep = prepare(delft_city())
    ratios = []
    for pid, profile in load_profiles()[0].items():
        r = run(prep, profile)
        o = r.origins
        far = o[(o["dist_m"] > profile.max_distance_m) & (o[prep.weight_col] > 0)]
        x, y = far["x"].to_numpy(), far["y"].to_numpy()
        t_new, new = median_cpu(lambda x=x, y=y: disc_union(x, y, GAP_BUFFER_M))
        t_old, old = median_cpu(lambda x=x, y=y: shapely.union_all(
            shapely.buffer(shapely.points(x, y), GAP_BUFFER_M, quad_segs=4)))
        ratios.append(t_old / t_new)
        print(f"{pid:<10} {len(far):>6} homes beyond reach: traced {t_new * 1000:6.0f} ms, "
              f"{len(new)} areas, {shapely.area(new).sum() / 1e4:.1f} ha; buffer union "
              f"{t_old * 1000:6.0f} ms, {len(shapely.get_parts(old))} areas, "
              f"{old.area / 1e4:.1f} ha")
    print("ratios: " + " ".join(f"{q:.1f}" for q in ratios))


if __name__ == "__main__":
    main()
