"""Read a GIS line layer of OSM ways (GeoPackage, GeoJSON, Shapefile) into an :class:`OsmExtract`.

Analysts often hold OpenStreetMap roads as a line layer exported by QGIS (QuickOSM), ogr2ogr or
geopandas: one feature per way with ``osm_id``, ``highway`` and some tag columns, but no node
ids. OSM ways meet only at shared nodes, and an export keeps every node as a vertex, so the
network is rebuilt from **shared vertices**: coordinates are snapped to a 1 cm grid in a metric
CRS (RD New in the Netherlands, else UTM) and equal grid points become one synthetic node
(negative id). Crossing lines without a shared vertex (bridges, tunnels) stay unconnected, as in
OSM. MultiLineStrings are split into their parts, each part one way with the feature's
``osm_id`` and tags. Every column of the layer is kept as a tag column.

The extent is the concave hull of the vertices (``shapely.concave_hull``, ratio
:data:`HULL_RATIO`): a layer does not state its area, and such exports are usually clipped to a
municipality, which a convex hull would overstate.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from geo.errors import InputError
from geo.io import require_readable
from geo.network import metric_crs_for
from geo.osm import EDGE_TAGS, OsmExtract, is_walkable

#: file types read as GIS layers
LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".zip")
#: snapping grid for shared vertices, in metres
GRID_M = 0.01
#: ``shapely.concave_hull`` ratio for extents (0 = tightest, 1 = convex hull); 0.1 follows a
#: clipped municipal outline without cutting into blocks between streets
HULL_RATIO = 0.1
_LINE_TYPES = frozenset({"LineString", "MultiLineString"})
#: what each profile tag means for the user when a layer lacks it (Dutch)
_MISSING_MEANING = {
    "foot": "paden die voor voetgangers verboden zijn (foot=no) tellen mee als beloopbaar",
    "access": "privéwegen en afgesloten terreinen (access=private/no) tellen mee als beloopbaar",
    "sidewalk": "onbekend is of een straat een stoep heeft",
    "footway": "stoepen en oversteekplaatsen (footway=sidewalk/crossing) zijn niet te "
    "onderscheiden",
    "wheelchair": "het rolstoelprofiel kan ontoegankelijke stukken niet mijden",
    "smoothness": "hobbelige verharding is niet te mijden",
    "incline": "steile hellingen zijn niet te mijden",
    "step_count": "het aantal treden van trappen is onbekend",
    "lit": "verlichting is onbekend",
}


def layer_infos(path: str | Path) -> list[dict]:
    """``pyogrio.read_info`` of every layer of a GIS file (schema only, no features); ``[]``
    when the file is not a GIS layer. Each dict gains ``layer`` and ``source`` (GDAL path).
    Cached per (path, size, modification time): discovery asks several predicates per file."""
    p = Path(path)
    if p.suffix.lower() not in LAYER_SUFFIXES or not p.is_file():
        return []
    st = p.stat()
    return [dict(i) for i in _layer_infos(str(p.resolve()), st.st_size, st.st_mtime_ns)]


@functools.lru_cache(maxsize=512)
def _layer_infos(path: str, size: int, mtime_ns: int) -> tuple[dict, ...]:
    p = Path(path)
    suffix = p.suffix.lower()
    src = str(p)
    try:
        if suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
            if not shps:
                return ()
            src = f"/vsizip/{p}/{shps[0]}"
        layers = [str(row[0]) for row in pyogrio.list_layers(src)]
        out = []
        for layer in layers:
            info = dict(pyogrio.read_info(src, layer=layer))
            info.update(layer=layer, source=src)
            out.append(info)
        return tuple(out)
    except Exception:  # pyogrio raises DataSourceError and friends for non-GIS files
        return ()


def base_geometry_type(info: dict) -> str:
    """``'MultiLineString Z'`` -> ``'MultiLineString'``."""
    return str(info.get("geometry_type") or "").split(" ")[0]


def _way_layer(path: str | Path) -> dict | None:
    for info in layer_infos(path):
        fields = {str(f).lower() for f in info.get("fields", [])}
        if base_geometry_type(info) in _LINE_TYPES and "highway" in fields:
            return info
    return None


def is_way_layer(path: str | Path) -> bool:
    """A GIS line layer with a ``highway`` column (any CRS, any extension GDAL reads)."""
    return _way_layer(path) is not None


def read_layer_4326(path: Path, info: dict, *, what: str, fix: str) -> gpd.GeoDataFrame:
    """Read one layer and bring it to EPSG:4326; a layer without CRS must be in lon/lat, and
    a GeoJSON in RD New without ``crs`` member (common in NL) is recognised by its range."""
    try:
        gdf = pyogrio.read_dataframe(info["source"], layer=info["layer"])
    except Exception as exc:
        raise InputError(f"{what} onleesbaar: {exc}", path=path, fix=fix) from exc
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        raise InputError(f"{what} bevat geen geometrieën", path=path, fix=fix)
    minx, miny, maxx, maxy = gdf.total_bounds
    lonlat_range = bool(minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90)
    crs = gdf.crs
    if crs is None or (crs.equals("EPSG:4326") and not lonlat_range):
        if lonlat_range:
            gdf = gdf.set_crs(4326, allow_override=True)
        elif minx >= 0 and maxx <= 300_000 and miny >= 300_000 and maxy <= 625_000:
            gdf = gdf.set_crs(28992, allow_override=True)  # RD New without crs member
        else:
            raise InputError(f"{what}: onbekend coördinatenstelsel (no CRS)", path=path,
                             fix="sla de laag op met een CRS (bijv. EPSG:28992 of EPSG:4326)")
    return gdf.to_crs(4326)


def concave_extent(lon: np.ndarray, lat: np.ndarray, *, ratio: float = HULL_RATIO
                   ) -> shapely.Geometry | None:
    """Concave hull of points (EPSG:4326), computed on the points rounded to 1e-4 degree
    (about 10 m; a tenth of the points, the same outline within metres)."""
    ok = ~(np.isnan(lon) | np.isnan(lat))
    pts = np.unique(np.round(np.c_[lon[ok], lat[ok]], 4), axis=0)
    if len(pts) < 3:
        return None
    return shapely.concave_hull(shapely.multipoints(pts), ratio=ratio)


def read_way_layer(path: str | Path) -> OsmExtract:
    """Walkable ways of a GIS line layer with a ``highway`` column, joined at shared vertices.

    Returns an :class:`OsmExtract` whose ``node_ids`` are synthetic (negative) ids of 1 cm grid
    points; ``osm_id`` comes from the layer's ``osm_id`` column when it holds integers.
    ``notes`` says in Dutch which profile tags the layer lacks and what that means.
    """
    fix = "geef een lijnenlaag (GeoPackage/GeoJSON/shapefile) met een kolom highway"
    p = require_readable(path, what="wegenlaag", fix=fix)
    info = _way_layer(p)
    if info is None:
        raise InputError("geen lijnenlaag met een kolom highway (not a way layer)", path=p, fix=fix)
    gdf = read_layer_4326(p, info, what="wegenlaag", fix=fix)
    gdf = gdf[gdf.geom_type.isin(list(_LINE_TYPES))].reset_index(drop=True)
    cols = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
    hw = cols["highway"]
    if hw != "highway":
        gdf = gdf.rename(columns={hw: "highway"})
    tag_cols = [c for c in gdf.columns if c not in (gdf.geometry.name, "osm_id")]
    tags_frame = gdf[tag_cols].astype(object).where(gdf[tag_cols].notna(), None)
    tag_rows = [{k: str(v) for k, v in row.items() if v is not None and str(v) != ""}
                for row in tags_frame.to_dict(orient="records")]
    walkable = np.array([is_walkable(t) for t in tag_rows], dtype=bool)
    skipped = {"not_walkable": int((~walkable).sum()), "multilinestring_parts": 0}
    if not walkable.any():
        raise InputError("de wegenlaag heeft geen beloopbare wegen (no walkable ways)",
                         path=p, fix=fix)
    parts, feat_of_part = shapely.get_parts(gdf.geometry.to_numpy()[walkable], return_index=True)
    feat_rows = np.nonzero(walkable)[0][feat_of_part]
    skipped["multilinestring_parts"] = int(len(parts) - walkable.sum())
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(part_of, minlength=len(parts))
    lon, lat = xy[:, 0], xy[:, 1]
    crs = metric_crs_for((lon.min(), lat.min(), lon.max(), lat.max()))
    mx, my = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    grid = np.c_[np.round(np.asarray(mx) / GRID_M), np.round(np.asarray(my) / GRID_M)]
    _, node = np.unique(grid.astype(np.int64), axis=0, return_inverse=True)
    node_ids = -(node.ravel().astype(np.int64) + 1)
    cuts = np.cumsum(counts)[:-1]
    osm_ids = _osm_ids(gdf)
    ways = pd.DataFrame({
        "osm_id": osm_ids[feat_rows],
        "node_ids": np.split(node_ids, cuts),
        "lon": np.split(lon, cuts),
        "lat": np.split(lat, cuts),
    })
    ways = ways.join(tags_frame.iloc[feat_rows].reset_index(drop=True))
    ways = ways[counts >= 2].reset_index(drop=True)
    bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    notes = [f"{p.name}: lijnenlaag zonder knoop-id's; kruisingen zijn afgeleid uit gedeelde "
             f"hoekpunten (op {GRID_M * 100:.0f} cm nauwkeurig). Lijnen die elkaar kruisen "
             "zonder gedeeld punt (bruggen, tunnels) zijn niet verbonden."]
    missing = [t for t in EDGE_TAGS if t in _MISSING_MEANING and t not in gdf.columns]
    if missing:
        notes.append(
            f"{p.name}: de laag mist de OSM-tags {', '.join(missing)}; daardoor: "
            + "; ".join(_MISSING_MEANING[t] for t in missing) + "."
        )
    empty_feats = gpd.GeoDataFrame(columns=["osm_type", "osm_id", "tags", "geometry"],
                                   geometry="geometry", crs="EPSG:4326")
    empty_blds = gpd.GeoDataFrame(
        columns=["osm_type", "osm_id", "building", "levels", "amenity", "shop", "office",
                 "geometry"], geometry="geometry", crs="EPSG:4326")
    return OsmExtract(p, ways, {}, empty_feats, empty_blds, bounds, skipped,
                      extent=concave_extent(lon, lat), notes=notes)


def _osm_ids(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """``osm_id`` (or QuickOSM's ``full_id``) as an object array of ints; None where absent."""
    if "osm_id" in gdf.columns:
        ids = pd.to_numeric(gdf["osm_id"], errors="coerce")
    elif "full_id" in gdf.columns:  # QuickOSM: "w123"
        ids = pd.to_numeric(gdf["full_id"].astype("string").str[1:], errors="coerce")
    else:
        return np.full(len(gdf), None, dtype=object)
    return np.array([int(v) if pd.notna(v) else None for v in ids], dtype=object)
