"""The analysis the dashboard and the command line share: prepare an area once, then run it for
any profile and filter in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.addresses import address_amenities
from geo.boundaries import read_boundaries
from geo.coverage import aggregate_by_area
from geo.errors import InputError, MissingDataError
from geo.extent import Extent
from geo.facilities import far_from_paths
from geo.hours import Period, open_mask
from geo.incremental import add_sources, remove_sources
from geo.network import WalkNetwork, network_from_extract
from geo.online import read_bundle
from geo.population import read_kerncijfers
from geo.profiles import Profile, describe_exclusions, edge_mask, exclusion_report
from geo.routing import DistanceField, Snapped, distances_at
from geo.sniff import read_network_source
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
from layers.sensitivity import base_at_origins, base_field, plain_snaps, routing_entries
from layers.sensitivity import notes as sensitivity_notes
from layers.sources import (
    as_given,
    category_data,
    holds_all_categories,
    place_layers,
    residence_files,
)
from layers.statuses import (
    STATUS_OUT,
    add_extent_columns,
    area_status,
    coverage_headline,
    network_extent,
    pick_gemeente,
    refuse_if_elsewhere,
    without_uncovered,
)
from layers.taxonomy import Taxonomy, load_taxonomy

Progress = Callable[[float, str], None]
T = TypeVar("T")

#: Per-area result columns, in this order, in every table and export (see README).
SCHEMA = [
    "buurtcode", "buurtnaam", "wijkcode", "inwoners", "inwoners_65plus",
    "inwoners_65plus_geschat", "binnen_bereik_65plus", "buiten_bereik_65plus",
    "aandeel_binnen_bereik", "mediaan_afstand_m", "profiel", "max_afstand_m", "status", "dekking",
]
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
    _derived: dict = field(default_factory=dict)  # see derived()

    def derived(self, key: str, make: Callable[[], T], *, uses: tuple) -> T:
        """``make()``, kept while ``uses`` (the attributes it reads) are the very objects it
        was made from."""
        return _derived(self._derived, key, make, uses)

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
                max_snap_m=MAX_SNAP_M, base=self.plain_snaps())
            if mask is not None:
                self._by_mask[key]["mask"] = mask
        return self._by_mask[key]

    def plain_snaps(self) -> dict:
        """Origins and access points snapped onto the whole network, once (``prepare`` does
        it); each profile snaps again only the points whose segment it closes."""
        assert self.net is not None and self.origins is not None and self._access is not None
        net, origins, (ax, ay, _) = self.net, self.origins, self._access
        return self.derived("plain_snaps", lambda: plain_snaps(
            net, (ax, ay), (origins["x"].to_numpy(), origins["y"].to_numpy()),
            max_snap_m=MAX_SNAP_M), uses=(net, origins, self._access))


def _derived(cache: dict, key: str, make: Callable[[], T], uses: tuple) -> T:
    """``make()`` kept in ``cache`` under ``key`` while ``uses`` are the very objects it was
    made from: a copy of the owner (``dataclasses.replace`` shares the dict) that holds other
    objects makes its own."""
    made = cache.get(key)
    if made is None or len(made[0]) != len(uses) or any(
            a is not b for a, b in zip(made[0], uses, strict=True)):
        made = cache[key] = (uses, make())
    return made[1]


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

    def derived(self, key: str, make: Callable[[], T], *, uses: tuple = ()) -> T:
        """``make()``, kept in :attr:`cache` for this result: made again for a copy with
        another table, or when ``uses`` (other objects it reads) are not the same objects."""
        return _derived(self.cache, key, make, (self.table, *uses))

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
        prep.input_summary += as_given(population.attrs.get("notes", []), area.population[0])
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
    holds_all = holds_all_categories(area, extract)
    frames += place_layers(area, tax, net.crs, notes)
    prep.addresses, prep.landuse = residence_files(area, prep.notes)
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
                prep.input_summary += as_given(b.attrs.get(key, []), area.boundaries[0])
        use_buurten(prep, b)
        refuse_if_elsewhere(prep, extract)
    else:
        hexes, origins = h3_grid(homes, net.crs)
        # an estimate grid drawn on the data itself: hexagons are cut to the covered land, so
        # none straddles the edge of the data (their homes all lie inside it)
        hexes["geometry"] = hexes.geometry.intersection(prep.extent.polygon())
        prep.areas = hexes.assign(wijkcode=None, inwoners=np.nan, inwoners_65plus=np.nan)
        prep.origins = _compact(origins)
        prep.area_kind = "h3"
        prep.demand = "woongebouwen"
        add_extent_columns(prep)
        prep.areas["dekking"] = 1.0
        notes.append("Geen buurtgrenzen: zeshoeken (H3) met woongebouwen uit OSM als schatting.")
    if prep.origins is not None and prep._access is not None:
        progress(0.95, "Woningen en plekken aan het netwerk koppelen")
        prep.plain_snaps()
    progress(1.0, "Klaar")
    return prep


def _compact(origins: pd.DataFrame) -> pd.DataFrame:
    """Origins with their text columns (area code, kind) as categories: tens of thousands of
    rows are filtered on every run, and taking rows of a categorical is ~50x cheaper than of
    a (pyarrow) string column."""
    text = [c for c in origins.columns if c != "geometry" and (
        pd.api.types.is_string_dtype(origins[c]) or origins[c].dtype == object)]
    return origins.astype({c: "category" for c in text})


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
    prep.origins = _compact(origins)
    prep.notes += notes
    prep.area_notes = notes.detail
    prep.row_notes = [n for n in prep.row_notes if not n.kind.startswith("buurt_")] + [
        Note(FALLBACK_KINDS.get(k, "buurt_" + k), text) for k, text in
        zip(notes.detail["kind"], notes.detail["text"], strict=True)]
    add_extent_columns(prep)


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
    return base_field(prep.net, state, use, cache_size=FIELD_CACHE_SIZE)


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
    if scenario:
        dist, src = distances_at(prep.net, field_, state["origins"])
    else:  # the cached field's distances at the homes (the cycleway note reads them too)
        dist, src = base_at_origins(prep.net, state, keep[owner], cache_size=FIELD_CACHE_SIZE)
    place_row = np.where(src >= 0, owner[np.maximum(src, 0)], -1)
    limit = profile.max_distance_m
    weight_col = prep.weight_col
    status = area_status(prep, prep.origins, limit)
    origins = without_uncovered(prep, status, dist_m=dist, place_row=place_row,
                                tijd_min=dist / (profile.speed_kmh * 1000.0 / 60.0))
    dist = origins["dist_m"].to_numpy()
    weight = origins[weight_col].to_numpy(dtype=float)
    agg = aggregate_by_area(origins["area"], weight, dist, limit, pd.Index(prep.areas["code"]))
    table = _result_table(prep, profile, agg, status)
    kept = np.nonzero(keep)[0]
    places = places_all.iloc[kept].copy()
    pr = origins["place_row"].to_numpy()
    reached = (dist <= limit) & (pr >= 0)
    within = np.bincount(pr[reached], weights=np.nan_to_num(weight[reached]),
                         minlength=len(places_all))
    places["binnen_bereik"] = within[kept]
    places["row"] = kept
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
    n = len(a)
    cols = {
        "buurtcode": a["code"].to_numpy(), "buurtnaam": a["naam"].to_numpy(),
        "wijkcode": a["wijkcode"].to_numpy(), "inwoners": a["inwoners"].to_numpy(),
        "inwoners_65plus": a["inwoners_65plus"].to_numpy(),
        "inwoners_65plus_geschat": (
            a["inwoners_65plus_geschat"].fillna(False).astype(bool).to_numpy()
            if "inwoners_65plus_geschat" in a else np.zeros(n, dtype=bool)),
        "binnen_bereik_65plus": within_r if suffix == "65plus" else np.full(n, np.nan),
        "buiten_bereik_65plus": beyond_r if suffix == "65plus" else np.full(n, np.nan),
        "aandeel_binnen_bereik": np.where(known, agg["share"].to_numpy(), np.nan),
        "mediaan_afstand_m": np.where(
            counted, np.round(agg["median_m"].to_numpy(dtype=float), 0), np.nan),
        "profiel": np.full(n, profile.id, dtype=object),
        "max_afstand_m": np.full(n, round(profile.max_distance_m, 1)),
        "status": status,
        "dekking": np.round(a["dekking"].to_numpy(dtype=float), 3),
    }
    if suffix != "65plus":
        if suffix == "woongebouwen":
            cols["woongebouwen"] = np.round(total)
        cols[f"binnen_bereik_{suffix}"] = within_r
        cols[f"buiten_bereik_{suffix}"] = beyond_r
    cols["p90_afstand_m"] = np.where(counted, np.round(agg["p90_m"].to_numpy(dtype=float), 0),
                                     np.nan)
    cols["gebiedstype"] = np.full(
        n, "buurt" if prep.area_kind == "buurt" else "H3-zeshoek (schatting)", dtype=object)
    cols["telt"] = np.full(n, DEMAND_LABEL[prep.demand], dtype=object)
    return gpd.GeoDataFrame(pd.DataFrame(cols, index=a.index), geometry=a.geometry.values,
                            crs=a.crs)


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
        **coverage_headline(prep, table, total, label=DEMAND_LABEL[prep.demand]),
    }

