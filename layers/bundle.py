"""A municipality's ready-to-use bundle: an area folder under ``<cache>/gebieden/<id>/`` that
:func:`layers.datasets.discover` picks up by content, built from local files or online.

Every input is read once before anything is written (bad input raises InputError naming the
file), then copied into a temporary folder renamed into place, with ``meta.json`` recording
each file's source and date. Online: buurten and residents from PDOK (:mod:`geo.pdok`), OSM via
osmnx for the buurten's outline grown by :func:`border_m` (:mod:`geo.online`), both cached;
local CBS tables of the same gemeente in the data folder are copied along.

Residents cross municipal borders, so the OSM network and places are fetched for the gemeente
plus a border, not clipped at it. The border is derived, not a constant: the largest walking
limit of the profiles (``data/profiles.toml``; today ``fit``, 4.8 km/h x 10 min = 800 m) plus
:data:`~layers.analysis.MAX_SNAP_M` (250 m). A home inside the gemeente reaches only paths and
places within its walking limit in a straight line (the network distance is never shorter), and
a place up to 250 m off its path still snaps onto it; together 1,050 m today. A profile made
longer by hand in the dashboard can reach beyond: those homes then lie within their limit of
the data's edge.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from geo.boundaries import read_boundaries
from geo.errors import InputError
from geo.facilities import read_facility_list
from geo.io import require_readable
from geo.online import FeatureFetcher, GraphFetcher, fetch_bundle, polygon_fetchers, query_polygon
from geo.osm import OSM_SUFFIXES, is_osm_file
from geo.pdok import DEFAULT_YEAR, fetch_buurten, gemeente_of
from geo.population import read_kerncijfers
from geo.profiles import Profile, load_profiles
from layers.analysis import MAX_SNAP_M
from layers.datasets import AreaData, discover, prepared_dir, scan_folder
from layers.taxonomy import load_taxonomy


def border_m(profiles: dict[str, Profile] | None = None) -> float:
    """How far beyond the municipal border OSM is fetched, m: the largest walking limit of
    ``profiles`` (default: ``data/profiles.toml``) plus the snapping distance (see above)."""
    profs = profiles if profiles is not None else load_profiles()[0]
    return max(p.max_distance_m for p in profs.values()) + MAX_SNAP_M

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def area_id(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not s or not _ID.match(s):
        raise InputError(f"ongeldige gebiedsnaam {name!r}",
                         fix="gebruik letters, cijfers en streepjes, bijvoorbeeld utrecht")
    return s


def _check(role: str, path: Path) -> None:
    """Read a local input once so bad input fails before anything is written."""
    if role == "osm":
        require_readable(path, what="OSM-extract", fix="geef een .osm.pbf-bestand op")
        if not is_osm_file(path):
            raise InputError("geen OSM-bestand (verwacht " + ", ".join(OSM_SUFFIXES) + ")",
                             path=path, fix="geef een .osm.pbf-extract op, bijvoorbeeld van "
                                            "download.geofabrik.de")
    elif role == "buurten":
        read_boundaries(path)
    elif role == "bevolking":
        read_kerncijfers(path)
    elif role == "voorzieningen":
        read_facility_list(path)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_area(aid: str, files: dict[str, list[Path]], *, cache_dir: Path,
               extra_meta: dict | None = None,
               check: Callable[[AreaData], object] | None = None) -> AreaData:
    """Put ``files`` (role -> paths) into the area folder ``aid``, replacing an older one.

    ``check`` (e.g. :func:`layers.analysis.prepare`) runs on the complete folder before it is
    moved into place; when it raises, nothing is left behind and an older folder stays."""
    target = prepared_dir(cache_dir) / aid
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{aid}.", dir=target.parent))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    record: dict = {"id": aid, "gemaakt": now, "bestanden": {}, **(extra_meta or {})}
    try:
        for role, paths in files.items():
            for i, src in enumerate(paths):
                name = f"{role}_{i}_{src.name.lstrip('.')}"
                _link_or_copy(src, tmp / name)
                record["bestanden"][name] = {"rol": role, "bron": str(src)}
        (tmp / "meta.json").write_text(json.dumps(record, indent=2, ensure_ascii=False),
                                       encoding="utf-8")
        if check is not None:
            check(scan_folder(tmp))
        old = target.with_name(f".{aid}.old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return scan_folder(target)


def area_from_files(name: str, *, osm: Path, cache_dir: Path, buurten: Path | None = None,
                    bevolking: Path | None = None,
                    voorzieningen: list[Path] | None = None,
                    check: Callable[[AreaData], object] | None = None) -> AreaData:
    """An area folder from local files (OSM required; the rest optional); see
    :func:`write_area` for ``check``."""
    aid = area_id(name)
    files: dict[str, list[Path]] = {"osm": [Path(osm)]}
    for role, p in (("buurten", buurten), ("bevolking", bevolking)):
        if p is not None:
            files[role] = [Path(p)]
    if voorzieningen:
        files["voorzieningen"] = [Path(p) for p in voorzieningen]
    for role, paths in files.items():
        for p in paths:
            _check(role, p)
    return write_area(aid, files, cache_dir=cache_dir, check=check)


#: osmnx fetchers for a polygon (the municipality plus a border), never by place name.
osm_fetchers_for = polygon_fetchers


def _local_tables(gemeente_naam: str, data_dir: Path | None) -> dict[str, list[Path]]:
    """CBS tables and own lists already in the data folder for this gemeente."""
    want = gemeente_naam.strip().lower()
    for a in discover(data_dir, include_demo=False, cache_dir=Path(tempfile.gettempdir())):
        if a.name.strip().lower() == want or a.id == area_id(gemeente_naam):
            out = {"bevolking": a.population[:1], "voorzieningen": a.facilities,
                   "nabijheid": a.nabijheid}
            return {k: v for k, v in out.items() if v}
    return {}


def area_online(
    gemeente: str,
    *,
    cache_dir: Path,
    data_dir: Path | None = None,
    year: int = DEFAULT_YEAR,
    pdok_url: str | None = None,
    session=None,
    osm_fetchers: Callable[[object], tuple[GraphFetcher, FeatureFetcher]] = osm_fetchers_for,
    border: float | None = None,
    progress: Callable[[float, str], None] = lambda f, t: None,
) -> tuple[AreaData, list[str]]:
    """An area folder for a gemeente (code ``GM0344`` or name) from PDOK and OSM, both cached.

    OSM is fetched for the buurten's outline grown by ``border`` metres (default
    :func:`border_m`). Returns the area and Dutch notices (e.g. "gegevens van <datum>" when an
    older cached copy stood in for a failed download).
    """
    notices = []
    progress(0.05, "Buurten en inwoners ophalen bij PDOK")
    item = fetch_buurten(gemeente, cache_dir=cache_dir, year=year, base_url=pdok_url,
                         session=session)
    if item.notice:
        notices.append(item.notice)
    code, naam = gemeente_of(item)
    progress(0.3, f"OSM ophalen voor {naam}")
    grens = border_m() if border is None else float(border)
    outline = query_polygon(gpd.read_file(item.path, engine="pyogrio"), border_m=grens)
    graph, features = osm_fetchers(outline)
    tax = load_taxonomy()
    tags = {**{k: True for k in tax.osm_keys}, "building": True}
    bundle = fetch_bundle(naam, cache_dir=cache_dir, feature_tags=tags, polygon=outline,
                          extent={"gemeentecode": code, "grens_m": grens},
                          fetch_graph=graph, fetch_features=features)
    bundle_meta = json.loads((bundle / "meta.json").read_text(encoding="utf-8"))
    progress(0.9, "Gebiedsmap schrijven")
    files = {"buurten": [item.path], **_local_tables(naam, data_dir)}
    meta = {"gemeentecode": code, "gemeentenaam": naam, "osm_grens_m": grens,
            "bronnen": {"buurten": item.meta, "osm": bundle_meta}}
    area = write_area(area_id(naam), files, cache_dir=cache_dir, extra_meta=meta)
    area.osm.append(bundle)
    return area, notices
