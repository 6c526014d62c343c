"""Exports that GIS tools open: GeoJSON (RFC 7946, WGS84 lon/lat), written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.io import atomic_path

#: RFC 7946 recommends about 6 decimals (≈ 0.1 m); more only adds bytes.
COORD_PRECISION = 6


def _clean(v):
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def to_geojson(gdf: gpd.GeoDataFrame, *, columns: list[str] | None = None) -> str:
    """A FeatureCollection in WGS84 with lon/lat order; NaN becomes null (valid JSON)."""
    g = gdf.to_crs(4326)
    # RFC 7946 §3.1.6: exterior rings counterclockwise, holes clockwise
    g = g.set_geometry(shapely.orient_polygons(g.geometry.values, exterior_cw=False))
    cols = columns or [c for c in g.columns if c != g.geometry.name]
    geoms = json.loads(
        gpd.GeoSeries(g.geometry.values, crs=4326).to_json(
            drop_id=True, to_wgs84=True
        )
    )["features"]
    feats = []
    records = g[cols].to_dict(orient="records")
    for rec, gj in zip(records, geoms, strict=True):
        feats.append({"type": "Feature",
                      "properties": {k: _clean(v) for k, v in rec.items()},
                      "geometry": _round(gj["geometry"])})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False,
                      allow_nan=False)


def _round(geom: dict | None):
    if geom is None:
        return None

    def r(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(x), COORD_PRECISION) for x in c]
        return [r(x) for x in c]

    out = dict(geom)
    if "coordinates" in out:
        out["coordinates"] = r(out["coordinates"])
    return out


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, **kw) -> Path:
    """Write :func:`to_geojson` atomically (an interrupted write leaves no partial file)."""
    text = to_geojson(gdf, **kw)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
