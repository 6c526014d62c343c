"""Where people live: origins of the walk, with the weight of residents they stand for.

Method (also in the README): each buurt's residents (and 65+ residents) from CBS are spread over
the residential buildings of OSM inside the buurt, in proportion to floor area (footprint ×
``building:levels``, 1 level when untagged). A buurt without residential buildings spreads over
the network nodes inside it, equally; a buurt with neither gets one origin at its inner point
(reported). Totals per buurt are conserved exactly.

Without a neighbourhood file, the area is covered with H3 hexagons and every residential
building counts once: the result is an estimate of residential buildings within reach, not of
residents, and is labelled so.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geo.coverage import spread_totals
from geo.network import WalkNetwork
from layers.notes import Note

#: building=* values that are homes.
RESIDENTIAL = frozenset(
    {
        "house", "residential", "apartments", "detached", "semidetached_house", "terrace",
        "bungalow", "dormitory", "farm", "houseboat", "static_caravan", "cabin", "villa",
    }
)
#: H3 resolution of the fallback grid (res 9: hexagons of ~0.1 km², ~175 m across).
H3_RESOLUTION = 9


def residential_buildings(buildings: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """OSM buildings that are homes, with ``x``, ``y`` (inner point) and ``floor_area`` (m²).

    ``building=yes`` counts as a home only when no amenity, shop or office tag says otherwise.
    """
    b = buildings.to_crs(crs)
    kind = b["building"].fillna("")
    plain = (kind == "yes") & b["amenity"].isna() & b["shop"].isna() & b["office"].isna()
    b = b[kind.isin(RESIDENTIAL) | plain].copy()
    levels = pd.to_numeric(b["levels"], errors="coerce").clip(lower=1, upper=60).fillna(1.0)
    b["floor_area"] = b.geometry.area * levels
    pt = shapely.point_on_surface(b.geometry.values)
    b["x"] = shapely.get_x(pt)
    b["y"] = shapely.get_y(pt)
    return b


def origins_for_areas(
    areas: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    net: WalkNetwork,
    *,
    code: str = "code",
    totals: dict[str, str],
) -> tuple[pd.DataFrame, list[Note]]:
    """Origins with per-origin shares of each area's totals.

    ``totals`` maps output column -> column of ``areas`` to spread (e.g. ``{"w65":
    "inwoners_65plus"}``). Returns the origins (``x``, ``y``, ``area``, ``kind`` and one column
    per total) and a :class:`~layers.notes.Note` per area that needed a fallback.
    """
    notes: list[Note] = []
    a = areas.to_crs(net.crs)
    parts = []
    if len(homes):
        hit = gpd.sjoin(
            gpd.GeoDataFrame(homes[["x", "y", "floor_area"]], geometry=gpd.points_from_xy(
                homes["x"], homes["y"]), crs=net.crs),
            a[[code, "geometry"]], predicate="within", how="inner",
        )
        hit = hit[~hit.index.duplicated()]
        parts.append(pd.DataFrame({"x": hit["x"], "y": hit["y"], "area": hit[code],
                                   "weight": hit["floor_area"], "kind": "woongebouw"}))
    have = set(parts[0]["area"]) if parts else set()
    missing = a[~a[code].isin(have)]
    node_pts = None
    for _, row in missing.iterrows():
        if node_pts is None:
            node_pts = shapely.points(net.x, net.y)
        inside = np.nonzero(shapely.contains(row.geometry, node_pts))[0]
        if len(inside):
            parts.append(pd.DataFrame({"x": net.x[inside], "y": net.y[inside], "area": row[code],
                                       "weight": 1.0, "kind": "netwerkknoop"}))
            notes.append(Note("buurt_knopen", f"{row[code]}: {len(inside)} netwerkknopen"))
        else:
            p = row.geometry.representative_point()
            parts.append(pd.DataFrame({"x": [p.x], "y": [p.y], "area": [row[code]],
                                       "weight": [1.0], "kind": "middelpunt"}))
            notes.append(Note("buurt_punt", f"{row[code]}: geen pad in de buurt"))
    origins = pd.concat(parts, ignore_index=True)
    for out_col, src_col in totals.items():
        area_totals = a.set_index(code)[src_col].astype(float)
        origins[out_col] = spread_totals(origins["area"], origins["weight"], area_totals)
    return origins, notes


def h3_grid(homes: gpd.GeoDataFrame, crs: str, *, resolution: int = H3_RESOLUTION) -> tuple[
    gpd.GeoDataFrame, pd.DataFrame
]:
    """Hexagons holding residential buildings, and one origin per building (weight 1).

    Returns ``(hexes, origins)``; hexes have ``code`` (H3 index), ``naam`` and ``woongebouwen``.
    """
    pts = gpd.GeoSeries(gpd.points_from_xy(homes["x"], homes["y"]), crs=crs).to_crs(4326)
    cells = [h3.latlng_to_cell(lat, lon, resolution)
             for lon, lat in zip(pts.x.to_numpy(), pts.y.to_numpy(), strict=True)]
    origins = pd.DataFrame({"x": homes["x"].to_numpy(), "y": homes["y"].to_numpy(),
                            "area": cells, "weight": 1.0, "kind": "woongebouw"})
    origins["w_homes"] = 1.0
    counts = origins.groupby("area").size()
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)])
             for c in counts.index]
    hexes = gpd.GeoDataFrame(
        {"code": counts.index, "naam": [f"Zeshoek {c[-6:]}" for c in counts.index],
         "woongebouwen": counts.to_numpy().astype(float)},
        geometry=polys, crs=4326,
    ).to_crs(crs)
    return hexes, origins
