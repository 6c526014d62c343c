"""Read Overpass API JSON, as osmnx caches it, into an :class:`OsmExtract`.

osmnx stores every Overpass and Nominatim answer in ``cache/<sha1 of the URL>.json``; an analyst
who ran ``graph_from_place``/``features_from_place`` therefore holds real OSM data in files with
meaningless names. They are recognised by content (:func:`overpass_kind`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from geo.errors import InputError
from geo.io import require_readable
from geo.osm import EDGE_TAGS, NODE_TAG_KEYS, OsmExtract, is_walkable
from geo.waylayer import concave_extent

_FIX = "geef een Overpass-antwoord (JSON) zoals osmnx het in zijn cache-map bewaart"

#: JSON files larger than this are not sniffed (osmnx cache files stay well below it)
_SNIFF_MAX_BYTES = 256 * 2**20
_WAY = re.compile(rb'\{\s*"type"\s*:\s*"way"\s*,\s*"id"')
_RELATION = re.compile(rb'\{\s*"type"\s*:\s*"relation"\s*,\s*"id"')
_HIGHWAY = re.compile(rb'"highway"\s*:')
_ELEMENT = re.compile(rb'\{\s*"type"\s*:\s*"(?:node|way|relation)"\s*,\s*"id"')
#: share of ways with a highway tag above which a response is a street network
NETWORK_SHARE = 0.9


def overpass_kind(path: str | Path) -> str | None:
    """``"network"``, ``"features"``, ``"geocode"`` or ``None``, by content only.

    An Overpass response (``{"version": 0.6, ..., "elements": [...]}``) is a *network* when it
    holds ways, no relations, and at least :data:`NETWORK_SHARE` of its ways carry ``highway``
    (Overpass prints nodes, then ways, then relations, so the ``highway`` keys after the first
    way are way tags); any other non-empty response is *features*. A Nominatim search answer
    (a JSON list of results with ``place_id``) is *geocode*. Works on the raw bytes with
    regular expressions: about ten times faster than parsing the JSON.
    """
    p = Path(path)
    try:
        if p.suffix.lower() != ".json" or p.stat().st_size > _SNIFF_MAX_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    head = data[:2048].lstrip()
    if head.startswith(b"[") and b'"place_id"' in head:
        return "geocode"
    if not (head.startswith(b"{") and b'"elements"' in data[:4096]
            and b'"version"' in head):
        return None
    if not _ELEMENT.search(data):
        return None
    first_way = _WAY.search(data)
    relation = _RELATION.search(data)
    if first_way is None or relation is not None:
        return "features"
    n_ways = len(_WAY.findall(data, first_way.start()))
    n_highway = len(_HIGHWAY.findall(data, first_way.start()))
    return "network" if n_highway >= NETWORK_SHARE * n_ways else "features"


def _load(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise InputError(f"Overpass-JSON onleesbaar: {exc}", path=path, fix=_FIX) from exc
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise InputError("geen Overpass-antwoord (no 'elements' list)", path=path, fix=_FIX)
    return data


def read_overpass(
    paths: str | Path | Iterable[str | Path],
    *,
    feature_keys: Collection[str] = ("amenity", "leisure", "social_facility", "club"),
    feature_filter: Callable[[dict[str, str]], bool] | None = None,
    buildings: bool = True,
) -> OsmExtract:
    """Merge one or more Overpass responses into an :class:`OsmExtract`.

    Objects that occur in several responses are taken once; the response with the newest
    ``timestamp_osm_base`` wins. Walkable ``highway`` ways (:func:`geo.osm.is_walkable`) become
    ``ways`` with every tag key the ways carry as a column; nodes, closed ways and
    multipolygon/boundary relations with one of ``feature_keys`` (and passing
    ``feature_filter``) become ``features``; ``building`` areas become ``buildings``.
    Relations are assembled from their member ways by the even-odd rule (rings from
    ``shapely.line_merge``, combined by symmetric difference), which handles holes and islands.
    ``extent`` is the concave hull (ratio :data:`geo.waylayer.HULL_RATIO`) of the way nodes:
    an Overpass answer holds whole ways, so it covers a little more than the queried polygon.
    """
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not files:
        raise InputError("geen Overpass-bestanden opgegeven", fix=_FIX)
    responses = []
    for f in files:
        require_readable(f, what="Overpass-JSON", fix=_FIX)
        data = _load(f)
        responses.append((str(data.get("osm3s", {}).get("timestamp_osm_base", "")), str(f), data))
    responses.sort(key=lambda r: (r[0], r[1]))  # oldest first: newer responses overwrite
    nodes: dict[int, tuple[float, float, dict]] = {}
    ways: dict[int, tuple[list[int], dict]] = {}
    relations: dict[int, tuple[list[dict], dict]] = {}
    for _, _, data in responses:
        for el in data["elements"]:
            kind, oid = el.get("type"), el.get("id")
            if kind == "node" and "lat" in el:
                nodes[oid] = (float(el["lon"]), float(el["lat"]), el.get("tags") or {})
            elif kind == "way":
                ways[oid] = (el.get("nodes") or [], el.get("tags") or {})
            elif kind == "relation":
                relations[oid] = (el.get("members") or [], el.get("tags") or {})
    keys = set(feature_keys)
    skipped = {"ways_with_missing_nodes": 0, "areas_without_geometry": 0, "open_feature_ways": 0}
    way_rows, on_ways = _network_rows(nodes, ways, skipped)
    feat_rows: list[dict] = []
    bld_rows: list[dict] = []

    def add_area(osm_type: str, oid: int, tags: dict, geom: shapely.Geometry) -> None:
        if _is_feature(tags, keys, feature_filter):
            feat_rows.append({"osm_type": osm_type, "osm_id": oid, "tags": tags,
                              "geometry": geom})
        if buildings and "building" in tags:
            bld_rows.append({"osm_type": osm_type, "osm_id": oid, "building": tags["building"],
                             "levels": tags.get("building:levels"),
                             "amenity": tags.get("amenity"), "shop": tags.get("shop"),
                             "office": tags.get("office"), "geometry": geom})

    for oid, (lon, lat, tags) in nodes.items():
        if tags and _is_feature(tags, keys, feature_filter):
            feat_rows.append({"osm_type": "node", "osm_id": oid, "tags": tags,
                              "geometry": shapely.Point(lon, lat)})
    for oid, (refs, tags) in ways.items():
        wanted = _is_feature(tags, keys, None) or (buildings and "building" in tags)
        if not wanted or tags.get("area") == "no":
            continue
        if len(refs) < 4 or refs[0] != refs[-1]:
            skipped["open_feature_ways"] += 1
            continue
        coords = [nodes[r][:2] for r in refs if r in nodes]
        if len(coords) != len(refs):
            skipped["areas_without_geometry"] += 1
            continue
        add_area("way", oid, tags, shapely.Polygon(coords))
    for oid, (members, tags) in relations.items():
        if tags.get("type") not in ("multipolygon", "boundary"):
            continue
        if not (_is_feature(tags, keys, None) or (buildings and "building" in tags)):
            continue
        geom = _relation_polygon(members, ways, nodes)
        if geom is None:
            skipped["areas_without_geometry"] += 1
            continue
        add_area("relation", oid, tags, geom)
    return _extract(files, way_rows, on_ways, nodes, feat_rows, bld_rows, skipped)


def _network_rows(nodes: dict, ways: dict, skipped: dict) -> tuple[list[dict], set[int]]:
    rows: list[dict] = []
    on_ways: set[int] = set()
    for oid, (refs, tags) in ways.items():
        if not is_walkable(tags) or len(refs) < 2:
            continue
        ids = np.asarray(refs, dtype=np.int64)
        lonlat = np.array([nodes[r][:2] if r in nodes else (np.nan, np.nan) for r in refs],
                          dtype=float)
        if np.isnan(lonlat).any():
            skipped["ways_with_missing_nodes"] += 1
        rows.append({"osm_id": oid, "node_ids": ids, "lon": lonlat[:, 0], "lat": lonlat[:, 1],
                     **tags})
        on_ways.update(refs)
    return rows, on_ways


def _extract(files: list[Path], way_rows: list[dict], on_ways: set[int], nodes: dict,
             feat_rows: list[dict], bld_rows: list[dict], skipped: dict) -> OsmExtract:
    fixed = ["osm_id", "node_ids", "lon", "lat"]
    ways = pd.DataFrame(way_rows)
    if ways.empty:
        ways = pd.DataFrame(columns=[*fixed, *EDGE_TAGS])
    else:
        for tag in EDGE_TAGS:  # the profile tags exist as columns even when no way has them
            if tag not in ways.columns:
                ways[tag] = None
        ways = ways[[*fixed, *[c for c in ways.columns if c not in fixed]]]
        ways = ways.astype({c: object for c in ways.columns if c not in fixed})
        ways = ways.where(ways.notna(), None)
    node_tags = {n: nodes[n][2] for n in on_ways
                 if n in nodes and any(k in nodes[n][2] for k in NODE_TAG_KEYS)}
    feats = gpd.GeoDataFrame(feat_rows, columns=["osm_type", "osm_id", "tags", "geometry"],
                             geometry="geometry", crs="EPSG:4326")
    blds = gpd.GeoDataFrame(
        bld_rows, columns=["osm_type", "osm_id", "building", "levels", "amenity", "shop",
                           "office", "geometry"], geometry="geometry", crs="EPSG:4326")
    extent = None
    bounds = None
    if not ways.empty:
        lon = np.concatenate(ways["lon"].to_numpy())
        lat = np.concatenate(ways["lat"].to_numpy())
        bounds = (float(np.nanmin(lon)), float(np.nanmin(lat)), float(np.nanmax(lon)),
                  float(np.nanmax(lat)))
        extent = concave_extent(lon, lat)
    elif len(feats):
        x0, y0, x1, y1 = (float(v) for v in feats.total_bounds)
        bounds = (x0, y0, x1, y1)
    names = ", ".join(f.name for f in files[:3]) + (" …" if len(files) > 3 else "")
    notes = [f"Overpass-antwoorden ({len(files)}: {names}), zoals osmnx ze bewaart."]
    if not ways.empty:
        hw = set(ways["highway"].dropna())
        lacking = [h for h in ("footway", "steps", "path") if h not in hw]
        if lacking:
            notes.append(
                "Het Overpass-netwerk bevat geen highway=" + "/".join(lacking) + ": het is "
                "geen volledig wandelnetwerk (los ingetekende voetpaden en trappen ontbreken), "
                "dus loopafstanden zijn langer dan in werkelijkheid."
            )
    return OsmExtract(files[0] if len(files) == 1 else files[0].parent, ways, node_tags,
                      feats, blds, bounds, skipped, extent=extent, notes=notes)


def _is_feature(tags: dict, keys: set[str],
                feature_filter: Callable[[dict[str, str]], bool] | None) -> bool:
    if not any(k in tags for k in keys):
        return False
    return feature_filter is None or bool(feature_filter(tags))


def _relation_polygon(members: list[dict], ways: dict, nodes: dict) -> shapely.Geometry | None:
    """(Multi)polygon of a multipolygon relation by the even-odd rule; None when its member
    ways are missing or do not close into rings."""
    lines = []
    seen: set = set()
    for m in members:
        if m.get("type") != "way" or m.get("role") not in ("outer", "inner", ""):
            continue
        if m.get("ref") in seen:  # a way listed twice would cancel itself out (even-odd)
            continue
        seen.add(m.get("ref"))
        geom = m.get("geometry")  # Overpass "out geom" puts coordinates on the member
        if geom:
            coords = [(g["lon"], g["lat"]) for g in geom if g]
        else:
            refs = ways.get(m.get("ref"), ([], {}))[0]
            coords = [nodes[r][:2] for r in refs if r in nodes]
            if len(coords) != len(refs):
                return None
        if len(coords) >= 2:
            lines.append(shapely.LineString(coords))
    if not lines:
        return None
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    rings = list(shapely.get_parts(merged))
    if not rings or not all(shapely.is_closed(r) and len(r.coords) >= 4 for r in rings):
        faces = shapely.get_parts(shapely.polygonize(lines))
        if len(faces) == 0:
            return None
        rings = [f.exterior for f in faces]
    polys = [shapely.make_valid(shapely.Polygon(r)) for r in rings]
    area = functools.reduce(shapely.symmetric_difference, polys)  # even-odd rule
    area = shapely.make_valid(area)
    if area.is_empty:
        return None
    if area.geom_type == "GeometryCollection":
        area = shapely.union_all([g for g in shapely.get_parts(area)
                                  if g.geom_type in ("Polygon", "MultiPolygon")])
    return area


def read_geocode_polygon(path: str | Path) -> gpd.GeoSeries:
    """The first polygon result of a Nominatim answer (e.g. the gemeente outline), EPSG:4326.

    The GeoSeries is indexed by ``"<osm_type>/<osm_id>"`` and carries the display name in
    ``attrs["name"]``.
    """
    fix = "geef een Nominatim-antwoord met polygon_geojson=1 (zoals osmnx het bewaart)"
    p = require_readable(path, what="Nominatim-antwoord", fix=fix)
    try:
        data = json.loads(p.read_bytes())
    except ValueError as exc:
        raise InputError(f"Nominatim-antwoord onleesbaar: {exc}", path=p, fix=fix) from exc
    if not isinstance(data, list):
        raise InputError("geen Nominatim-antwoord (geen lijst van resultaten)", path=p, fix=fix)
    for res in data:
        gj = res.get("geojson") if isinstance(res, dict) else None
        if gj and gj.get("type") in ("Polygon", "MultiPolygon"):
            geom = shapely.geometry.shape(gj)
            s = gpd.GeoSeries([geom], index=[f"{res.get('osm_type')}/{res.get('osm_id')}"],
                              crs="EPSG:4326")
            s.attrs["name"] = res.get("display_name")
            return s
    raise InputError("het Nominatim-antwoord bevat geen polygoon (no polygon result)", path=p,
                     fix=fix)
