"""What a data file is, from its content: one function for discovery.

:func:`classify_file` asks an ordered list of cheap predicates (schema, first bytes, a regular
expression over a JSON file) and returns the first kind that matches, so a file is recognised
whatever its name: an osmnx GraphML saved as ``.osm`` is ``"graphml"``, an osmnx cache file
``<sha1>.json`` is an Overpass network, feature set or Nominatim geocode.

Kinds and the readers that go with them:

========================  ===============================================================
``"osm"``                 raw OSM (pbf/xml/bz2/gz): :func:`geo.osm.read_osm`
``"graphml"``             osmnx GraphML: :func:`geo.graphml.read_graphml`
``"overpass-network"``    Overpass JSON street network: :func:`geo.overpass.read_overpass`
``"overpass-features"``   Overpass JSON features: :func:`geo.overpass.read_overpass`
``"geocode"``             Nominatim answer: :func:`geo.overpass.read_geocode_polygon`
``"way-layer"``           GIS line layer with ``highway``: :func:`geo.waylayer.read_way_layer`
``"feature-layer"``       GIS layer of OSM places: :func:`geo.features.read_feature_layer`
``"landuse-layer"``       GIS layer of OSM ``landuse`` areas (residential areas)
``"boundaries"``          CBS area boundaries: :func:`geo.boundaries.read_boundaries`
``"kerncijfers"``         CBS kerncijfers table: :func:`geo.population.read_kerncijfers`
``"population"``          PDOK/CBS population table: :func:`geo.population.read_population_table`
``"addresses"``           address points: :func:`geo.addresses.read_addresses`
========================  ===============================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from geo.addresses import is_address_file
from geo.boundaries import is_boundaries_file
from geo.errors import InputError
from geo.features import is_feature_layer, is_landuse_layer
from geo.graphml import is_graphml_file, read_graphml
from geo.osm import OsmExtract, is_osm_file, read_osm
from geo.overpass import overpass_kind, read_overpass
from geo.population import is_kerncijfers_file, is_population_table
from geo.waylayer import is_way_layer, read_way_layer

Predicate = Callable[[Path], bool]


@functools.lru_cache(maxsize=512)
def _overpass(path: str, size: int, mtime_ns: int) -> str | None:
    return overpass_kind(path)


def _overpass_is(kind: str) -> Predicate:
    def check(p: Path) -> bool:
        if p.suffix.lower() != ".json":
            return False
        st = p.stat()
        return _overpass(str(p.resolve()), st.st_size, st.st_mtime_ns) == kind

    return check


#: OSM networks and features; GraphML before OSM (osmnx graphs are often saved as ``.osm``)
OSM_CLASSIFIERS: list[tuple[str, Predicate]] = [
    ("graphml", is_graphml_file),
    ("osm", is_osm_file),
    ("overpass-network", _overpass_is("network")),
    ("overpass-features", _overpass_is("features")),
    ("geocode", _overpass_is("geocode")),
]
#: GIS layers; boundaries before feature layers (a buurt layer is never a set of places)
LAYER_CLASSIFIERS: list[tuple[str, Predicate]] = [
    ("way-layer", is_way_layer),
    ("boundaries", is_boundaries_file),
    ("feature-layer", is_feature_layer),
    ("landuse-layer", is_landuse_layer),
]
#: Tables (CSV/XLSX/Parquet); after the kerncijfers check, so a CBS kerncijfers table keeps its
#: kind.
TABLE_CLASSIFIERS: list[tuple[str, Predicate]] = [
    ("kerncijfers", is_kerncijfers_file),
    ("population", is_population_table),
    ("addresses", is_address_file),
]


def classifiers() -> list[tuple[str, Predicate]]:
    """All (kind, predicate) pairs in the order :func:`classify_file` asks them."""
    return [*OSM_CLASSIFIERS, *LAYER_CLASSIFIERS, *TABLE_CLASSIFIERS]


def classify_file(path: str | Path) -> str | None:
    """The kind of data file ``path`` holds (see the module docstring), or ``None``.

    Reads only schemas and first bytes (Overpass JSON: the raw bytes, no parsing); hidden
    files and folders give ``None``.
    """
    p = Path(path)
    if p.name.startswith(".") or not p.is_file():
        return None
    for kind, predicate in classifiers():
        try:
            if predicate(p):
                return kind
        except (OSError, ValueError):  # a predicate that cannot read the file says "no"
            continue
    return None


#: kinds that hold a walk network (the rest hold places, areas or people)
NETWORK_KINDS = ("osm", "graphml", "overpass-network", "way-layer")


def read_network_source(
    paths: str | Path | Sequence[str | Path],
    *,
    feature_keys: Collection[str] = ("amenity", "leisure", "social_facility", "club"),
    feature_filter: Callable[[dict[str, str]], bool] | None = None,
    buildings: bool = True,
) -> OsmExtract:
    """Read network file(s) of one kind into an :class:`OsmExtract`, whatever the format.

    One file of kind ``osm``, ``graphml`` or ``way-layer``, or one or more Overpass responses
    (``overpass-network`` and ``overpass-features`` files may be mixed: they are merged).
    ``feature_keys``/``feature_filter``/``buildings`` apply to the formats that hold features
    (OSM files and Overpass responses); the others return empty features and buildings.
    """
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    kinds = {classify_file(f) for f in files}
    if kinds and kinds <= {"overpass-network", "overpass-features"}:
        return read_overpass(files, feature_keys=feature_keys, feature_filter=feature_filter,
                             buildings=buildings)
    if len(files) != 1 or not kinds <= set(NETWORK_KINDS):
        names = ", ".join(f"{f.name} ({classify_file(f) or 'onbekend'})" for f in files)
        raise InputError(
            f"geen (enkel) netwerkbestand: {names}",
            path=files[0] if files else None,
            fix="geef één OSM-extract, GraphML-netwerk of wegenlaag, of Overpass-antwoorden",
        )
    kind, path = kinds.pop(), files[0]
    if kind == "osm":
        return read_osm(path, feature_keys=feature_keys, feature_filter=feature_filter,
                        buildings=buildings)
    if kind == "graphml":
        return read_graphml(path)
    return read_way_layer(path)
