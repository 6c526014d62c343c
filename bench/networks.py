"""The real networks the benchmarks can read here, and the largest of them, prepared.

Every area ``layers.datasets.discover`` finds (each network source of a folder is an area: raw
OSM, GraphML, the whole-city Delft way layer, Overpass responses, and the Helsinki demo) is
prepared by ``layers.analysis.prepare``; an area that cannot be prepared is reported and
skipped. :func:`largest_prepared` returns the one with the most network nodes.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path


def largest_prepared(data_dir: Path | None = None, *, area_id: str | None = None):
    """(area, Prepared, seconds its prepare took, lines naming every source and its size) of
    the readable area with the largest network (or of ``area_id``)."""
    from layers.analysis import prepare
    from layers.datasets import discover

    lines: list[str] = []
    best = None
    for area in discover(data_dir, include_demo=True):
        if not area.can_route or (area_id and area.id != area_id):
            continue
        t = time.perf_counter()
        try:
            prep = prepare(area)
        except Exception as exc:  # noqa: BLE001 - a source that cannot be read is skipped
            lines.append(f"bron {area.id}: overgeslagen ({type(exc).__name__}: "
                         f"{str(exc)[:100]})")
            continue
        secs = time.perf_counter() - t
        if not prep.ready or prep.origins is None or prep._access is None:
            lines.append(f"bron {area.id}: niet door te rekenen (geen buurten of plekken)")
            continue
        lines.append(f"bron {area.id}: {prep.net.n_nodes} knopen, {len(prep.places)} plekken, "
                     f"{len(prep.origins)} herkomsten")
        if best is None or prep.net.n_nodes > best[1].net.n_nodes:
            best = (area, prep, secs)
        gc.collect()
    if best is None:
        raise SystemExit("geen leesbaar netwerk gevonden\n" + "\n".join(lines))
    return (*best, lines)
