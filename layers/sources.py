"""What an area's files say besides the network: meeting places from OSM place layers and
address points, which kinds of place the data can know at all, and where residents live
(address points, residential land use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd

from geo.addresses import read_addresses
from geo.errors import InputError
from geo.features import read_feature_layer
from geo.landuse import read_landuse
from geo.overpass import read_overpass
from geo.sniff import classify_file
from layers.datasets import AreaData
from layers.fmt import fmt_int
from layers.places import places_from_osm, source_name
from layers.taxonomy import Taxonomy

if TYPE_CHECKING:
    from layers.analysis import Prepared


def holds_all_categories(area: AreaData, extract) -> bool:
    """Whether the network source also carries every kind of OSM place: a raw extract or an
    online download that holds buildings or places at all (a network-only cut, a GraphML graph
    or a way layer holds none)."""
    if area.osm and area.osm[0].is_dir():
        return True
    if area.network_kind not in (None, "osm", "overpass-network"):
        return False
    return bool(len(extract.buildings) or len(extract.features))


def place_layers(area: AreaData, tax: Taxonomy, crs: str, notes: list[str]) -> list[
        gpd.GeoDataFrame]:
    """Meeting places from the folder's OSM place layers (GIS layers with tag columns,
    Overpass feature responses); an unreadable layer becomes a note."""
    frames = []
    for p in area.places:
        try:
            if classify_file(p) == "overpass-features":
                feats = read_overpass([p], feature_keys=tax.osm_keys, buildings=False,
                                      feature_filter=lambda t: tax.classify(t) is not None
                                      ).features
            else:
                feats = read_feature_layer(p)
        except InputError as exc:
            notes.append(f"Plekkenlaag niet gebruikt: {exc}")
            continue
        places = places_from_osm(feats, tax, crs)
        if len(places):
            frames.append(places)
            notes.append(f"Plekken: {p.name} ({fmt_int(len(places))} ontmoetingsplekken: "
                         f"{', '.join(sorted(set(places['categorie_label'])))}).")
    return frames


def category_data(places: gpd.GeoDataFrame, tax: Taxonomy, *, holds_all: bool,
                  partial_sources: tuple[str, ...] = ()) -> dict[str, str]:
    """Per taxonomy category what the data can say: ``"volledig"`` (a source that maps this
    kind of place is present), ``"deels"`` (only places that happen to be tagged on address
    points) or ``"niet in de gegevens"``. A category missing from the data is never reported as
    missing from the city."""
    out = {}
    for c in tax.categories:
        if holds_all:
            out[c.id] = "volledig"
            continue
        src = places.loc[places["categorie"] == c.id, "bron"].astype(str)
        if not len(src):
            out[c.id] = "niet in de gegevens"
        elif all(any(ps in b for ps in partial_sources) for b in src):
            out[c.id] = "deels"
        else:
            out[c.id] = "volledig"
    return out


def data_categories_sentence(prep: Prepared) -> str | None:
    """One Dutch sentence when the data holds only some categories, e.g. "In deze gegevens
    alleen: parken en plantsoenen; deels: buurthuizen (alleen op adrespunten). Niet in de
    gegevens: ...". None when the data can hold every category."""
    cd = prep.category_data
    if not cd or all(v == "volledig" for v in cd.values()):
        return None
    tax = prep.taxonomy
    full = [tax.label(c).lower() for c, v in cd.items() if v == "volledig"]
    part = [tax.label(c).lower() for c, v in cd.items() if v == "deels"]
    none = [tax.label(c).lower() for c, v in cd.items() if v == "niet in de gegevens"]
    parts = []
    if full:
        parts.append("In deze gegevens alleen: " + ", ".join(full) + ".")
    if part:
        parts.append("Deels (alleen plekken die op een adrespunt getagd zijn): "
                     + ", ".join(part) + ".")
    if none:
        parts.append("Niet in de gegevens (dat zegt niets over de stad): " + ", ".join(none)
                     + ".")
    return " ".join(parts)


def residence_files(area: AreaData, notes: list[str]) -> tuple[
        gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Address points and residential land use of an area (the first file of each), when its
    :class:`AreaData` lists them in ``addresses`` / ``landuse``; unreadable files are noted."""
    out: list[gpd.GeoDataFrame | None] = []
    for attr, reader, label in (("addresses", read_addresses, "Adressen"),
                                ("landuse", read_landuse, "Woongebied")):
        paths = list(getattr(area, attr, None) or [])
        frame = None
        if paths:
            try:
                frame = reader(paths[0])
                notes.append(f"{label}: {paths[0].name} ({fmt_int(len(frame))} objecten).")
                notes += [str(w) for w in frame.attrs.get("warnings", [])]
            except InputError as exc:
                notes.append(f"{label} niet gebruikt: {exc}")
        out.append(frame)
    return out[0], out[1]


def as_given(lines, path) -> list[str]:
    """Reader messages naming a file as the user gave it (not its copy in a prepared area)."""
    given = source_name(path)
    return [str(x).replace(path.name, given) for x in lines]
