"""The analysis the dashboard and the command line share: prepare an area once, then run it for
any profile and filter in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.addresses import address_amenities, read_addresses
from geo.boundaries import read_boundaries
from geo.coverage import aggregate_by_area
from geo.errors import InputError, MissingDataError
from geo.extent import MIN_COVERED_SHARE, Extent, extent_of
from geo.facilities import far_from_paths
from geo.features import read_feature_layer
from geo.hours import Period, open_mask
from geo.incremental import add_sources, remove_sources
from geo.landuse import read_landuse
from geo.network import WalkNetwork, network_from_extract
from geo.online import read_bundle
from geo.overpass import read_overpass
from geo.population import read_kerncijfers
from geo.profiles import Profile, describe_exclusions, edge_mask, exclusion_report
from geo.routing import DistanceField, Snapped, distances_at, nearest_sources
from geo.sniff import classify_file, read_network_source
from layers.datasets import AreaData
from layers.demand import h3_grid, origins_for_areas, residential_buildings
from layers.fmt import fmt_int
from layers.neighbourhoods import demand_unit, join_population
from layers.notes import Note, from_boundaries, group_lines
from layers.places import (
    access_points,
    merge_places_noted,
    places_from_lists,
    places_from_osm,
    source_name,
)
from layers.scenario import Scenario
from layers.sensitivity import notes as sensitivity_notes
from layers.sensitivity import routing_entries
from layers.taxonomy import Taxonomy, load_taxonomy

Progress = Callable[[float, str], None]

#: Per-area result columns, in this order, in every table and export (see README).
SCHEMA = [
    "buurtcode", "buurtnaam", "wijkcode", "inwoners", "inwoners_65plus",
    "inwoners_65plus_geschat", "binnen_bereik_65plus", "buiten_bereik_65plus",
    "aandeel_binnen_bereik", "mediaan_afstand_m", "profiel", "max_afstand_m", "status", "dekking",
]
#: Extent status of an area (see README, "Dekking van de gegevens"): its figures are complete,
#: a lower bound near the edge of the data, or absent because the data does not cover it.
STATUS_FULL, STATUS_EDGE, STATUS_OUT = "volledig", "rand", "buiten"
STATUS_LABEL = {
    STATUS_FULL: "volledig in de gegevens",
    STATUS_EDGE: "aan de rand van de gegevens (bereik is een ondergrens)",
    STATUS_OUT: "geen loopnetwerk in de gegevens",
}
#: What the share counts, by demand unit.
DEMAND_LABEL = {
    "inwoners_65plus": "65-plussers",
    "inwoners": "inwoners (leeftijd onbekend)",
    "woongebouwen": "woongebouwen (schatting, geen inwoners)",
}
#: Column suffix of the within/beyond counts, by demand unit.
DEMAND_SUFFIX = {"inwoners_65plus": "65plus", "inwoners": "inwoners",
                 "woongebouwen": "woongebouwen"}
#: Origins or places farther than this from any usable path are reported, not routed.
MAX_SNAP_M = 250.0
#: Note kind (layers.notes) of each way a buurt's residents were placed without OSM homes.
FALLBACK_KINDS = {"netwerkknoop": "buurt_knopen", "middelpunt": "buurt_punt"}
#: Nearest-place fields kept per profile (one per filter/opening-hours combination).
FIELD_CACHE_SIZE = 16


def _quiet(_frac: float, _text: str) -> None:
    return None


@dataclass
class Prepared:
    """Everything about an area that does not depend on the profile or filters."""

    area: AreaData
    population: pd.DataFrame | None
    net: WalkNetwork | None = None
    places: gpd.GeoDataFrame | None = None
    areas: gpd.GeoDataFrame | None = None  # code, naam, wijkcode, inwoners, ..., geometry
    area_kind: str = "buurt"  # or "h3"
    demand: str = "inwoners_65plus"
    origins: pd.DataFrame | None = None
    homes: gpd.GeoDataFrame | None = None  # residential buildings (x, y, floor_area)
    addresses: gpd.GeoDataFrame | None = None  # address points (amenity, weight), EPSG:4326
    landuse: gpd.GeoDataFrame | None = None  # residential land use polygons, EPSG:4326
    area_notes: pd.DataFrame | None = None  # per-area fallbacks (code, kind, text)
    notes: list[str] = field(default_factory=list)
    taxonomy: Taxonomy = field(default_factory=load_taxonomy)
    place_problems: list[str] = field(default_factory=list)
    extent: Extent | None = None  # where the network data is (geo.extent)
    category_data: dict[str, str] = field(default_factory=dict)  # category -> what data says
    gemeente: str | None = None  # gemeentecode the buurten were restricted to
    row_notes: list[Note] = field(default_factory=list)  # rows dropped/corrected/merged, fallbacks
    # per own list how many rows were used; what the boundary reader and the join with the CBS
    # table left out or changed (printed by the CLI, shown in the dashboard's notes expander)
    input_summary: list[str] = field(default_factory=list)
    _access: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    _by_mask: dict = field(default_factory=dict)

    @property
    def weight_col(self) -> str:
        """The origins' column holding the demand they stand for (people or buildings)."""
        return "w_homes" if self.demand == "woongebouwen" else "w_demand"

    @property
    def counts_people(self) -> bool:
        """Whether the demand is people (CBS small-count rule applies) or buildings."""
        return self.demand != "woongebouwen"

    @property
    def ready(self) -> bool:
        return self.net is not None and self.areas is not None

    def routing_state(self, profile: Profile) -> dict:
        """Adjacency, segment index and snapped origins/access points for a profile's mask."""
        assert self.net is not None and self.origins is not None and self._access is not None
        mask = edge_mask(self.net, profile)
        key = None if mask is None else mask.tobytes()
        if key not in self._by_mask:
            # snaps only onto parts that matter (no fragments); see layers.sensitivity
            ax, ay, _ = self._access
            self._by_mask[key] = routing_entries(
                self.net, mask, (ax, ay),
                (self.origins["x"].to_numpy(), self.origins["y"].to_numpy()),
                max_snap_m=MAX_SNAP_M)
            if mask is not None:
                self._by_mask[key]["mask"] = mask
        return self._by_mask[key]


