"""Before and after: two runs of one area compared per buurt, as evidence for a decision.

The two runs may differ in their facility lists, their OSM extracts (e.g. of two dates) or a
scenario. Per buurt: the counted group (65+) within reach before and after, and how many
*gained* and *lost* reach. When both runs share their homes (same extract: lists or scenario)
gained and lost are counted per home, so a buurt can gain and lose at once; with two extracts
the homes differ and only the net change per buurt is known (reported as such). A buurt whose
reach is unknown on either side (NaN) stays NaN.

Outputs: the table, a PNG map of gained and lost reach (the street network within the limit
after but not before, and the reverse), and a one-page PDF in the style of
:mod:`layers.report`. Scenarios are saved as JSON (WGS84) so the dashboard and the command line
can exchange them.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import InputError
from layers.analysis import DEMAND_SUFFIX, Result
from layers.choice import unknown_reach
from layers.outputs import SUPPRESS_BELOW, service_area_layer
from layers.scenario import AddedPlace, Scenario

#: Gained/lost reach thinner than this (m) is buffering noise, not reach.
SLACK_M = 1.0
MIN_PART_M2 = 25.0
COLUMNS = ["buurtcode", "buurtnaam", "wijkcode", "totaal", "binnen_bereik_voor",
           "binnen_bereik_na", "gewonnen", "verloren", "verschil", "aandeel_voor", "aandeel_na",
           "echte_keuze_voor", "echte_keuze_na"]


@dataclass
class Comparison:
    before: Result
    after: Result
    table: pd.DataFrame  # COLUMNS, one row per buurt of either run
    per_home: bool  # gained/lost counted per home (same homes in both runs)
    labels: tuple[str, str] = ("vóór", "ná")
    notes: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return {"65plus": "65-plussers", "inwoners": "inwoners",
                "woongebouwen": "woongebouwen"}[DEMAND_SUFFIX[self.after.prepared.demand]]

    def totals(self) -> dict:
        """Whole-area sums over the buurten known on both sides (raw numbers)."""
        t = self.table
        known = t["aandeel_voor"].notna() & t["aandeel_na"].notna()
        k = t[known]
        return {c: float(k[c].sum()) for c in ("totaal", "binnen_bereik_voor",
                                               "binnen_bereik_na", "gewonnen", "verloren",
                                               "echte_keuze_voor", "echte_keuze_na")}


def _same_homes(a: Result, b: Result) -> bool:
    if a.prepared is b.prepared:
        return True
    oa, ob = a.origins, b.origins
    return (len(oa) == len(ob) and np.array_equal(oa["x"].to_numpy(), ob["x"].to_numpy())
            and np.array_equal(oa["area"].to_numpy(), ob["area"].to_numpy()))


def _side(r: Result) -> pd.DataFrame:
    s = DEMAND_SUFFIX[r.prepared.demand]
    t = r.table
    unknown = unknown_reach(t)
    within = t[f"binnen_bereik_{s}"].where(~unknown)
    total = (t[f"binnen_bereik_{s}"] + t[f"buiten_bereik_{s}"]).where(~unknown)
    return pd.DataFrame({"buurtcode": t["buurtcode"].to_numpy(),
                         "buurtnaam": t["buurtnaam"].to_numpy(),
                         "wijkcode": t["wijkcode"].to_numpy(), "totaal": total.to_numpy(),
                         "binnen": within.to_numpy(),
                         "aandeel": t["aandeel_binnen_bereik"].where(~unknown).to_numpy()})


def compare(before: Result, after: Result, *,
            labels: tuple[str, str] = ("vóór", "ná")) -> Comparison:
    """Per buurt: within reach before and after, gained, lost and the net change."""
    if before.prepared.demand != after.prepared.demand:
        raise InputError("de twee doorrekeningen tellen verschillende dingen "
                         f"({before.headline['telt']} en {after.headline['telt']})",
                         fix="vergelijk doorrekeningen met dezelfde buurtgrenzen en CBS-cijfers")
    b, a = _side(before), _side(after)
    t = b.merge(a, on="buurtcode", how="outer", suffixes=("_voor", "_na"))
    for c in ("buurtnaam", "wijkcode"):
        t[c] = t[f"{c}_na"].fillna(t[f"{c}_voor"])
    t["totaal"] = t["totaal_na"].fillna(t["totaal_voor"])
    t["binnen_bereik_voor"], t["binnen_bereik_na"] = t["binnen_voor"], t["binnen_na"]
    t["verschil"] = t["binnen_na"] - t["binnen_voor"]
    per_home = _same_homes(before, after)
    notes = []
    if per_home:
        o = after.origins
        w = o[after.prepared.weight_col].to_numpy(dtype=float)
        was = before.origins["dist_m"].to_numpy() <= before.profile.max_distance_m
        now = o["dist_m"].to_numpy() <= after.profile.max_distance_m
        area = o["area"].to_numpy()
        gained = pd.Series(np.where(now & ~was, w, 0.0)).groupby(area).sum()
        # whole persons with gained − lost = the change in the (rounded) counts, exactly
        g = np.round(t["buurtcode"].map(gained).fillna(0.0))
        lo = g - t["verschil"]
        t["gewonnen"] = np.where(lo < 0, t["verschil"], g)
        t["verloren"] = np.where(lo < 0, 0.0, lo)
    else:
        t["gewonnen"] = t["verschil"].clip(lower=0)
        t["verloren"] = (-t["verschil"]).clip(lower=0)
        notes.append("De twee doorrekeningen hebben verschillende woningen (andere OSM-extracten): "
                     "gewonnen en verloren zijn per buurt verrekend (netto).")
    unknown = t["aandeel_voor"].isna() | t["aandeel_na"].isna()
    for c in ("gewonnen", "verloren", "verschil"):
        t.loc[unknown, c] = np.nan
    for r, side in ((before, "voor"), (after, "na")):  # real choice, when places exist
        t[f"echte_keuze_{side}"] = t["buurtcode"].map(_real_choice(r))
    t.loc[unknown, ["echte_keuze_voor", "echte_keuze_na"]] = np.nan
    one_side = int((t["aandeel_voor"].isna() != t["aandeel_na"].isna()).sum())
    if one_side:
        notes.append(f"{one_side} buurt(en) met bekend bereik aan maar één kant: verschil "
                     "onbekend.")
    t = t[COLUMNS].sort_values(["verschil", "buurtcode"], ascending=[False, True],
                               na_position="last").reset_index(drop=True)
    return Comparison(before, after, t, per_home, labels, notes)


def _real_choice(r: Result) -> pd.Series:
    """The counted group with a real choice per buurtcode (0 without places)."""
    from layers.choice import choice_columns

    s = DEMAND_SUFFIX[r.prepared.demand]
    if r.nearest is None or not len(r.places):
        return pd.Series(0.0, index=r.table["buurtcode"])
    return pd.Series(choice_columns(r)[f"echte_keuze_{s}"].to_numpy(),
                     index=r.table["buurtcode"])


# --------------------------------------------------------------------------- reach areas
def reach_area(result: Result):
    """The street network within the limit of any place (buffered), one geometry."""
    if result.nearest is None or not len(result.places):
        return shapely.Polygon()
    return shapely.union_all(service_area_layer(result, nearest_only=True).geometry.values)


def gained_lost_areas(cmp: Comparison) -> tuple[object, object]:
    """(gained, lost) reach: within the limit after but not before, and the reverse (network
    CRS of the 'after' run)."""
    a = reach_area(cmp.after)
    b = reach_area(cmp.before)
    if cmp.before.table.crs != cmp.after.table.crs:
        import geopandas as gpd

        b = gpd.GeoSeries([b], crs=cmp.before.table.crs).to_crs(cmp.after.table.crs).iloc[0]
    # 1 m of slack: the pieces of each run are buffered apart, so their unions differ by slivers
    return (_solid(shapely.difference(a, shapely.buffer(b, SLACK_M))),
            _solid(shapely.difference(b, shapely.buffer(a, SLACK_M))))


def _solid(geom):
    """``geom`` without the crumbs (parts under :data:`MIN_PART_M2`) buffer arcs leave."""
    parts = shapely.get_parts(geom)
    keep = parts[shapely.area(parts) >= MIN_PART_M2]
    return shapely.union_all(keep) if len(keep) else shapely.Polygon()


def change_homes(cmp: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Homes that gained and lost reach (only when both runs share their homes)."""
    if not cmp.per_home:
        empty = cmp.after.origins.iloc[:0]
        return empty, empty
    o = cmp.after.origins
    was = cmp.before.origins["dist_m"].to_numpy() <= cmp.before.profile.max_distance_m
    now = o["dist_m"].to_numpy() <= cmp.after.profile.max_distance_m
    w = o[cmp.after.prepared.weight_col].to_numpy() > 0
    return o[now & ~was & w], o[was & ~now & w]


