"""Cut one area out of a big network source (a national OSM extract or a GIS way layer).

A raw OSM file is cut to a lon/lat box: with osmium-tool when it is installed (``osmium extract``,
libosmium in C++; :func:`cut_osm_many` cuts every gemeente of a national file in one pass over
it, as a national run needs), else with pyosmium in one pass per box that keeps the nodes
inside the box, the ways with at least two of them (clipped to those nodes, as an extract
border clips them) and the relations that name a kept member. A way layer is read through the
box and clipped to the polygon with geopandas. The result is written atomically, so a cut that
exists is complete and is never made twice.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import osmium
import shapely

from geo.errors import InputError
from geo.io import atomic_path

#: lon/lat box: (west, south, east, north).
Box = tuple[float, float, float, float]


def cut_osm(src: str | Path, dst: str | Path, box: Box, *, tool: bool = True) -> Path:
    """Cut the raw OSM file ``src`` to ``box`` into ``dst`` (``.osm.pbf``); returns ``dst``.

    ``tool=False`` forces the pyosmium path even where osmium-tool is installed.
    """
    src, dst = Path(src), Path(dst)
    west, south, east, north = box
    exe = shutil.which("osmium") if tool else None
    with atomic_path(dst) as tmp:  # a temporary name ending in .pbf
        if exe:
            subprocess.run([exe, "extract", "--bbox", f"{west},{south},{east},{north}",
                            "--strategy", "complete_ways", "--overwrite", "-f", "pbf",
                            "-o", str(tmp), str(src)], check=True, capture_output=True)
        else:
            _cut_pyosmium(src, tmp, box)
    return dst


def cut_osm_many(src: str | Path, jobs: list[tuple[Path, Box]], *, tool: bool = True) -> None:
    """Cut ``src`` to many boxes (``(dst, box)`` pairs): with osmium-tool in ONE pass over the
    file for all of them (``osmium extract --config``), else one pyosmium pass per box. Each
    output appears atomically, complete or not at all."""
    import json
    import tempfile

    src = Path(src)
    exe = shutil.which("osmium") if tool else None
    if not exe or len(jobs) < 2:
        for dst, box in jobs:
            cut_osm(src, dst, box, tool=tool)
        return
    with tempfile.TemporaryDirectory(prefix="uitsnede-") as tmp_dir:
        tmp = Path(tmp_dir)
        cfg = {"directory": str(tmp), "extracts": [
            {"output": f"{i}.osm.pbf", "output_format": "pbf", "bbox": list(box)}
            for i, (_, box) in enumerate(jobs)]}
        (tmp / "extracts.json").write_text(json.dumps(cfg), encoding="utf-8")
        subprocess.run([exe, "extract", "--config", str(tmp / "extracts.json"), "--strategy",
                        "complete_ways", "--overwrite", str(src)], check=True,
                       capture_output=True)
        for i, (dst, _) in enumerate(jobs):
            with atomic_path(dst) as part:
                shutil.move(str(tmp / f"{i}.osm.pbf"), part)


def _cut_pyosmium(src: Path, dst: Path, box: Box) -> None:
    west, south, east, north = box
    nodes: set[int] = set()
    ways: set[int] = set()
    try:
        with osmium.SimpleWriter(str(dst)) as w:
            for obj in osmium.FileProcessor(str(src)):
                if isinstance(obj, osmium.osm.Node):
                    loc = obj.location
                    if loc.valid() and west <= loc.lon <= east and south <= loc.lat <= north:
                        nodes.add(obj.id)
                        w.add(obj)
                elif isinstance(obj, osmium.osm.Way):
                    refs = [n.ref for n in obj.nodes if n.ref in nodes]
                    if len(refs) >= 2:
                        ways.add(obj.id)
                        w.add(obj if len(refs) == len(obj.nodes) else obj.replace(nodes=refs))
                elif isinstance(obj, osmium.osm.Relation) and any(
                        (m.type == "w" and m.ref in ways) or (m.type == "n" and m.ref in nodes)
                        for m in obj.members):
                    w.add(obj)
    except RuntimeError as exc:  # libosmium reports corrupt or truncated files this way
        raise InputError(f"OSM-bestand kan niet gelezen worden ({exc})", path=src,
                         fix="download het extract opnieuw") from exc


def cut_way_layer(src: str | Path, dst: str | Path, polygon_lonlat: shapely.Geometry) -> Path:
    """The lines of the way layer ``src`` within ``polygon_lonlat`` (WGS84), clipped to it,
    written to ``dst`` (GeoPackage, the layer's own CRS and columns)."""
    src, dst = Path(src), Path(dst)
    import pyogrio

    info = pyogrio.read_info(src)
    crs = info.get("crs") or "EPSG:4326"
    poly = gpd.GeoSeries([polygon_lonlat], crs=4326).to_crs(crs).iloc[0]
    ways = gpd.read_file(src, bbox=tuple(poly.bounds))
    ways = gpd.clip(ways, poly)
    ways = ways[~ways.geometry.is_empty & ways.geometry.notna()]
    with atomic_path(dst) as tmp:
        ways.to_file(tmp, driver="GPKG", layer=Path(dst).stem)
    return dst
