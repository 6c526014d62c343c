"""Read a GIS layer of OSM features (parks, libraries, ...) exported by QGIS QuickOSM and the like.

Such a layer has one polygon or point per OSM object, an ``osm_id`` or ``full_id`` column
(QuickOSM writes ``full_id`` = type letter + id, e.g. ``w123``/``r456``) and one column per OSM
tag. :func:`read_feature_layer` turns it into the frame :attr:`OsmExtract.features` holds, so
places from a layer and from an OSM extract go through the same classification.
"""

from __future__ import annotations

from pathlib import Path

from geo.waylayer import base_geometry_type, layer_infos

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
