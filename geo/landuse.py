"""Residential land use (OSM ``landuse=residential``) as polygons: where homes are when neither
buildings nor addresses are mapped.

Reads any vector file GDAL reads (GeoPackage, GeoJSON, shapefile) with a ``landuse`` column, as
QGIS QuickOSM exports it (``full_id``, ``osm_id``, ``osm_type``, ``landuse``, ``name``, ...).
The CRS is checked against the coordinates (:func:`geo.coords.resolve_crs`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from geo import cbs, coords
from geo.boundaries import unreadable_error
from geo.errors import InputError
from geo.io import require_readable

SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
COLUMNS = ["osm_id", "naam", "geometry"]
RESIDENTIAL = "residential"

_WHAT = "bestand met woongebieden (landuse=residential)"
_FIX = (
    "exporteer OSM landuse=residential als vlakken (bv. QuickOSM in QGIS) naar GeoPackage of "
    "GeoJSON met een kolom landuse"
)


def is_landuse_layer(path: str | Path) -> bool:
    """Cheap sniff: one polygon layer with a ``landuse`` field that is ``residential`` for most
    features (a park layer with a few ``landuse=grass`` is not one)."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES or not p.is_file():
        return False
    try:
        layers = pyogrio.list_layers(p)
        if len(layers) != 1:
            return False
        info = pyogrio.read_info(p)
    except Exception:  # any failure means "not a layer we can use"
        return False
    fields = [str(f) for f in info.get("fields", [])]
    col = cbs.find_column(fields, ["landuse"])
    if col is None or "polygon" not in str(info.get("geometry_type", "")).lower():
        return False
    try:
        values = pyogrio.read_dataframe(p, columns=[str(col)], read_geometry=False)[col]
    except Exception:  # unreadable attribute table
        return False
    return bool((values.astype(str).str.strip().str.lower() == RESIDENTIAL).mean() >= 0.5)


def read_landuse(path: str | Path, *, value: str = RESIDENTIAL) -> gpd.GeoDataFrame:
    """Polygons with ``landuse == value`` in EPSG:4326: ``osm_id`` (``full_id`` such as
    ``w6336063`` when present, else ``osm_id``), ``naam`` and geometry.

    Warnings of the CRS check are in ``gdf.attrs["warnings"]``. Raises InputError for an
    unreadable file, no ``landuse`` column or no polygons.
    """
    p = require_readable(path, what=_WHAT, fix=_FIX)
    try:
        raw = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # GDAL errors come in several types
        raise unreadable_error(p, exc, _FIX) from exc
    col = cbs.find_column(list(raw.columns), ["landuse"])
    if col is None:
        raise InputError(
            f"geen kolom landuse gevonden (no landuse column); gevonden kolommen: "
            f"{[c for c in raw.columns if c != raw.geometry.name][:12]}",
            path=p,
            fix=_FIX,
        )
    keep = (raw[col].astype(str).str.strip().str.lower() == value) & raw.geometry.notna()
    raw = raw[keep & raw.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    if raw.empty:
        raise InputError(f"bevat geen vlakken met landuse={value} (no such polygons)", path=p,
                         fix=_FIX)
    rd, warnings = coords.resolve_crs(raw, p)
    ident = cbs.find_column(list(raw.columns), ["full_id", "osm_id", "id"])
    name = cbs.find_column(list(raw.columns), ["name", "naam"])
    out = gpd.GeoDataFrame(
        {
            "osm_id": cbs.clean_text(rd[ident]).to_numpy() if ident is not None else None,
            "naam": rd[name].to_numpy(dtype=object) if name is not None else None,
        },
        geometry=rd.geometry.make_valid().to_numpy(),
        crs=coords.RD,
    ).to_crs(coords.WGS84)
    out.attrs.update(source=str(p), warnings=warnings)
    return out
