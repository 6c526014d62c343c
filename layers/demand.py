"""Where people live: origins of the walk, with the weight of residents they stand for.

Method (also in the README): each buurt's residents (and 65+ residents) from CBS are spread over
the residential buildings of OSM inside the buurt, in proportion to floor area (footprint ×
``building:levels``, 1 level when untagged). A buurt without residential buildings spreads over
its address points (one weight per address) when an address table is given, else over the
network nodes inside its residential land use (OSM ``landuse=residential``) when given, else
over the network nodes inside it, equally; a buurt with none of these gets one origin at its
inner point. Fallbacks are reported, grouped per kind. Totals per buurt are conserved exactly.

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


#: Where an area's residents are put, best first (the ``kind`` of an origin).
KINDS = ("woongebouw", "adres", "woongebied", "netwerkknoop", "middelpunt")
#: Residential land use smaller than this inside a buurt (m²) is a boundary sliver, not homes.
MIN_LANDUSE_M2 = 500.0
#: Example codes per grouped note.
NOTE_EXAMPLES = 3


class AreaNotes(list):
    """Grouped Dutch notes, one line per fallback kind with a count and a few example codes;
    ``detail`` holds the full per-area list (DataFrame ``code``, ``kind``, ``text``) for a notes
    file. A plain list otherwise, so ``prep.notes += notes`` keeps working."""

    def __init__(self, lines: list[str] | None = None, detail: pd.DataFrame | None = None):
        super().__init__(lines or [])
        self.detail = (detail if detail is not None
                       else pd.DataFrame({"code": [], "kind": [], "text": []}, dtype=object))


def _group_notes(detail: pd.DataFrame, *, addresses: bool, landuse: bool) -> list[str]:
    """One line per kind: ``62 buurten zonder woongebouwen in OSM: inwoners verdeeld over
    adressen (BU05030000, ...)``."""
    without = "zonder woongebouwen in OSM"
    tried = [w for w, used in (("adressen", addresses), ("woongebied", landuse)) if used]
    nodes_without = without + (", " + " en ".join(f"zonder {w}" for w in tried) if tried else "")
    what = {
        "adres": f"{without}: inwoners verdeeld over adressen",
        "woongebied": (f"{without}{' en zonder adressen' if addresses else ''}: inwoners "
                       "verdeeld over woongebied (OSM landuse=residential)"),
        "netwerkknoop": f"{nodes_without}: inwoners verdeeld over de netwerkknopen in de buurt",
        "middelpunt": f"{nodes_without} en zonder paden: één punt in de buurt gebruikt",
    }
    lines = []
    for kind in KINDS[1:]:
        codes = detail.loc[detail["kind"] == kind, "code"].tolist()
        if codes:
            more = ", ..." if len(codes) > NOTE_EXAMPLES else ""
            n = len(codes)
            lines.append(f"{n} {'buurt' if n == 1 else 'buurten'} {what[kind]} "
                         f"({', '.join(codes[:NOTE_EXAMPLES])}{more})")
    return lines


def _points_within(x: np.ndarray, y: np.ndarray, geom: shapely.Geometry) -> np.ndarray:
    """Indices of the points (x, y) inside ``geom`` (bounding box first, then exact)."""
    minx, miny, maxx, maxy = geom.bounds
    cand = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
    if not len(cand):
        return cand
    shapely.prepare(geom)
    return cand[shapely.contains_xy(geom, x[cand], y[cand])]


def _address_origins(a: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame, code: str,
                     crs: str) -> pd.DataFrame:
    pts = addresses[addresses["weight"] > 0].to_crs(crs)
    hit = gpd.sjoin(pts[["weight", "geometry"]], a[[code, "geometry"]], predicate="within",
                    how="inner")
    hit = hit[~hit.index.duplicated()]
    return pd.DataFrame({"x": hit.geometry.x.to_numpy(), "y": hit.geometry.y.to_numpy(),
                         "area": hit[code].to_numpy(), "weight": hit["weight"].to_numpy(float),
                         "kind": "adres"})


def origins_for_areas(
    areas: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    net: WalkNetwork,
    *,
    code: str = "code",
    totals: dict[str, str],
    addresses: gpd.GeoDataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
) -> tuple[pd.DataFrame, AreaNotes]:
    """Origins with per-origin shares of each area's totals.

    Each area's residents go to the first of these it has (the origin's ``kind``):

    1. ``woongebouw``: OSM residential buildings, weighted by floor area (``homes`` from
       :func:`residential_buildings`);
    2. ``adres``: address points (:func:`geo.addresses.read_addresses`), weight per address;
    3. ``woongebied``: the network nodes inside the area's residential land use
       (:func:`geo.landuse.read_landuse`; pieces under :data:`MIN_LANDUSE_M2` ignored), or the
       land use's inner point when no node lies in it;
    4. ``netwerkknoop``: the network nodes inside the area, equally;
    5. ``middelpunt``: one inner point of the area.

    Without ``addresses`` and ``landuse`` this is the old behaviour (1, 4, 5). ``totals`` maps
    output column -> column of ``areas`` to spread (e.g. ``{"w65": "inwoners_65plus"}``); the
    sum over an area's origins equals its total exactly (:func:`geo.coverage.spread_totals`),
    unknown (NaN) totals give NaN. Returns the origins (``x``, ``y``, ``area``, ``weight``,
    ``kind`` and one column per total, in the network CRS) and :class:`AreaNotes` on the areas
    that needed a fallback (grouped lines; ``.detail`` lists every area).
    """
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
    detail: list[tuple[str, str, str]] = []
    if addresses is not None and len(addresses):
        part = _address_origins(a[~a[code].isin(have)], addresses, code, net.crs)
        for area, n in part.groupby("area", sort=False)["weight"].sum().items():
            detail.append((area, "adres", f"{area}: geen woongebouwen in OSM; inwoners verdeeld "
                                          f"over {n:.0f} adressen"))
        parts.append(part)
        have |= set(part["area"])
    residential = None
    if landuse is not None and len(landuse):
        residential = shapely.union_all(landuse.to_crs(net.crs).geometry.to_numpy())
    for _, row in a[~a[code].isin(have)].iterrows():
        area, geom = row[code], row.geometry
        if residential is not None:
            piece = shapely.intersection(geom, residential)
            if piece.area >= MIN_LANDUSE_M2:
                inside = _points_within(net.x, net.y, piece)
                if len(inside):
                    xs, ys, text = net.x[inside], net.y[inside], f"{len(inside)} netwerkknopen"
                else:
                    p = piece.representative_point()
                    xs, ys, text = np.array([p.x]), np.array([p.y]), "één punt"
                parts.append(pd.DataFrame({"x": xs, "y": ys, "area": area, "weight": 1.0,
                                           "kind": "woongebied"}))
                detail.append((area, "woongebied", f"{area}: geen woongebouwen in OSM; inwoners "
                                                   f"verdeeld over {text} in woongebied "
                                                   f"({piece.area / 1e4:.1f} ha)"))
                continue
        inside = _points_within(net.x, net.y, geom)
        if len(inside):
            parts.append(pd.DataFrame({"x": net.x[inside], "y": net.y[inside], "area": area,
                                       "weight": 1.0, "kind": "netwerkknoop"}))
            detail.append((area, "netwerkknoop", f"{area}: geen woongebouwen in OSM; bewoners "
                                                 f"verdeeld over {len(inside)} netwerkknopen"))
        else:
            p = geom.representative_point()
            parts.append(pd.DataFrame({"x": [p.x], "y": [p.y], "area": [area],
                                       "weight": [1.0], "kind": "middelpunt"}))
            detail.append((area, "middelpunt", f"{area}: geen woongebouwen en geen paden; één "
                                               "punt in de buurt gebruikt"))
    columns = ["x", "y", "area", "weight", "kind"]
    origins = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    for out_col, src_col in totals.items():
        area_totals = a.set_index(code)[src_col].astype(float)
        origins[out_col] = spread_totals(origins["area"], origins["weight"], area_totals)
    table = pd.DataFrame(detail, columns=["code", "kind", "text"])
    lines = _group_notes(table, addresses=addresses is not None, landuse=landuse is not None)
    return origins, AreaNotes(lines, table)


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