@dataclass(frozen=True)
class Choices:
    profile: Profile
    categories: Collection[str] | None
    spheres: Collection[str] | None
    period: Period | None
    scenario: Scenario

    def sentence(self, prep: Prepared) -> str:
        tax = prep.taxonomy
        what = "alle ontmoetingsplekken"
        if self.categories is not None:
            labels = ", ".join(tax.label(c).lower() for c in self.categories)
            what = f"plekken van het type {labels}" if labels else "geen plekken"
        if self.spheres is not None:
            what += " in de sfeer " + (", ".join(self.spheres) or "(geen)")
        when = f", open op {self.period.label}" if self.period else ""
        scen = f"; scenario: {self.scenario.describe()}" if self.scenario else ""
        return (f"{self.profile.describe()}, naar {what}{when}{scen}.")


@dataclass
class Result:
    prepared: Prepared
    profile: Profile
    table: gpd.GeoDataFrame  # SCHEMA + extras, one row per area, in the network CRS
    origins: pd.DataFrame  # x, y, area, weight, dist_m, place_row
    places: gpd.GeoDataFrame  # places used, with "binnen_bereik" (demand within reach)
    headline: dict
    notes: list[str]
    choices: Choices | None = None
    nearest: DistanceField | None = None  # nearest-place field over the network nodes
    owner: np.ndarray | None = None  # place row (in prep.places + scenario places) per source
    cache: dict = field(default_factory=dict)  # derived layers (service/gap areas), per result
    row_notes: list[Note] = field(default_factory=list)  # the prepared area's + places unused

    def caption(self) -> str:
        """The choices behind this result, as one Dutch sentence."""
        assert self.choices is not None
        return self.choices.sentence(self.prepared)