def choice_homes(cmp: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Homes that gained and lost a real choice (only when both runs share their homes)."""
    from layers.choice import category_reach

    empty = cmp.after.origins.iloc[:0]
    if not cmp.per_home or not len(cmp.before.places) or not len(cmp.after.places):
        return empty, empty
    was = category_reach(cmp.before).real_choice
    now = category_reach(cmp.after).real_choice
    o = cmp.after.origins
    w = o[cmp.after.prepared.weight_col].to_numpy() > 0
    return o[now & ~was & w], o[was & ~now & w]


def small(t: pd.DataFrame, people: bool) -> np.ndarray:
    """Rows under the CBS small-count rule (fewer than 10 of the counted group)."""
    return (people & (t["totaal"] < SUPPRESS_BELOW)).fillna(False).to_numpy(dtype=bool)


def map_png(cmp: Comparison, *, dpi: int = 150) -> bytes:
    """A map of gained (green, hatched /) and lost (red, hatched \\) reach over the buurten
    coloured by the net change; places of both runs marked."""
    import matplotlib.pyplot as plt

    from layers.compare_report import draw_change_map

    fig, ax = plt.subplots(figsize=(11, 8), dpi=dpi)
    try:
        draw_change_map(ax, cmp, legend=True)
        ax.set_title(f"Ontmoetingskaart — {cmp.after.prepared.area.name}: bereik "
                     f"{cmp.labels[0]} → {cmp.labels[1]}", fontsize=11)
        fig.text(0.01, 0.01, "Kaartgegevens © OpenStreetMap-bijdragers (ODbL); buurten en "
                 "inwoners © CBS (CC BY 4.0).", fontsize=7)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- scenario files
def scenario_to_json(scenario: Scenario, crs, places: pd.DataFrame | None = None) -> str:
    """A scenario as JSON: added places in WGS84 (lon/lat), closed places by id and name."""
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    names = {} if places is None else dict(zip(places["place_id"], places["naam"], strict=True))
    added = []
    for p in scenario.added:
        lon, lat = tr.transform(p.x, p.y)
        added.append({"naam": p.naam, "categorie": p.categorie, "lon": round(lon, 7),
                      "lat": round(lat, 7)})
    closed = [{"place_id": pid, "naam": _plain(names.get(pid))} for pid in scenario.removed]
    return json.dumps({"toegevoegd": added, "gesloten": closed}, ensure_ascii=False, indent=2)


def _plain(v):
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def scenario_from_json(text: str, crs, places: pd.DataFrame, *, path=None) -> Scenario:
    """A scenario read from :func:`scenario_to_json`'s JSON for an area with ``places``. A
    closed place is found by id, and by name when the id now names another place."""
    fix = ('een JSON-bestand {"toegevoegd": [{"naam", "categorie", "lon", "lat"}], '
           '"gesloten": [{"place_id", "naam"}]} zoals het dashboard het bewaart')
    try:
        doc = json.loads(text)
        added = [AddedPlace.from_lonlat(float(a["lon"]), float(a["lat"]), crs,
                                        naam=str(a.get("naam") or "Nieuwe ontmoetingsplek"),
                                        categorie=str(a.get("categorie") or "buurtkamer"))
                 for a in doc.get("toegevoegd", [])]
        closed_raw = doc.get("gesloten", [])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"scenario niet te lezen ({exc})", path=path, fix=fix) from exc
    by_id = dict(zip(places["place_id"], places["naam"], strict=True))
    closed = []
    for c in closed_raw:
        pid, naam = (c, None) if isinstance(c, str) else (c.get("place_id"), c.get("naam"))
        if pid in by_id and (naam is None or by_id[pid] == naam):
            closed.append(pid)
            continue
        match = places.loc[places["naam"] == naam, "place_id"] if naam else places.iloc[:0]
        if len(match) != 1:
            raise InputError(f"gesloten plek {naam or pid!r} bestaat niet (of niet eenduidig) in "
                             "dit gebied", path=path, fix="sluit plekken van dit gebied; "
                             "bewaar het scenario opnieuw in het dashboard")
        closed.append(str(match.iloc[0]))
    return Scenario(tuple(added), tuple(dict.fromkeys(closed)))
