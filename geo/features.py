"""Read a GIS layer of OSM features (parks, libraries, ...) exported by QGIS QuickOSM and the like.

Such a layer has one polygon or point per OSM object, an ``osm_id`` or ``full_id`` column
(QuickOSM writes ``full_id`` = type letter + id, e.g. ``w123``/``r456``) and one column per OSM
tag. :func:`read_feature_layer` turns it into the frame :attr:`OsmExtract.features` holds, so
places from a layer and from an OSM extract go through the same classification.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.io import require_readable
from geo.waylayer import base_geometry_type, layer_infos, read_layer_4326

#: OSM keys that make an object a feature (meeting place, amenity, green space, building)
FEATURE_KEYS = (
    "amenity", "leisure", "social_facility", "club", "shop", "tourism", "healthcare", "office",
    "craft", "sport", "historic", "building", "community_centre", "place_of_worship", "landuse",
    "natural", "man_made",
)
#: keys that describe land cover, not places: a layer with only these is a landuse layer
LANDUSE_KEYS = frozenset({"landuse", "natural"})
ID_COLUMNS = ("osm_id", "full_id", "osm_way_id")
_AREA_POINT_TYPES = frozenset({"Polygon", "MultiPolygon", "Point", "MultiPoint"})


def _layer(path: str | Path) -> tuple[dict | None, list[str]]:
    """The first polygon/point layer with an OSM id column, and its OSM feature keys."""
    for info in layer_infos(path):
        fields = [str(f) for f in info.get("fields", [])]
        lower = {f.lower() for f in fields}
        if base_geometry_type(info) in _AREA_POINT_TYPES and lower & set(ID_COLUMNS):
            return info, [k for k in FEATURE_KEYS if k in lower]
    return None, []


def feature_keys_of(path: str | Path) -> list[str]:
    """The OSM feature keys (:data:`FEATURE_KEYS`) that are columns of a polygon/point layer
    with an OSM id column; ``[]`` for anything else."""
    return _layer(path)[1]


def _not_boundaries(path: str | Path) -> bool:
    from geo.boundaries import is_boundaries_file

    return not is_boundaries_file(path)


def is_feature_layer(path: str | Path) -> bool:
    """Polygon/point layer with an OSM id and a place key (amenity, leisure, ...), not a CBS
    boundaries file. A layer whose only keys are land cover (``landuse``) is not one."""
    keys = set(feature_keys_of(path))
    return bool(keys - LANDUSE_KEYS) and _not_boundaries(path)


def is_landuse_layer(path: str | Path) -> bool:
    """Polygon layer with an OSM id whose only feature keys are land cover (``landuse``)."""
    keys = set(feature_keys_of(path))
    return bool(keys) and keys <= LANDUSE_KEYS and _not_boundaries(path)


_TYPE_LETTER = {"n": "node", "w": "way", "r": "relation"}
_ID_AND_META = frozenset({*ID_COLUMNS, "osm_type"})


def read_feature_layer(path: str | Path) -> gpd.GeoDataFrame:
    """A GIS layer of OSM features as :attr:`geo.osm.OsmExtract.features`: ``osm_type``
    (node/way/relation, from the ``full_id`` letter or the ``osm_type`` column), ``osm_id``,
    ``tags`` (dict of the non-empty tag columns) and ``geometry`` in EPSG:4326."""
    fix = ("geef een laag met OSM-objecten (bijv. een QuickOSM-export) met een kolom osm_id "
           "of full_id en tag-kolommen zoals leisure of amenity")
    p = require_readable(path, what="voorzieningenlaag", fix=fix)
    info, keys = _layer(p)
    if info is None or not keys:
        raise InputError("geen laag met OSM-objecten (no osm_id/full_id and tag columns)",
                         path=p, fix=fix)
    gdf = read_layer_4326(p, info, what="voorzieningenlaag", fix=fix).reset_index(drop=True)
    cols = {str(c).lower(): c for c in gdf.columns}
    n = len(gdf)
    osm_type = np.full(n, None, dtype=object)
    osm_id = np.full(n, None, dtype=object)
    if "full_id" in cols:
        full = gdf[cols["full_id"]].astype("string")
        letter = full.str[:1].str.lower().map(_TYPE_LETTER)
        num = pd.to_numeric(full.str[1:], errors="coerce")
        osm_type = np.where(letter.notna(), letter.astype(object), osm_type)
        osm_id = np.where(num.notna(), num.astype(object), osm_id)
    if "osm_type" in cols:
        t = gdf[cols["osm_type"]].astype("string").str.lower()
        t = t.where(t.isin(["node", "way", "relation"]))
        osm_type = np.where(pd.isna(osm_type), t.astype(object), osm_type)
    for c in ("osm_id", "osm_way_id"):
        if c in cols:
            num = pd.to_numeric(gdf[cols[c]], errors="coerce")
            osm_id = np.where(pd.isna(osm_id), num.astype(object), osm_id)
            if c == "osm_way_id":
                osm_type = np.where(pd.isna(osm_type) & num.notna(), "way", osm_type)
    tag_cols = [c for c in gdf.columns
                if c != gdf.geometry.name and str(c).lower() not in _ID_AND_META]
    values = gdf[tag_cols].astype(object).where(gdf[tag_cols].notna(), None)
    tags = [{str(k): _tag_text(v) for k, v in row.items() if v is not None and str(v) != ""}
            for row in values.to_dict(orient="records")]
    out = gpd.GeoDataFrame(
        {"osm_type": [None if pd.isna(v) else str(v) for v in osm_type],
         "osm_id": [None if pd.isna(v) else int(v) for v in osm_id],
         "tags": tags},
        geometry=gdf.geometry.values, crs="EPSG:4326")
    out.attrs["feature_keys"] = keys
    return out


def _tag_text(v: object) -> str:
    """OSM tag values are text; a float column holding whole numbers gives ``"3"``, not
    ``"3.0"``."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