def prepare(area: AreaData, *, taxonomy: Taxonomy | None = None,
            progress: Progress = _quiet) -> Prepared:
    """Read an area's files and build network, places, neighbourhoods and origins."""
    tax = taxonomy or load_taxonomy()
    population = None
    notes: list[str] = []
    if area.population:
        progress(0.02, "CBS-kerncijfers lezen")
        population = read_kerncijfers(area.population[0])
        years = population["jaar"].dropna()
        year = f" {int(years.iloc[0])}" if len(years) else ""
        notes.append(f"Inwoners: CBS Kerncijfers wijken en buurten{year} "
                     f"({area.population[0].name}).")
        notes += list(population.attrs.get("notes", []))
    prep = Prepared(area=area, population=population, notes=notes, taxonomy=tax)
    if population is not None:
        prep.input_summary += _as_given(population.attrs.get("notes", []), area.population[0])
    if not area.osm:
        return prep
    progress(0.1, "Loopnetwerk lezen")
    if area.osm[0].is_dir():  # a cached online download
        extract = read_bundle(area.osm[0])
    else:
        extract = read_network_source(area.osm, feature_keys=tax.osm_keys,
                                      feature_filter=lambda t: tax.classify(t) is not None)
    notes += list(extract.notes)
    progress(0.35, "Loopnetwerk bouwen")
    net = network_from_extract(extract)
    prep.net = net
    progress(0.4, "Dekking van de gegevens bepalen")
    prep.extent = network_extent(net, extract.extent)
    comps = np.bincount(net.components)
    notes.append(
        f"Netwerk: {fmt_int(net.n_nodes)} knopen, {fmt_int(net.n_edges)} segmenten, "
        f"{len(comps)} losse delen (grootste {fmt_int(comps[0])} knopen)."
    )
    progress(0.5, "Ontmoetingsplekken indelen")
    b = read_boundaries(area.boundaries[0]) if area.boundaries else None
    frames = [places_from_osm(extract.features, tax, net.crs)]
    holds_all = _holds_all_categories(area, extract)
    frames += _place_layers(area, tax, net.crs, notes)
    prep.addresses, prep.landuse = _residence_files(area, prep.notes)
    if prep.addresses is not None:
        on_addresses = places_from_osm(address_amenities(prep.addresses), tax, net.crs)
        on_addresses["bron"] = "OpenStreetMap (adrespunt)"
        on_addresses["osm_id"] = None  # the address table kept no OSM ids
        frames.append(on_addresses)
    lists = places_from_lists(area.facilities, tax, net.crs, within=b)
    prep.places, merged = merge_places_noted(*frames, *lists.frames)
    prep.row_notes += [*lists.notes, *merged]
    prep.place_problems += [n.line() for n in lists.notes]
    prep.input_summary = [*lists.summaries(prep.row_notes), *prep.input_summary]
    prep.notes += lists.summaries(prep.row_notes)
    prep.category_data = category_data(prep.places, tax, holds_all=holds_all,
                                       partial_sources=("adrespunt",))
    prep._access = access_points(prep.places, net, tax)
    progress(0.65, "Buurten en woningen koppelen")
    homes = residential_buildings(extract.buildings, net.crs)
    prep.homes = homes
    if b is not None:
        prep.row_notes += from_boundaries(b, source_name(area.boundaries[0]))
        # the file's own figures are replaced by a CBS table's, and so are its notes on them
        keys = ("warnings", "problems") if population is not None else (
            "warnings", "notes", "problems")
        for key in keys:
            prep.notes += [str(x) for x in b.attrs.get(key, [])]
            if key != "problems":  # those are notes (from_boundaries)
                prep.input_summary += _as_given(b.attrs.get(key, []), area.boundaries[0])
        use_buurten(prep, b)
        refuse_if_elsewhere(prep, extract)
    else:
        hexes, origins = h3_grid(homes, net.crs)
        # an estimate grid drawn on the data itself: hexagons are cut to the covered land, so
        # none straddles the edge of the data (their homes all lie inside it)
        hexes["geometry"] = hexes.geometry.intersection(prep.extent.polygon())
        prep.areas = hexes.assign(wijkcode=None, inwoners=np.nan, inwoners_65plus=np.nan)
        prep.origins = origins
        prep.area_kind = "h3"
        prep.demand = "woongebouwen"
        add_extent_columns(prep)
        prep.areas["dekking"] = 1.0
        notes.append("Geen buurtgrenzen: zeshoeken (H3) met woongebouwen uit OSM als schatting.")
    progress(1.0, "Klaar")
    return prep


def _holds_all_categories(area: AreaData, extract) -> bool:
    """Whether the network source also carries every kind of OSM place: a raw extract or an
    online download that holds buildings or places at all (a network-only cut, a GraphML graph
    or a way layer holds none)."""
    if area.osm and area.osm[0].is_dir():
        return True
    if area.network_kind not in (None, "osm", "overpass-network"):
        return False
    return bool(len(extract.buildings) or len(extract.features))


