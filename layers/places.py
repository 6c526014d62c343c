"""Meeting places: OSM features and a municipality's own list -> one table, duplicates merged.

Every place has a category and sphere from the taxonomy. Parks and plantsoenen are reached at
their edge: their access points are the network nodes inside them plus points every
``edge_spacing_m`` metres along their outline; other places at a point on their footprint.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.network import WalkNetwork
from layers.taxonomy import Taxonomy

PLACE_COLUMNS = [
    "place_id", "naam", "categorie", "categorie_label", "sfeer", "bron", "osm_id",
    "opening_hours", "geometry",
]
#: Places of the same category closer than this are one place.
MERGE_RADIUS_M = 50.0


def places_from_osm(features: gpd.GeoDataFrame, taxonomy: Taxonomy, crs: str) -> gpd.GeoDataFrame:
    """Meeting places among OSM features (nodes and areas with tags)."""
    cats = features["tags"].map(taxonomy.classify) if len(features) else pd.Series(dtype=object)
    f = features[cats.notna()].copy()
    f["categorie"] = cats[cats.notna()]
    f = f.to_crs(crs)
    out = gpd.GeoDataFrame(
        {
            "naam": f["tags"].map(lambda t: t.get("name")),
            "categorie": f["categorie"],
            "bron": "OpenStreetMap",
            "osm_id": f["osm_type"].str[0] + f["osm_id"].astype(str),
            "opening_hours": f["tags"].map(lambda t: t.get("opening_hours")),
        },
        geometry=f.geometry.values,
        crs=crs,
    )
    # areas first, so that a node inside its own building merges into the area
    out = out.iloc[np.argsort(out.geom_type.str.startswith("Point").to_numpy(), kind="stable")]
    return _finish(out.reset_index(drop=True), taxonomy)


def places_from_list(
    facilities: gpd.GeoDataFrame, taxonomy: Taxonomy, crs: str
) -> gpd.GeoDataFrame:
    """Meeting places from a municipality's own list (see :func:`geo.facilities`)."""
    f = facilities.to_crs(crs)
    out = gpd.GeoDataFrame(
        {
            "naam": f["naam"],
            "categorie": f["categorie_lokaal"].map(taxonomy.classify_local),
            "bron": f["bron"],
            "osm_id": None,
            "opening_hours": f.get("openingstijden"),
        },
        geometry=f.geometry.values,
        crs=crs,
    )
    return _finish(out, taxonomy)


def _finish(df: gpd.GeoDataFrame, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    df["categorie_label"] = df["categorie"].map(taxonomy.label)
    df["sfeer"] = df["categorie"].map(taxonomy.sphere_of)
    df["place_id"] = ""
    return df[PLACE_COLUMNS]


def merge_places(*frames: gpd.GeoDataFrame, radius_m: float = MERGE_RADIUS_M) -> gpd.GeoDataFrame:
    """Concatenate place tables and merge duplicates.

    Two places are one when they share a category and their representative points are within
    ``radius_m``, or one's point lies inside the other's polygon. The first of a group (in frame
    order: pass OSM before local lists) keeps its geometry; names and sources are combined.
    The result has ``samengevoegd`` = how many records each place stands for.
    """
    frames = tuple(f for f in frames if f is not None and len(f))
    if not frames:
        empty = gpd.GeoDataFrame(columns=[*PLACE_COLUMNS, "samengevoegd"], geometry="geometry")
        return empty
    crs = frames[0].crs
    df = pd.concat([f.to_crs(crs) for f in frames], ignore_index=True)
    df = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    pts = shapely.point_on_surface(df.geometry.values)
    tree = shapely.STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=radius_m)
    polys = np.nonzero(df.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy())[0]
    if len(polys):
        pi, qi = tree.query(df.geometry.values[polys], predicate="contains")
        a = np.r_[a, polys[pi]]
        b = np.r_[b, qi]
    cat = df["categorie"].to_numpy()
    same = (cat[a] == cat[b]) & (a != b)
    n = len(df)
    graph = coo_matrix((np.ones(same.sum()), (a[same], b[same])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    df["_group"] = group
    first = df.groupby("_group", sort=False).head(1).copy()
    agg = df.groupby("_group", sort=False).agg(
        naam=("naam", lambda s: next((x for x in s if isinstance(x, str) and x.strip()), None)),
        bron=("bron", lambda s: " + ".join(dict.fromkeys(s))),
        samengevoegd=("naam", "size"),
        opening_hours=("opening_hours",
                       lambda s: next((x for x in s if isinstance(x, str) and x), None)),
    )
    first = first.set_index("_group")
    for col in ("naam", "bron", "samengevoegd", "opening_hours"):
        first[col] = agg.loc[first.index, col]
    first = first.reset_index(drop=True)
    first["place_id"] = [f"P{i:05d}" for i in range(len(first))]
    return gpd.GeoDataFrame(first, geometry="geometry", crs=crs)


def access_points(
    places: gpd.GeoDataFrame,
    net: WalkNetwork,
    taxonomy: Taxonomy,
    *,
    edge_spacing_m: float = 50.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where each place is reached: ``(x, y, place_row)`` in the network CRS."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    edge_cats = {c.id for c in taxonomy.categories if c.access == "edge"}
    geoms = places.geometry.values
    is_area = np.asarray(shapely.get_type_id(geoms) >= 3)  # Polygon, MultiPolygon
    by_edge = places["categorie"].isin(edge_cats).to_numpy() & is_area
    # ordinary places: one point on the footprint
    rep = shapely.point_on_surface(geoms[~by_edge])
    xs.append(shapely.get_x(rep))
    ys.append(shapely.get_y(rep))
    owner.append(np.nonzero(~by_edge)[0])
    # parks: outline every edge_spacing_m plus the network nodes inside
    for row in np.nonzero(by_edge)[0]:
        poly = geoms[row]
        coords = _outline_points(poly, edge_spacing_m)
        minx, miny, maxx, maxy = poly.bounds
        cand = np.nonzero(
            (net.x >= minx) & (net.x <= maxx) & (net.y >= miny) & (net.y <= maxy)
        )[0]
        inside = cand[shapely.contains_xy(poly, net.x[cand], net.y[cand])]
        xs.append(np.r_[coords[:, 0], net.x[inside]])
        ys.append(np.r_[coords[:, 1], net.y[inside]])
        owner.append(np.full(len(coords) + len(inside), row))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(owner).astype(np.int64)


def _outline_points(poly, spacing: float) -> np.ndarray:
    """Points every ``spacing`` metres along each ring of a (multi)polygon."""
    out = []
    for line in shapely.get_parts(shapely.boundary(shapely.get_parts(poly))):
        steps = np.arange(0.0, max(line.length, spacing), spacing)
        out.append(shapely.get_coordinates(shapely.line_interpolate_point(line, steps)))
    return np.concatenate(out) if out else np.empty((0, 2))
