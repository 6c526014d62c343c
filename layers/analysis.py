"""The analysis the dashboard and the command line share: prepare an area once, then run it for
any profile and filter in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.boundaries import read_boundaries
from geo.coverage import aggregate_by_area
from geo.errors import InputError
from geo.facilities import read_facility_list
from geo.network import WalkNetwork, network_from_extract
from geo.online import read_bundle
from geo.osm import read_osm
from geo.population import read_kerncijfers
from geo.profiles import Profile, edge_mask
from geo.routing import SegmentIndex, Snapped, distances_at, nearest_sources
from layers.datasets import AreaData
from layers.demand import h3_grid, origins_for_areas, residential_buildings
from layers.fmt import fmt_int
from layers.neighbourhoods import demand_unit, join_population
from layers.places import access_points, merge_places, places_from_list, places_from_osm
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
    place_problems: list[str] = field(default_factory=list)
    _access: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    _by_mask: dict = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.net is not None and self.areas is not None

    def routing_state(self, profile: Profile) -> dict:
        """Adjacency, segment index and snapped origins/access points for a profile's mask."""
        assert self.net is not None and self.origins is not None and self._access is not None
        mask = edge_mask(self.net, profile)
        key = None if mask is None else mask.tobytes()
        if key not in self._by_mask:
            idx = SegmentIndex(self.net, mask)
            ax, ay, _ = self._access
            self._by_mask[key] = {
                "adjacency": self.net.adjacency(mask),
                "index": idx,
                "origins": idx.snap(self.origins["x"].to_numpy(), self.origins["y"].to_numpy(),
                                    max_dist=MAX_SNAP_M),
                "access": idx.snap(ax, ay, max_dist=MAX_SNAP_M),
            }
        return self._by_mask[key]


@dataclass
class Result:
    prepared: Prepared
    profile: Profile
    table: gpd.GeoDataFrame  # SCHEMA + extras, one row per area, in the network CRS
    origins: pd.DataFrame  # x, y, area, weight, dist_m, place_row
    places: gpd.GeoDataFrame  # places used, with "binnen_bereik" (demand within reach)
    headline: dict
    notes: list[str]


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
    prep = Prepared(area=area, population=population, notes=notes)
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
        prep.notes += list(b.attrs.get("warnings", []))
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


def run(
    prep: Prepared,
    profile: Profile,
    *,
    categories: Collection[str] | None = None,
    spheres: Collection[str] | None = None,
) -> Result:
    """Distances from every origin to the nearest selected meeting place, and per-area results."""
    if not prep.ready:
        raise InputError("dit gebied kan niet doorgerekend worden: " + " ".join(
            prep.area.missing()), fix="voeg de ontbrekende bestanden toe")
    assert prep.net is not None and prep.places is not None and prep.origins is not None
    assert prep._access is not None and prep.areas is not None
    state = prep.routing_state(profile)
    keep = np.ones(len(prep.places), dtype=bool)
    if categories is not None:
        keep &= prep.places["categorie"].isin(list(categories)).to_numpy()
    if spheres is not None:
        keep &= prep.places["sfeer"].isin(list(spheres)).to_numpy()
    owner = prep._access[2]
    use = keep[owner]
    acc: Snapped = state["access"]
    sources = Snapped(np.where(use, acc.edge, -1), acc.t, acc.dist)
    field_ = nearest_sources(prep.net, sources, adjacency=state["adjacency"])
    dist, src = distances_at(prep.net, field_, state["origins"])
    place_row = np.where(src >= 0, owner[np.maximum(src, 0)], -1)
    limit = profile.max_distance_m
    origins = prep.origins.assign(dist_m=dist, place_row=place_row)
    weight_col = "w_homes" if prep.demand == "woongebouwen" else "w_demand"
    agg = aggregate_by_area(origins["area"].to_numpy(), origins[weight_col].to_numpy(), dist,
                            limit, pd.Index(prep.areas["code"]))
    table = _result_table(prep, profile, agg)
    places = prep.places[keep].copy()
    within = origins[origins["dist_m"] <= limit].groupby("place_row")[weight_col].sum()
    places["binnen_bereik"] = within.reindex(np.nonzero(keep)[0]).fillna(0.0).to_numpy()
    unsnapped_places = int((~acc.ok[use]).sum())
    notes = list(prep.notes)
    off = int((~state["origins"].ok).sum())
    if off:
        notes.append(f"{off} woonadressen liggen verder dan {MAX_SNAP_M:.0f} m van een "
                     "bruikbaar pad en tellen als buiten bereik.")
    if unsnapped_places:
        notes.append(f"{unsnapped_places} toegangspunten van ontmoetingsplekken liggen verder "
                     f"dan {MAX_SNAP_M:.0f} m van een bruikbaar pad en worden niet gebruikt.")
    return Result(prep, profile, table, origins, places, _headline(prep, table), notes)


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