def _place_layers(area: AreaData, tax: Taxonomy, crs: str, notes: list[str]) -> list[
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


def network_extent(net: WalkNetwork, polygon: shapely.Geometry | None) -> Extent:
    """The covered land of a network (all its segments), cut to the file's own polygon."""
    xs = np.c_[net.x[net.edge_u], net.x[net.edge_v]]
    ys = np.c_[net.y[net.edge_u], net.y[net.edge_v]]
    return extent_of(xs, ys, crs=net.crs, polygon_lonlat=polygon)


def pick_gemeente(buurten: gpd.GeoDataFrame, *, named: str | None = None,
                  population: pd.DataFrame | None = None) -> tuple[str | None, list[str]]:
    """The gemeente a boundary file with several gemeenten is analysed for: the one named, else
    the one of the CBS table, else the one with most buurten (by code). Returns the
    gemeentecode (None when the file holds one or none) and a Dutch note on the others."""
    codes = buurten["gemeentecode"].dropna()
    counts = codes.value_counts()
    if len(counts) <= 1:
        return (str(counts.index[0]) if len(counts) else None), []
    gm = None
    if named:
        gm = named if named in counts.index else None
    if gm is None and population is not None:
        in_table = [c for c in counts.index if c in set(population["gemeentecode"].dropna())]
        gm = in_table[0] if len(in_table) == 1 else None
    if gm is None:
        gm = str(counts.index[0])
    others = counts.drop(gm)
    code_col = "buurtcode" if "buurtcode" in buurten else "code"
    elsewhere = buurten["gemeentecode"].notna() & (buurten["gemeentecode"] != gm)
    left = (sorted(map(str, buurten.loc[elsewhere, code_col].dropna()))
            if code_col in buurten else [])
    named_codes = f": {', '.join(left[:8])}" + (" …" if len(left) > 8 else "") if left else ""
    note = (f"{int(others.sum())} buurtgrenzen liggen in een andere gemeente dan {gm} "
            f"({', '.join(map(str, others.index[:6]))}) en zijn weggelaten{named_codes}; "
            f"alleen de {int(counts[gm])} buurten van {gm} tellen mee. Paden en "
            "ontmoetingsplekken over de gemeentegrens tellen wel mee.")
    return gm, [note]


def _residence_files(area: AreaData, notes: list[str]) -> tuple[
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


def _as_given(lines, path) -> list[str]:
    """Reader messages naming a file as the user gave it (not its copy in a prepared area)."""
    given = source_name(path)
    return [str(x).replace(path.name, given) for x in lines]


def use_buurten(prep: Prepared, buurten: gpd.GeoDataFrame) -> None:
    """Make ``buurten`` (as :func:`geo.boundaries.read_boundaries` returns them) the areas of a
    prepared analysis: keep one gemeente, join the CBS figures, spread them over the homes and
    measure how much of each buurt the network data covers."""
    net = prep.net
    homes = prep.homes
    assert net is not None and homes is not None
    prep.area_kind = "buurt"
    gm, notes = pick_gemeente(buurten, named=prep.gemeente, population=prep.population)
    prep.notes += notes
    prep.input_summary += notes  # buurten of other gemeenten left out: said on the CLI too
    if gm is not None:
        prep.gemeente = gm
        buurten = buurten[buurten["gemeentecode"] == gm]
    b, notes = join_population(buurten, prep.population)
    prep.notes += notes
    prep.input_summary += notes  # buurten left out or without figures: said on the CLI too
    prep.demand = demand_unit(b)
    if prep.demand == "woongebouwen":
        prep.notes.append("Geen inwonertallen bij de buurtgrenzen: de kaart telt woongebouwen.")
    prep.areas = b.to_crs(net.crs).reset_index(drop=True)
    totals = {} if prep.demand == "woongebouwen" else {"w_demand": prep.demand}
    origins, notes = origins_for_areas(prep.areas, homes, net, code="code", totals=totals,
                                       addresses=prep.addresses, landuse=prep.landuse)
    origins["w_homes"] = (origins["kind"] == "woongebouw").astype(float)
    prep.origins = origins
    prep.notes += notes
    prep.area_notes = notes.detail
    prep.row_notes = [n for n in prep.row_notes if not n.kind.startswith("buurt_")] + [
        Note(FALLBACK_KINDS.get(k, "buurt_" + k), text) for k, text in
        zip(notes.detail["kind"], notes.detail["text"], strict=True)]
    add_extent_columns(prep)


def add_extent_columns(prep: Prepared) -> None:
    """``dekking`` (covered share) per area and ``rand_m`` (distance to the edge of the data)
    per origin, from ``prep.extent``."""
    assert prep.areas is not None and prep.origins is not None
    if prep.extent is None:
        prep.areas["dekking"] = 1.0
        prep.origins["rand_m"] = np.inf
        return
    prep.areas["dekking"] = prep.extent.covered_share(prep.areas.geometry.values)
    prep.origins["rand_m"] = prep.extent.edge_distance(prep.origins["x"].to_numpy(),
                                                       prep.origins["y"].to_numpy())
    out = prep.areas["dekking"] < MIN_COVERED_SHARE
    if out.any():
        what = "buurten" if prep.area_kind == "buurt" else "gebieden"
        prep.notes.append(
            f"{int(out.sum())} van {len(out)} {what} liggen (grotendeels) buiten het "
            f"loopnetwerk in de gegevens ({prep.extent.how}): geen afstanden en geen "
            "cijfers binnen/buiten bereik voor die buurten.")


def _without_uncovered(prep: Prepared, origins: pd.DataFrame, status: np.ndarray) -> pd.DataFrame:
    """Origins in areas the data does not cover keep no weight and no distance, so nothing
    downstream (totals, places' reach, gap areas, suggestions, medians) counts them."""
    assert prep.areas is not None
    out_codes = prep.areas["code"].to_numpy()[status == STATUS_OUT]
    if not len(out_codes):
        return origins
    gone = origins["area"].isin(out_codes).to_numpy()
    origins = origins.copy()
    for col in ("w_demand", "w_homes"):
        if col in origins:
            origins.loc[gone, col] = 0.0
    origins.loc[gone, ["dist_m", "tijd_min"]] = np.nan
    origins.loc[gone, "place_row"] = -1
    return origins


def refuse_if_elsewhere(prep: Prepared, extract) -> None:
    """InputError when the network data covers none of the buurten: a file of another region,
    not a partial one (a partial extract is analysed for the buurten it covers)."""
    assert prep.areas is not None
    if len(prep.areas) and not (prep.areas["dekking"] > 0).any():
        b = prep.areas.to_crs(4326).total_bounds
        lon0, lat0, lon1, lat1 = extract.bounds or (np.nan,) * 4
        raise InputError(
            "het loopnetwerk en de buurtgrenzen liggen niet op dezelfde plek (no overlap): "
            f"netwerk op lengte {lon0:.3f}–{lon1:.3f}, breedte {lat0:.3f}–{lat1:.3f}; buurten "
            f"op lengte {b[0]:.3f}–{b[2]:.3f}, breedte {b[1]:.3f}–{b[3]:.3f}",
            path=getattr(extract, "path", None),
            fix="gebruik een OSM-uitsnede en buurtgrenzen van dezelfde gemeente")


def area_status(prep: Prepared, origins: pd.DataFrame, limit_m: float) -> np.ndarray:
    """Extent status per area (aligned with ``prep.areas``): ``buiten`` when less than
    :data:`geo.extent.MIN_COVERED_SHARE` of it is covered; ``rand`` when a home in it lies
    closer than ``limit_m`` to the edge of the data (a place just outside might be nearer);
    else ``volledig``."""
    assert prep.areas is not None
    codes = pd.Index(prep.areas["code"])
    weight = origins[prep.weight_col].to_numpy(dtype=float)
    near = (origins["rand_m"].to_numpy(dtype=float) < limit_m) & (weight > 0)
    edge_areas = set(origins["area"].to_numpy()[near])
    status = np.where(codes.isin(list(edge_areas)), STATUS_EDGE, STATUS_FULL).astype(object)
    status[prep.areas["dekking"].to_numpy(dtype=float) < MIN_COVERED_SHARE] = STATUS_OUT
    return status


def _use_mask(prep: Prepared, categories, spheres, period: Period | None) -> tuple[
        np.ndarray, np.ndarray]:
    """Which places the filters keep, and which of them have unknown opening hours."""
    assert prep.places is not None
    keep = np.ones(len(prep.places), dtype=bool)
    if categories is not None:
        keep &= prep.places["categorie"].isin(list(categories)).to_numpy()
    if spheres is not None:
        keep &= prep.places["sfeer"].isin(list(spheres)).to_numpy()
    usable, unknown = open_mask(prep.places["opening_hours"], period)
    return keep & usable, keep & unknown


def _base_field(prep: Prepared, state: dict, use: np.ndarray) -> DistanceField:
    """The nearest-place field for one profile mask and one set of usable places (cached)."""
    assert prep.net is not None
    fields: dict = state.setdefault("fields", {})
    key = use.tobytes()
    if key not in fields:
        acc: Snapped = state["access"]
        sources = Snapped(np.where(use, acc.edge, -1), acc.t, acc.dist)
        if len(fields) >= FIELD_CACHE_SIZE:
            fields.pop(next(iter(fields)))
        fields[key] = nearest_sources(prep.net, sources, adjacency=state["adjacency"])
    return fields[key]


def _scenario_places(prep: Prepared, scenario: Scenario) -> gpd.GeoDataFrame:
    assert prep.places is not None and prep.net is not None
    rows = [{
        "place_id": f"scenario-{i + 1}", "naam": a.naam, "categorie": a.categorie,
        "categorie_label": prep.taxonomy.label(a.categorie), "sfeer": prep.taxonomy.sphere_of(
            a.categorie), "bron": "Scenario", "osm_id": None, "opening_hours": None,
        "geometry": shapely.Point(a.x, a.y)} for i, a in enumerate(scenario.added)]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=prep.net.crs)


def run(
    prep: Prepared,
    profile: Profile,
    *,
    categories: Collection[str] | None = None,
    spheres: Collection[str] | None = None,
    period: Period | None = None,
    scenario: Scenario | None = None,
) -> Result:
    """Distances from every origin to the nearest selected meeting place, and per-area results.

    ``period`` keeps only places open then (unknown hours count as open). ``scenario`` adds and
    closes places on top of the cached base result: only the distance field is updated.
    """
    if not prep.ready:
        raise InputError("dit gebied kan niet doorgerekend worden: " + " ".join(
            prep.area.missing()), fix="voeg de ontbrekende bestanden toe")
    assert prep.net is not None and prep.places is not None and prep.origins is not None
    assert prep._access is not None and prep.areas is not None
    scenario = scenario or Scenario()
    if not len(prep.places) and not scenario.added:
        raise MissingDataError(
            "geen ontmoetingsplekken in de gegevens van dit gebied, dus geen afstanden; "
            "niemand wordt 'buiten bereik' gerekend omdat de gegevens ontbreken",
            path=prep.area.folder,
            fix="voeg een lijst met ontmoetingsplekken toe (CSV met naam, categorie en "
                "coördinaten: ontmoet prepare --voorzieningen LIJST.csv, of upload hem in het "
                "dashboard) of een OSM-extract met voorzieningen")
    state = prep.routing_state(profile)
    keep, unknown_hours = _use_mask(prep, categories, spheres, period)
    owner = prep._access[2]
    field_ = _base_field(prep, state, keep[owner])
    places_all = prep.places
    if scenario.removed:
        closed = prep.places["place_id"].isin(list(scenario.removed)).to_numpy()
        gone = np.nonzero(closed[owner] & keep[owner])[0]
        field_ = remove_sources(prep.net, field_, gone, adjacency=state["adjacency"])
        keep = keep & ~closed
    if scenario.added:
        extra = _scenario_places(prep, scenario)
        snapped = state["index"].snap(extra.geometry.x.to_numpy(), extra.geometry.y.to_numpy(),
                                      max_dist=MAX_SNAP_M)
        field_ = add_sources(prep.net, field_, snapped, adjacency=state["adjacency"])
        places_all = pd.concat([prep.places, extra], ignore_index=True)
        owner = np.r_[owner, len(prep.places) + np.arange(len(extra))]
        keep = np.r_[keep, np.ones(len(extra), dtype=bool)]
    dist, src = distances_at(prep.net, field_, state["origins"])
    place_row = np.where(src >= 0, owner[np.maximum(src, 0)], -1)
    limit = profile.max_distance_m
    origins = prep.origins.assign(
        dist_m=dist, tijd_min=dist / (profile.speed_kmh * 1000.0 / 60.0), place_row=place_row)
    weight_col = prep.weight_col
    status = area_status(prep, origins, limit)
    origins = _without_uncovered(prep, origins, status)
    dist = origins["dist_m"].to_numpy()
    agg = aggregate_by_area(origins["area"].to_numpy(), origins[weight_col].to_numpy(), dist,
                            limit, pd.Index(prep.areas["code"]))
    table = _result_table(prep, profile, agg, status)
    places = places_all[keep].copy()
    within = origins[origins["dist_m"] <= limit].groupby("place_row")[weight_col].sum()
    places["binnen_bereik"] = within.reindex(np.nonzero(keep)[0]).fillna(0.0).to_numpy()
    places["row"] = np.nonzero(keep)[0]
    choices = Choices(profile, categories, spheres, period, scenario)
    unused: list[Note] = []
    notes = list(prep.notes) + _run_notes(prep, state, field_, dist, keep, unknown_hours,
                                          profile, period, unused)
    row_notes = [*prep.row_notes, *unused]
    notes[len(prep.notes):len(prep.notes)] = group_lines(row_notes)
    return Result(prep, profile, table, origins, places, _headline(prep, table), notes,
                  choices, field_, owner, row_notes=row_notes)


def _run_notes(prep, state, field_, dist, keep, unknown_hours, profile, period,
               unused: list[Note]) -> list[str]:
    notes = []
    acc: Snapped = state["access"]
    use = keep[prep._access[2]] if len(keep) == len(prep.places) else None
    counted = ~np.isnan(dist)  # origins in areas the data does not cover have no distance
    off = int((~state["origins"].ok & counted).sum())
    if off:
        notes.append(f"{fmt_int(off)} woonadressen liggen verder dan {MAX_SNAP_M:.0f} m van een "
                     "bruikbaar pad en tellen als buiten bereik.")
    island = int((state["origins"].ok & np.isinf(dist)).sum())
    if island:
        notes.append(f"{fmt_int(island)} woonadressen liggen op een los stuk netwerk zonder "
                     "bereikbare ontmoetingsplek (bijvoorbeeld achter een trap voor dit profiel, "
                     "of een ontbrekende verbinding in OSM) en tellen als buiten bereik.")
    if use is not None and (~acc.ok[use]).any():
        # a place is unusable only when none of its access points reaches a path
        nearest = pd.Series(acc.dist).groupby(prep._access[2]).min()
        per_place = nearest.reindex(range(len(prep.places))).fillna(np.inf).to_numpy()
        kept = keep[: len(prep.places)]
        from_osm = prep.places["bron"].astype(str).str.startswith("OpenStreetMap").to_numpy()
        far_osm = kept & from_osm & ~(per_place <= MAX_SNAP_M)
        if far_osm.any():  # map data beyond the network's reach: one line, not one per place
            names = [n for n in prep.places.loc[far_osm, "naam"] if isinstance(n, str) and n]
            shown = ", ".join(names[:5]) + (f" en {len(names) - 5} meer" if len(names) > 5 else "")
            notes.append(
                f"{fmt_int(int(far_osm.sum()))} ontmoetingsplekken uit de kaartgegevens liggen "
                f"verder dan {MAX_SNAP_M:.0f} m van een bruikbaar pad (meestal buiten het "
                "loopnetwerk in de gegevens) en tellen niet mee" + (f": {shown}." if shown
                                                                      else "."))
        own = kept & ~from_osm
        far = far_from_paths(prep.places[own], per_place[own], MAX_SNAP_M)
        unused += [Note(p.soort, p.melding) for p in far]
    if period is not None:
        n_unknown = int(unknown_hours.sum())
        notes.append(f"Openingstijden voor {period.label}: {n_unknown} plekken zonder (leesbare) "
                     "openingstijden tellen als open.")
    key = ("exclusions", profile.avoid_highway, profile.avoid_kerb, profile.avoid_surface)
    if key not in state:  # counted once per profile and network, not on every run
        state[key] = describe_exclusions(exclusion_report(prep.net, profile))
    excl = state[key]
    if excl:
        notes.append(excl)
    notes += sensitivity_notes(prep, state, profile, keep[: len(prep.places)][prep._access[2]],
                               max_snap_m=MAX_SNAP_M,
                               what=DEMAND_LABEL[prep.demand].split(" (")[0],
                               counted=counted)
    return notes


def _result_table(prep: Prepared, profile: Profile, agg: pd.DataFrame,
                  status: np.ndarray) -> gpd.GeoDataFrame:
    a = prep.areas
    assert a is not None
    t = gpd.GeoDataFrame(
        {"buurtcode": a["code"], "buurtnaam": a["naam"], "wijkcode": a["wijkcode"],
         "inwoners": a["inwoners"], "inwoners_65plus": a["inwoners_65plus"],
         "inwoners_65plus_geschat": (a["inwoners_65plus_geschat"].fillna(False).astype(bool)
                                     if "inwoners_65plus_geschat" in a else False)},
        geometry=a.geometry.values, crs=a.crs,
    )
    within = agg["within"].to_numpy()
    total = agg["total"].to_numpy()
    counted = status != STATUS_OUT
    if prep.demand == "woongebouwen":
        known = counted.copy()
    else:
        known = a[prep.demand].notna().to_numpy() & counted
    # whole people / buildings; within + beyond = total exactly
    within_r = np.where(known, np.round(within), np.nan)
    beyond_r = np.where(known, np.round(total) - within_r, np.nan)
    suffix = DEMAND_SUFFIX[prep.demand]
    t["binnen_bereik_65plus"] = within_r if suffix == "65plus" else np.nan
    t["buiten_bereik_65plus"] = beyond_r if suffix == "65plus" else np.nan
    t["aandeel_binnen_bereik"] = np.where(known, agg["share"].to_numpy(), np.nan)
    t["mediaan_afstand_m"] = np.where(counted, np.round(agg["median_m"].to_numpy(dtype=float), 0),
                                      np.nan)
    t["profiel"] = profile.id
    t["max_afstand_m"] = round(profile.max_distance_m, 1)
    t["status"] = status
    t["dekking"] = np.round(a["dekking"].to_numpy(dtype=float), 3)
    if suffix != "65plus":
        if suffix == "woongebouwen":
            t["woongebouwen"] = np.round(total)
        t[f"binnen_bereik_{suffix}"] = within_r
        t[f"buiten_bereik_{suffix}"] = beyond_r
    t["p90_afstand_m"] = np.where(counted, np.round(agg["p90_m"].to_numpy(dtype=float), 0),
                                  np.nan)
    t["gebiedstype"] = "buurt" if prep.area_kind == "buurt" else "H3-zeshoek (schatting)"
    t["telt"] = DEMAND_LABEL[prep.demand]
    return t


def _headline(prep: Prepared, table: gpd.GeoDataFrame) -> dict:
    suffix = DEMAND_SUFFIX[prep.demand]
    within = float(np.nansum(table[f"binnen_bereik_{suffix}"]))
    beyond = float(np.nansum(table[f"buiten_bereik_{suffix}"]))
    total = within + beyond
    return {
        "telt": DEMAND_LABEL[prep.demand],
        "totaal": total,
        "binnen": within,
        "buiten": beyond,
        "aandeel_buiten": beyond / total if total else float("nan"),
        "gebieden": len(table),
        "gebieden_zonder_cijfers": int(table["aandeel_binnen_bereik"].isna().sum()),
        **_coverage_headline(prep, table, total),
    }


def _coverage_headline(prep: Prepared, table: gpd.GeoDataFrame, counted: float) -> dict:
    """How much of the gemeente the figures cover: areas per status, and the counted group in
    the covered areas against the whole gemeente (as one Dutch phrase)."""
    status = table["status"].to_numpy()
    n_out = int((status == STATUS_OUT).sum())
    n_edge = int((status == STATUS_EDGE).sum())
    n = len(table)
    if prep.demand == "woongebouwen":
        whole = float(table["woongebouwen"].sum()) if "woongebouwen" in table else counted
    else:
        whole = float(np.nansum(table[prep.demand].to_numpy(dtype=float)))
    what = "buurten" if prep.area_kind == "buurt" else "zeshoeken"
    phrase = (f"{fmt_int(n - n_out)} van {fmt_int(n)} {what}, {fmt_int(counted)} van "
              f"{fmt_int(whole)} {DEMAND_LABEL[prep.demand]}")
    return {"gebieden_geteld": n - n_out, "gebieden_rand": n_edge, "gebieden_buiten": n_out,
            "totaal_gebied": whole, "dekking": phrase}
