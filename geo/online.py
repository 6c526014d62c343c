"""The online path: OSM for a polygon through osmnx, behind an on-disk cache.

osmnx queries Overpass by *polygon* (``graph_from_polygon``, ``features_from_polygon``), never by
place name: the caller passes the area it needs, e.g. the gemeente buffered by the largest
walking limit (:func:`query_polygon`), so paths and places across the border are fetched too.
osmnx keeps its raw answers (Overpass JSON, one file per request named by the SHA-1 of the
request URL) in ``<cache>/osmnx/``; our own result is a *bundle* folder ``<cache>/osm/<slug>/``
holding ``network.graphml``, ``features.gpkg`` and ``meta.json`` (place, source, date, the
extent it covers). The bundle is written to a temporary folder and renamed into place only when
complete, so a failed download never leaves a partial bundle. :func:`read_bundle` turns a
bundle into the same :class:`~geo.osm.OsmExtract` a local file gives, so one network builder
serves both.

No test reaches the internet: the tests feed osmnx real recorded Overpass answers through its
own cache (``tests/overpass_replay.py``), or pass fetchers that read a local OSM file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo.errors import InputError, ServiceUnavailableError
from geo.osm import EDGE_TAGS, OsmExtract, is_walkable

#: Folder under the cache where osmnx keeps its raw Overpass/Nominatim answers.
OSMNX_CACHE = "osmnx"
RD_EPSG = 28992

GraphFetcher = Callable[[str], nx.MultiDiGraph]
FeatureFetcher = Callable[[str, dict], gpd.GeoDataFrame]

OFFLINE_FIX = (
    "werk offline: zet een OSM-extract (.osm.pbf) van het gebied in de datamap "
    "(bijvoorbeeld een uitsnede van download.geofabrik.de), of probeer het later opnieuw"
)


def slug(place: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", place.lower()).strip("-")
    return s or "gebied"


@contextlib.contextmanager
def osmnx_settings(cache_dir: Path) -> Iterator[None]:
    """Ask osmnx to keep the way tags the profiles need and to keep its raw answers in
    ``<cache_dir>/osmnx/`` (not in ``./cache`` of whatever folder the user runs from); restore
    its settings afterwards (osmnx's settings are process-wide)."""
    import osmnx as ox

    before = (list(ox.settings.useful_tags_way), ox.settings.cache_folder, ox.settings.use_cache)
    ox.settings.useful_tags_way = list(dict.fromkeys([*before[0], *EDGE_TAGS]))
    ox.settings.cache_folder = str(Path(cache_dir) / OSMNX_CACHE)
    ox.settings.use_cache = True
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.cache_folder, ox.settings.use_cache = before


def query_polygon(areas: gpd.GeoDataFrame | gpd.GeoSeries, *,
                  border_m: float) -> Polygon | MultiPolygon:
    """The union of ``areas`` (any CRS) grown by ``border_m`` metres, in WGS84 for osmnx.

    Buffered in RD New (EPSG:28992), the metric CRS of the Dutch data (holes narrower than
    twice the border close). Raises InputError for empty or CRS-less input."""
    if areas.crs is None or areas.empty:
        raise InputError("geen gebied om OSM voor op te halen (leeg of zonder CRS)",
                         fix="geef buurtgrenzen met een coördinatenstelsel")
    rd = areas.to_crs(RD_EPSG)
    grown = shapely.make_valid(rd.union_all()).buffer(border_m)
    return gpd.GeoSeries([grown], crs=RD_EPSG).to_crs(4326).iloc[0]


def polygon_fetchers(polygon: Polygon | MultiPolygon) -> tuple[GraphFetcher, FeatureFetcher]:
    """osmnx fetchers for ``polygon`` (WGS84). The network is unsimplified (every OSM node) and
    keeps segments with one end inside (``truncate_by_edge``), so a path that crosses the edge
    of the polygon is not cut off at its last inner node. A feature query that matches nothing
    gives an empty frame, not an error: an area may simply have no such places."""

    def graph(_place: str) -> nx.MultiDiGraph:
        import osmnx as ox

        return ox.graph_from_polygon(polygon, network_type="walk", simplify=False,
                                     retain_all=True, truncate_by_edge=True)

    def features(_place: str, tags: dict) -> gpd.GeoDataFrame:
        import osmnx as ox

        # osmnx 2.x has no public name for "no matching features"
        from osmnx._errors import InsufficientResponseError

        try:
            return ox.features_from_polygon(polygon, tags=tags)
        except InsufficientResponseError:
            return gpd.GeoDataFrame({"element": [], "id": []}, geometry=[], crs=4326)

    return graph, features


def bundle_dir(cache_dir: Path, place: str) -> Path:
    return Path(cache_dir) / "osm" / slug(place)


def fetch_bundle(
    place: str,
    *,
    cache_dir: Path,
    feature_tags: dict,
    polygon: Polygon | MultiPolygon | None = None,
    extent: dict | None = None,
    fetch_graph: GraphFetcher | None = None,
    fetch_features: FeatureFetcher | None = None,
    refresh: bool = False,
) -> Path:
    """Return the cached bundle for ``place``, downloading it first when absent.

    ``polygon`` (WGS84) is what osmnx asks Overpass for (see :func:`polygon_fetchers`);
    ``fetch_graph``/``fetch_features`` replace those fetchers. ``extent`` (e.g. the border in
    metres) is recorded in ``meta.json``; a cached bundle made for another extent is fetched
    again. Raises :class:`ServiceUnavailableError` (naming the service and how to work offline)
    when a download fails; the cache then holds no partial bundle and an older bundle stays
    intact.
    """
    target = bundle_dir(cache_dir, place)
    if _bundle_fits(target, extent) and not refresh:
        return target
    by_polygon = polygon_fetchers(polygon) if polygon is not None else (None, None)
    fetch_graph = fetch_graph or by_polygon[0]
    fetch_features = fetch_features or by_polygon[1]
    if fetch_graph is None:
        raise _no_polygon(place)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            with osmnx_settings(cache_dir):
                graph = fetch_graph(place)
        except Exception as exc:  # osmnx raises requests/HTTP/geocoder errors
            raise ServiceUnavailableError(
                f"OpenStreetMap (Overpass/Nominatim via osmnx) gaf geen netwerk voor "
                f"{place!r}: {exc} — {OFFLINE_FIX}"
            ) from exc
        if fetch_features is None:
            raise _no_polygon(place)
        try:
            with osmnx_settings(cache_dir):
                features = fetch_features(place, feature_tags)
        except Exception as exc:
            raise ServiceUnavailableError(
                f"OpenStreetMap (Overpass via osmnx) gaf geen voorzieningen voor {place!r}: "
                f"{exc} — {OFFLINE_FIX}"
            ) from exc
        import osmnx as ox

        ox.save_graphml(graph, tmp / "network.graphml")
        _save_features(features, tmp / "features.gpkg")
        meta = {"place": place, "source": "OpenStreetMap via osmnx (Overpass API)",
                "licence": "ODbL 1.0, © OpenStreetMap-bijdragers",
                "downloaded": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "extent": extent or {}}
        if polygon is not None:
            meta["polygon_bounds_wgs84"] = [round(v, 6) for v in polygon.bounds]
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _no_polygon(place: str) -> InputError:
    return InputError(f"geen gebied opgegeven om OSM voor {place!r} op te halen",
                      fix="geef het gebied als polygoon (osmnx vraagt per polygoon)")


def _bundle_fits(folder: Path, extent: dict | None) -> bool:
    """Whether a complete bundle exists and was made for ``extent`` (None: any extent)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return extent is None or meta.get("extent", {}) == extent


def _save_features(features: gpd.GeoDataFrame, path: Path) -> None:
    """Store features with all their tags as one JSON column (GPKG columns are fixed)."""
    f = features.reset_index()
    tag_cols = [c for c in f.columns if c not in ("element", "id", "geometry", "element_type",
                                                  "osmid")]
    out = gpd.GeoDataFrame(
        {
            "osm_type": f.get("element", f.get("element_type", "node")),
            "osm_id": f.get("id", f.get("osmid", 0)).astype("int64"),
            "tags": [json.dumps({k: str(v) for k, v in row.items() if pd.notna(v)})
                     for row in f[tag_cols].to_dict(orient="records")],
        },
        geometry=f.geometry.values,
        crs=features.crs or "EPSG:4326",
    ).to_crs(4326)
    out.to_file(path, layer="features", driver="GPKG", engine="pyogrio")


def read_bundle(folder: Path) -> OsmExtract:
    """An :class:`OsmExtract` from a cached bundle (ways from the graph, features, buildings)."""
    import osmnx as ox

    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        raise InputError("onvolledige download (meta.json ontbreekt)", path=folder,
                         fix="verwijder de map en download opnieuw")
    g = ox.load_graphml(folder / "network.graphml")
    rows = []
    seen: set[tuple[int, int, str]] = set()
    for u, v, data in g.edges(data=True):
        tags = {k: (str(data[k]) if data.get(k) is not None else None) for k in EDGE_TAGS}
        if not is_walkable({k: v for k, v in tags.items() if v is not None}):
            continue
        osmid = data.get("osmid")
        key = (min(u, v), max(u, v), str(osmid))
        if key in seen:
            continue  # osmnx stores both directions of a two-way street
        seen.add(key)
        rows.append({"osm_id": int(osmid[0] if isinstance(osmid, list) else osmid),
                     "node_ids": np.array([u, v], dtype=np.int64),
                     "lon": np.array([g.nodes[u]["x"], g.nodes[v]["x"]], dtype=float),
                     "lat": np.array([g.nodes[u]["y"], g.nodes[v]["y"]], dtype=float),
                     **tags})
    ways = pd.DataFrame(rows, columns=["osm_id", "node_ids", "lon", "lat", *EDGE_TAGS])
    node_tags = {int(n): {k: str(d[k]) for k in ("highway", "kerb", "barrier") if k in d}
                 for n, d in g.nodes(data=True)
                 if any(k in d for k in ("highway", "kerb", "barrier"))}
    feats = gpd.read_file(folder / "features.gpkg", layer="features", engine="pyogrio")
    feats["tags"] = feats["tags"].map(json.loads)
    is_bld = feats["tags"].map(lambda t: "building" in t) & feats.geom_type.isin(
        ["Polygon", "MultiPolygon"])
    b = feats[is_bld]
    buildings = gpd.GeoDataFrame(
        {"osm_type": b["osm_type"], "osm_id": b["osm_id"],
         "building": b["tags"].map(lambda t: t.get("building")),
         "levels": b["tags"].map(lambda t: t.get("building:levels")),
         "amenity": b["tags"].map(lambda t: t.get("amenity")),
         "shop": b["tags"].map(lambda t: t.get("shop")),
         "office": b["tags"].map(lambda t: t.get("office"))},
        geometry=b.geometry.values, crs=4326)
    features = feats[["osm_type", "osm_id", "tags", "geometry"]].reset_index(drop=True)
    bounds = tuple(float(v) for v in features.total_bounds) if len(features) else None
    return OsmExtract(folder, ways, node_tags, features, buildings, bounds, {})
