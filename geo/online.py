"""The online path: OSM by place name through osmnx, behind an on-disk cache.

A download is stored as a *bundle* folder ``<cache>/osm/<slug>/`` holding ``network.graphml``,
``features.gpkg`` and ``meta.json`` (place, source, date). The bundle is written to a temporary
folder and renamed into place only when complete, so a failed download never leaves a partial
bundle. :func:`read_bundle` turns a bundle into the same :class:`~geo.osm.OsmExtract` a local
file gives, so one network builder serves both.

No test reaches the internet: the fetchers are parameters, and the tests pass fetchers that read
real local OSM data through osmnx's own XML reader.
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

from geo.errors import InputError, ServiceUnavailableError
from geo.osm import EDGE_TAGS, OsmExtract, is_walkable

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
def _osmnx_tags() -> Iterator[None]:
    """Ask osmnx to keep the way tags the profiles need; restore its settings afterwards."""
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*before, *EDGE_TAGS]))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = before


def osmnx_graph_by_place(place: str) -> nx.MultiDiGraph:
    """Walkable network of a place from Overpass via osmnx (unsimplified: every OSM node).
    :func:`fetch_bundle` makes osmnx keep the way tags the profiles need."""
    import osmnx as ox

    return ox.graph_from_place(place, network_type="walk", simplify=False, retain_all=True)


def osmnx_features_by_place(place: str, tags: dict) -> gpd.GeoDataFrame:
    import osmnx as ox

    return ox.features_from_place(place, tags=tags)


def bundle_dir(cache_dir: Path, place: str) -> Path:
    return Path(cache_dir) / "osm" / slug(place)


def fetch_bundle(
    place: str,
    *,
    cache_dir: Path,
    feature_tags: dict,
    fetch_graph: GraphFetcher = osmnx_graph_by_place,
    fetch_features: FeatureFetcher = osmnx_features_by_place,
    refresh: bool = False,
) -> Path:
    """Return the cached bundle for ``place``, downloading it first when absent.

    Raises :class:`ServiceUnavailableError` (naming the service and how to work offline) when a
    download fails; the cache then holds no partial bundle and an older bundle stays intact.
    """
    target = bundle_dir(cache_dir, place)
    if (target / "meta.json").exists() and not refresh:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            with _osmnx_tags():
                graph = fetch_graph(place)
        except Exception as exc:  # osmnx raises requests/HTTP/geocoder errors
            raise ServiceUnavailableError(
                f"OpenStreetMap (Overpass/Nominatim via osmnx) gaf geen netwerk voor "
                f"{place!r}: {exc} — {OFFLINE_FIX}"
            ) from exc
        try:
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
                "downloaded": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
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
