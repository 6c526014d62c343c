"""Exports that GIS tools open, all written atomically: GeoJSON (RFC 7946, WGS84 lon/lat),
GeoPackage (one layer per table, field descriptions), CSV for Dutch spreadsheets, GeoParquet."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.io import atomic_path

#: RFC 7946 recommends about 6 decimals (≈ 0.1 m); more only adds bytes.
COORD_PRECISION = 6


def _clean(v):
    if v is pd.NA:  # a missing value of a nullable integer column
        return None
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


# --- multi-layer exports: GeoPackage, CSV, GeoParquet -------------------------------------

#: CSV dialect for Dutch spreadsheets: Excel in a Dutch locale splits on ``;`` and reads
#: ``0,75`` as a number; the BOM makes it read UTF-8 (ë, ï) correctly. pandas reads it back
#: with ``sep=";", decimal=","``.
CSV_SEP = ";"
CSV_DECIMAL = ","
CSV_ENCODING = "utf-8-sig"
#: Name of the non-spatial table in a GeoPackage that lists every column with its meaning.
DESCRIPTIONS_LAYER = "veldbeschrijvingen"


def _plain(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Attributes plus a WGS84 ``lon``/``lat`` per row (the point itself, or a point inside
    the area), so a spreadsheet can still place every row."""
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if gdf.crs is not None and gdf.geometry.notna().any():
        wgs = gdf.geometry.representative_point().to_crs(4326)
        df["lon"] = wgs.x.round(COORD_PRECISION)
        df["lat"] = wgs.y.round(COORD_PRECISION)
    return df


def write_csv(gdf: pd.DataFrame, path: str | Path) -> Path:
    """A table for spreadsheets (see :data:`CSV_SEP`), written atomically; no geometry."""
    df = _plain(gdf) if isinstance(gdf, gpd.GeoDataFrame) else gdf
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep=CSV_SEP, decimal=CSV_DECIMAL, encoding=CSV_ENCODING, index=False)
    return Path(path)


def write_parquet(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """GeoParquet (geometry as WKB with the CRS in the metadata), written atomically."""
    with atomic_path(path) as tmp:
        gdf.to_parquet(tmp, index=False)
    return Path(path)


def write_gpkg(
    layers: dict[str, gpd.GeoDataFrame],
    path: str | Path,
    *,
    crs=None,
    descriptions: dict[str, str] | None = None,
    layer_titles: dict[str, str] | None = None,
) -> Path:
    """One GeoPackage with a layer per entry of ``layers`` (all in ``crs`` when given), written
    atomically.

    Field meanings go where GIS tools look for them: the GeoPackage schema extension
    (``gpkg_data_columns``: ``title`` and ``description`` per column, which GDAL reads as the
    field's alias and comment and QGIS shows in the layer properties) and, readable anywhere, a
    plain table :data:`DESCRIPTIONS_LAYER` (``laag``, ``kolom``, ``beschrijving``).
    """
    import pyogrio

    descriptions = descriptions or {}
    titles = layer_titles or {}
    rows = []
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            g = gdf.to_crs(crs) if crs is not None and gdf.crs is not None else gdf
            g = g.reset_index(drop=True)
            opts = {"DESCRIPTION": titles[name]} if name in titles else None
            pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG", layer_options=opts)
            for col in g.columns:
                if col != g.geometry.name and col in descriptions:
                    rows.append((name, col, descriptions[col]))
        table = pd.DataFrame(rows, columns=["laag", "kolom", "beschrijving"])
        pyogrio.write_dataframe(table, tmp, layer=DESCRIPTIONS_LAYER, driver="GPKG")
        _gpkg_data_columns(tmp, rows)
    return Path(path)


def _gpkg_data_columns(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Register column titles/descriptions in the GeoPackage schema extension (spec §F.9)."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, "
            "column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, "
            "mime_type TEXT, constraint_name TEXT, "
            "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
            "CONSTRAINT gdc_tn UNIQUE (table_name, name))")
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
            "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
            "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))")
        con.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, "
            "'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write')")
        con.executemany(
            "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, "
            "description) VALUES (?, ?, ?, ?, ?)",
            [(t, c, c, c, d) for t, c, d in rows])
        con.commit()
    finally:
        con.close()
