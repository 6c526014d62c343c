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

from geo.boundaries import read_boundaries
from geo.coverage import aggregate_by_area
from geo.errors import InputError
from geo.facilities import far_from_paths, read_facility_list
from geo.hours import Period, open_mask
from geo.incremental import add_sources, remove_sources
from geo.network import WalkNetwork, network_from_extract
from geo.online import read_bundle
from geo.osm import check_coverage, read_osm
from geo.population import read_kerncijfers
from geo.profiles import Profile, describe_exclusions, edge_mask, exclusion_report
from geo.routing import DistanceField, SegmentGrid, Snapped, distances_at, nearest_sources
from layers.datasets import AreaData
from layers.demand import h3_grid, origins_for_areas, residential_buildings
from layers.fmt import fmt_int
from layers.neighbourhoods import demand_unit, join_population
from layers.places import access_points, merge_places, places_from_list, places_from_osm
from layers.scenario import Scenario
from layers.taxonomy import Taxonomy, load_taxonomy

Progress = Callable[[float, str], None]

#: Per-area result columns, in this order, in every table and export (see README).
SCHEMA = [
    "buurtcode", "buurtnaam", "wijkcode", "inwoners", "inwoners_65plus",
    "binnen_bereik_65plus", "buiten_bereik_65plus", "aandeel_binnen_bereik",
    "mediaan_afstand_m", "profiel", "max_afstand_m",
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
    notes: list[str] = field(default_factory=list)
    taxonomy: Taxonomy = field(default_factory=load_taxonomy)
    place_problems: list[str] = field(default_factory=list)
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
            idx = SegmentGrid(self.net, mask)
            ax, ay, _ = self._access
            self._by_mask[key] = {
                "adjacency": self.net.adjacency(mask),
                "index": idx,
                "origins": idx.snap(self.origins["x"].to_numpy(), self.origins["y"].to_numpy(),
                                    max_dist=MAX_SNAP_M),
                "access": idx.snap(ax, ay, max_dist=MAX_SNAP_M),
            }
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
    if not area.osm:
        return prep
    progress(0.1, "OSM-extract lezen")
    if area.osm[0].is_dir():  # a cached online download
        extract = read_bundle(area.osm[0])
    else:
        extract = read_osm(area.osm[0], feature_keys=tax.osm_keys,
                           feature_filter=lambda t: tax.classify(t) is not None)
    progress(0.35, "Loopnetwerk bouwen")
    net = network_from_extract(extract)
    prep.net = net
    comps = np.bincount(net.components)
    notes.append(
        f"Netwerk: {fmt_int(net.n_nodes)} knopen, {fmt_int(net.n_edges)} segmenten, "
        f"{len(comps)} losse delen (grootste {fmt_int(comps[0])} knopen)."
    )
    progress(0.5, "Ontmoetingsplekken indelen")
    frames = [places_from_osm(extract.features, tax, net.crs)]
    for f in area.facilities:
        try:
            fac, problems = read_facility_list(f)
        except InputError as exc:
            prep.place_problems.append(str(exc))
            continue
        prep.place_problems += [f"{f.name}: {p}" for p in problems]
        frames.append(places_from_list(fac, tax, net.crs))
    prep.places = merge_places(*frames)
    prep._access = access_points(prep.places, net, tax)
    progress(0.65, "Buurten en woningen koppelen")
    homes = residential_buildings(extract.buildings, net.crs)
    prep.homes = homes
    if area.boundaries:
        b = read_boundaries(area.boundaries[0])
        for key in ("warnings", "notes", "problems"):
            prep.notes += [str(x) for x in b.attrs.get(key, [])]
        prep.notes += check_coverage(extract, b)
        use_buurten(prep, b)
    else:
        hexes, origins = h3_grid(homes, net.crs)
        prep.areas = hexes.assign(wijkcode=None, inwoners=np.nan, inwoners_65plus=np.nan)
        prep.origins = origins
        prep.area_kind = "h3"
        prep.demand = "woongebouwen"
        notes.append("Geen buurtgrenzen: zeshoeken (H3) met woongebouwen uit OSM als schatting.")
    progress(1.0, "Klaar")
    return prep


def use_buurten(prep: Prepared, buurten: gpd.GeoDataFrame) -> None:
    """Make ``buurten`` (as :func:`geo.boundaries.read_boundaries` returns them) the areas of a
    prepared analysis: join the CBS figures and spread them over the homes."""
    net = prep.net
    homes = prep.homes
    assert net is not None and homes is not None
    prep.area_kind = "buurt"
    b, notes = join_population(buurten, prep.population)
    prep.notes += notes
    prep.demand = demand_unit(b)
    if prep.demand == "woongebouwen":
        prep.notes.append("Geen inwonertallen bij de buurtgrenzen: de kaart telt woongebouwen.")
    prep.areas = b.to_crs(net.crs).reset_index(drop=True)
    totals = {} if prep.demand == "woongebouwen" else {"w_demand": prep.demand}
    origins, notes = origins_for_areas(prep.areas, homes, net, code="code", totals=totals)
    origins["w_homes"] = (origins["kind"] == "woongebouw").astype(float)
    prep.origins = origins
    prep.notes += notes


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
    agg = aggregate_by_area(origins["area"].to_numpy(), origins[weight_col].to_numpy(), dist,
                            limit, pd.Index(prep.areas["code"]))
    table = _result_table(prep, profile, agg)
    places = places_all[keep].copy()
    within = origins[origins["dist_m"] <= limit].groupby("place_row")[weight_col].sum()
    places["binnen_bereik"] = within.reindex(np.nonzero(keep)[0]).fillna(0.0).to_numpy()
    places["row"] = np.nonzero(keep)[0]
    choices = Choices(profile, categories, spheres, period, scenario)
    notes = list(prep.notes) + _run_notes(prep, state, field_, dist, keep, unknown_hours,
                                          profile, period)
    return Result(prep, profile, table, origins, places, _headline(prep, table), notes,
                  choices, field_, owner)


def _run_notes(prep, state, field_, dist, keep, unknown_hours, profile, period) -> list[str]:
    notes = []
    acc: Snapped = state["access"]
    use = keep[prep._access[2]] if len(keep) == len(prep.places) else None
    off = int((~state["origins"].ok).sum())
    if off:
        notes.append(f"{fmt_int(off)} woonadressen liggen verder dan {MAX_SNAP_M:.0f} m van een "
                     "bruikbaar pad en tellen als buiten bereik.")
    island = int((state["origins"].ok & ~np.isfinite(dist)).sum())
    if island:
        notes.append(f"{fmt_int(island)} woonadressen liggen op een los stuk netwerk zonder "
                     "bereikbare ontmoetingsplek (bijvoorbeeld achter een trap voor dit profiel, "
                     "of een ontbrekende verbinding in OSM) en tellen als buiten bereik.")
    if use is not None and (~acc.ok[use]).any():
        # a place is unusable only when none of its access points reaches a path
        nearest = pd.Series(acc.dist).groupby(prep._access[2]).min()
        per_place = nearest.reindex(range(len(prep.places))).fillna(np.inf).to_numpy()
        far = far_from_paths(prep.places[keep[: len(prep.places)]],
                             per_place[keep[: len(prep.places)]], MAX_SNAP_M)
        notes += [f"Ontmoetingsplek niet gebruikt: {p}" for p in far]
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
    return notes


def _result_table(prep: Prepared, profile: Profile, agg: pd.DataFrame) -> gpd.GeoDataFrame:
    a = prep.areas
    assert a is not None
    t = gpd.GeoDataFrame(
        {"buurtcode": a["code"], "buurtnaam": a["naam"], "wijkcode": a["wijkcode"],
         "inwoners": a["inwoners"], "inwoners_65plus": a["inwoners_65plus"]},
        geometry=a.geometry.values, crs=a.crs,
    )
    within = agg["within"].to_numpy()
    total = agg["total"].to_numpy()
    if prep.demand == "woongebouwen":
        known = np.ones(len(t), dtype=bool)
    else:
        known = a[prep.demand].notna().to_numpy()
    # whole people / buildings; within + beyond = total exactly
    within_r = np.where(known, np.round(within), np.nan)
    beyond_r = np.where(known, np.round(total) - within_r, np.nan)
    suffix = DEMAND_SUFFIX[prep.demand]
    t["binnen_bereik_65plus"] = within_r if suffix == "65plus" else np.nan
    t["buiten_bereik_65plus"] = beyond_r if suffix == "65plus" else np.nan
    t["aandeel_binnen_bereik"] = np.where(known, agg["share"].to_numpy(), np.nan)
    t["mediaan_afstand_m"] = np.round(agg["median_m"].to_numpy(dtype=float), 0)
    t["profiel"] = profile.id
    t["max_afstand_m"] = round(profile.max_distance_m, 1)
    if suffix != "65plus":
        if suffix == "woongebouwen":
            t["woongebouwen"] = np.round(total)
        t[f"binnen_bereik_{suffix}"] = within_r
        t[f"buiten_bereik_{suffix}"] = beyond_r
    t["p90_afstand_m"] = np.round(agg["p90_m"].to_numpy(dtype=float), 0)
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
    }
