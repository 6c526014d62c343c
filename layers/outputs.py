"""What a result becomes for people and GIS tools: CBS-style suppression of small counts, wijk
totals, service and gap areas, and the layers every export writes (same names everywhere).

Small counts: an area with fewer than :data:`SUPPRESS_BELOW` residents of the counted group
shows "< 10" on screen; in exports its counts and share are empty (null) and ``onderdrukt`` is
true. Municipal totals are always computed from the raw numbers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage import aggregate_by_area
from geo.discs import disc_union
from geo.reach import buffer_union, nearest_service_lines, places_within, service_areas
from layers.analysis import DEMAND_SUFFIX, SCHEMA, Result
from layers.choice import choice_table, origin_columns, wijk_choice
from layers.fmt import fmt_int, fmt_m, fmt_pct
from layers.sources import data_categories_sentence

SUPPRESS_BELOW = 10
#: Residential land around homes beyond reach is drawn this far around each home.
GAP_BUFFER_M = 30.0
SERVICE_BUFFER_M = 25.0
DUTCH_CRS = "EPSG:28992"

#: Columns that count people, buildings or places, and distances in whole metres: exported
#: as whole numbers (nullable Int64, empty where unknown or suppressed).
WHOLE_COLUMNS = (
    "inwoners", "inwoners_65plus", "binnen_bereik_65plus", "buiten_bereik_65plus",
    "binnen_bereik_inwoners", "buiten_bereik_inwoners", "woongebouwen",
    "binnen_bereik_woongebouwen", "buiten_bereik_woongebouwen", "binnen_bereik",
    "buiten_bereik", "samengevoegd", "aantal_buurten", "plekken_binnen_bereik", "gat_id",
    "mediaan_afstand_m", "p90_afstand_m",
    # suggest / benches tables (cli.py --out)
    "rang", "winst", "winst_cumulatief", "binnen_bereik_met_rust", "zonder_rust_te_ver",
    # choice, ageing and before/after (layers/choice.py, ageing.py, compare.py)
    "echte_keuze_65plus", "echte_keuze_inwoners", "echte_keuze_woongebouwen",
    "categorieen_binnen_bereik", "inwoners_65plus_vorig", "groei_65plus", "binnen_bereik_voor",
    "binnen_bereik_na", "gewonnen", "verloren", "verschil", "echte_keuze_voor", "echte_keuze_na",
)
#: Decimals of the other numeric columns (as the field descriptions say).
DECIMALS = {"aandeel_binnen_bereik": 3, "max_afstand_m": 1, "afstand_m": 1, "tijd_min": 1,
            "oppervlakte_ha": 2, "max_zonder_rust_m": 1, "dekking": 3,
            "aandeel_echte_keuze": 3, "aandeel_beide_sferen": 3, "gem_categorieen": 2,
            "groei_65plus_pct": 3, "aandeel_voor": 3, "aandeel_na": 3, "extra_buiten_bereik": 0}

FIELD_DESCRIPTIONS: dict[str, str] = {
    "buurtcode": "CBS-buurtcode (BU_CODE), of H3-celnummer bij zeshoeken",
    "buurtnaam": "Naam van de buurt (CBS)",
    "wijkcode": "CBS-wijkcode (WK_CODE)",
    "wijknaam": "Naam van de wijk (CBS)",
    "inwoners": "Inwoners (CBS Kerncijfers wijken en buurten), geheel getal",
    "inwoners_65plus": "Inwoners van 65 jaar en ouder (CBS), geheel getal; uit een CBS-percentage "
                       "berekend en dan afgerond waar inwoners_65plus_geschat waar is",
    "inwoners_65plus_geschat": "Waar: inwoners_65plus (en wat daaruit volgt) is een schatting "
                               "(CBS-percentage × inwoners, afgerond), geen telling",
    "binnen_bereik_65plus": "65-plussers binnen de maximale loopafstand van een ontmoetingsplek, "
                            "afgerond op hele personen",
    "buiten_bereik_65plus": "65-plussers verder dan de maximale loopafstand, afgerond op hele "
                            "personen (binnen + buiten = totaal)",
    "aandeel_binnen_bereik": "Aandeel (0–1) van de getelde groep binnen bereik, afgerond op 3 "
                             "decimalen (0,1 procentpunt)",
    "mediaan_afstand_m": "Mediane loopafstand (m) tot de dichtstbijzijnde ontmoetingsplek, "
                         "afgerond op hele meters; leeg = onbekend (niemand te tellen)",
    "p90_afstand_m": "90e percentiel van de loopafstand (m), afgerond op hele meters",
    "profiel": "Gebruikt mobiliteitsprofiel",
    "max_afstand_m": "Maximale loopafstand (m) = snelheid × minuten van het profiel, op 0,1 m",
    "status": "Dekking door het loopnetwerk in de gegevens: volledig; rand (een woning ligt "
              "dichter dan de maximale loopafstand bij de rand van de gegevens, binnen bereik is "
              "een ondergrens); buiten (geen loopnetwerk in de gegevens: geen cijfers)",
    "dekking": "Aandeel (0–1, 3 decimalen) van de buurt binnen het gebied dat het loopnetwerk "
               "in de gegevens dekt",
    "onderdrukt": "Waar: minder dan 10 personen, aantallen en aandeel weggelaten (CBS-regel)",
    "gebiedstype": "buurt of H3-zeshoek (schatting)",
    "telt": "Wat de aantallen tellen (65-plussers, inwoners of woongebouwen)",
    "woongebouwen": "Aantal woongebouwen (OSM) als schatting zonder inwonertallen, geheel getal",
    "naam": "Naam van de ontmoetingsplek (OSM of lokale lijst)",
    "categorie": "Categorie in de taxonomie van Ontmoetingskaart",
    "categorie_label": "Categorie, leesbaar",
    "sfeer": "Sfeer van de sociale basis (gemeenschappelijk / institutioneel / persoonlijk)",
    "bron": "Herkomst: OpenStreetMap, lokale lijst of scenario",
    "osm_id": "OSM-object (n/w/r + id)",
    "opening_hours": "Openingstijden (OSM-syntax), leeg = onbekend",
    "binnen_bereik": "Getelde personen/woongebouwen die deze plek als dichtstbijzijnde "
                     "binnen bereik hebben, afgerond op hele aantallen",
    "place_id": "Kenmerk van de plek in Ontmoetingskaart",
    "gat_id": "Volgnummer van het gebied buiten bereik",
    "buiten_bereik": "Getelde personen/woongebouwen in dit gebied buiten bereik, afgerond op "
                     "hele aantallen",
    "oppervlakte_ha": "Oppervlakte (ha), op 2 decimalen",
    "aantal_buurten": "Aantal buurten in de wijk",
    "soort": "Soort herkomst: woongebouw (OSM), adres, woongebied (OSM landuse), netwerkknoop "
             "of middelpunt (zonder woningen)",
    "afstand_m": "Loopafstand (m) tot de dichtstbijzijnde ontmoetingsplek, op 0,1 m; leeg = "
                 "onbereikbaar",
    "tijd_min": "Looptijd (min) bij de snelheid van het profiel, op 0,1 min",
    "dichtstbijzijnde_plek": "Naam van de dichtstbijzijnde ontmoetingsplek",
    "plekken_binnen_bereik": "Aantal ontmoetingsplekken binnen de maximale loopafstand",
    "samengevoegd": "Aantal bronrecords (OSM en lokale lijst) dat deze plek samenvoegt "
                    "(binnen 50 m)",
    "buurtcodes": "Buurten (of zeshoeken) waarin de woningen van dit gebied buiten bereik liggen",
    "binnen_bereik_woongebouwen": "Woongebouwen binnen de maximale loopafstand (schatting)",
    "buiten_bereik_woongebouwen": "Woongebouwen verder dan de maximale loopafstand (schatting)",
    "binnen_bereik_inwoners": "Inwoners binnen de maximale loopafstand (leeftijd onbekend)",
    "buiten_bereik_inwoners": "Inwoners verder dan de maximale loopafstand (leeftijd onbekend)",
    "echte_keuze_65plus": "65-plussers met echte keuze: minstens 2 soorten ontmoetingsplekken en "
                          "beide sferen (institutioneel en gemeenschappelijk) binnen bereik; "
                          "geheel getal",
    "echte_keuze_inwoners": "Inwoners met echte keuze (minstens 2 soorten plekken en beide "
                            "sferen binnen bereik), geheel getal",
    "echte_keuze_woongebouwen": "Woongebouwen met echte keuze (minstens 2 soorten plekken en "
                                "beide sferen binnen bereik; schatting), geheel getal",
    "aandeel_echte_keuze": "Aandeel (0–1) van de getelde groep met echte keuze, afgerond op "
                           "3 decimalen; leeg = onbekend",
    "aandeel_beide_sferen": "Aandeel (0–1) met een institutionele én een gemeenschappelijke "
                            "plek binnen bereik, afgerond op 3 decimalen",
    "gem_categorieen": "Gemiddeld aantal soorten ontmoetingsplekken binnen bereik (gewogen), "
                       "op 2 decimalen",
    "categorieen_binnen_bereik": "Aantal verschillende soorten ontmoetingsplekken binnen bereik",
    "sfeer_institutioneel": "Waar: een plek uit de institutionele sfeer binnen bereik",
    "sfeer_gemeenschappelijk": "Waar: een plek uit de gemeenschappelijke sfeer binnen bereik",
    "echte_keuze": "Waar: minstens 2 soorten plekken en beide sferen binnen bereik",
    "inwoners_65plus_vorig": "65-plussers in de vorige CBS-jaargang (zelfde of vorige buurtcode)",
    "groei_65plus": "Verandering van het aantal 65-plussers tussen de twee CBS-jaargangen",
    "groei_65plus_pct": "Verandering als aandeel (0–1) van het vorige aantal, op 3 decimalen",
    "status_code": "Buurtcode: gelijk, code gewijzigd (zelfde naam), nieuw of vervallen",
    "vorige_code": "Buurtcode in de vorige jaargang, als die anders was",
    "extra_buiten_bereik": "Groei van de 65-plussers maal het aandeel buiten bereik (schatting), "
                           "afgerond op hele personen",
    "totaal": "Getelde groep in de buurt (bij de vergelijking: ná)",
    "binnen_bereik_voor": "Getelden binnen bereik vóór (eerste doorrekening)",
    "binnen_bereik_na": "Getelden binnen bereik ná (tweede doorrekening)",
    "gewonnen": "Getelden die binnen bereik komen (per woning; netto bij andere extracten)",
    "verloren": "Getelden die buiten bereik raken (per woning; netto bij andere extracten)",
    "verschil": "Binnen bereik ná min vóór",
    "aandeel_voor": "Aandeel (0–1) binnen bereik vóór, op 3 decimalen",
    "aandeel_na": "Aandeel (0–1) binnen bereik ná, op 3 decimalen",
    "echte_keuze_voor": "Getelden met echte keuze vóór (≥ 2 soorten plekken, beide sferen)",
    "echte_keuze_na": "Getelden met echte keuze ná",
}
#: Beside the within/beyond counts, columns with these prefixes are nulled where suppressed.
SUPPRESSED_PREFIXES = ("binnen_bereik", "buiten_bereik", "aandeel_", "echte_keuze",
                       "gem_categorieen")


def tidy_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with numbers as a person expects them: counts and whole-metre distances as
    nullable integers (:data:`WHOLE_COLUMNS`), the rest rounded (:data:`DECIMALS`); a text
    column that is empty everywhere stays text. The dashboard shows the same rounded values."""
    out = df.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if col in WHOLE_COLUMNS and pd.api.types.is_numeric_dtype(out[col]) and \
                not pd.api.types.is_bool_dtype(out[col]):
            vals = pd.to_numeric(out[col], errors="coerce").astype(float)
            vals = vals.where(np.isfinite(vals))
            out[col] = vals.round().astype("Int64")
        elif col in DECIMALS and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].where(np.isfinite(out[col])).round(DECIMALS[col])
    return out


#: Column the population reader adds when a 65+ count is computed from a CBS percentage.
ESTIMATED = "inwoners_65plus_geschat"


def estimated_65plus(result: Result) -> pd.Series | None:
    """Per row of ``result.table``: whether its 65+ count is an estimate, as the population
    reader marks it (:data:`ESTIMATED` in the areas or the kerncijfers); None when unmarked."""
    prep = result.prepared
    for src in (prep.areas, prep.population):
        if src is not None and ESTIMATED in src.columns and "code" in src.columns:
            flags = dict(zip(src["code"], src[ESTIMATED].fillna(False).astype(bool),
                             strict=True))
            return result.table["buurtcode"].map(flags).fillna(False).astype(bool)
    return None


def counted_column(result: Result) -> str:
    return {"65plus": "inwoners_65plus", "inwoners": "inwoners",
            "woongebouwen": "woongebouwen"}[DEMAND_SUFFIX[result.prepared.demand]]


def suppress(table: pd.DataFrame, counted: str, *, people: bool = True) -> pd.DataFrame:
    """A copy with ``onderdrukt`` and, where it is true, the counts and share set to null.

    ``counted`` is the column holding the group size; buildings (``people=False``) are not
    personal data and are never suppressed.
    """
    t = table.copy()
    size = pd.to_numeric(t[counted], errors="coerce") if counted in t else pd.Series(np.nan)
    small = (size < SUPPRESS_BELOW).fillna(False).to_numpy(dtype=bool) if people else \
        np.zeros(len(t), dtype=bool)
    t["onderdrukt"] = small
    cols = [c for c in t.columns if c == counted or c.startswith(SUPPRESSED_PREFIXES)]
    for c in cols:
        t[c] = t[c].astype(float).where(~small)
    return t


def screen_value(v: float, suppressed: bool) -> str:
    """A count as people read it: '< 10' when suppressed."""
    return f"< {SUPPRESS_BELOW}" if suppressed else fmt_int(v)


def wijk_table(result: Result) -> gpd.GeoDataFrame:
    """Per wijk: the per-buurt numbers summed, and median / 90th percentile distance over all
    the wijk's origins (empty without wijkcodes, e.g. for hexagons)."""
    t = result.table
    if t["wijkcode"].isna().all():
        return gpd.GeoDataFrame(columns=["wijkcode", "geometry"], geometry="geometry", crs=t.crs)
    suffix = DEMAND_SUFFIX[result.prepared.demand]
    counted = counted_column(result)
    num = [c for c in ("inwoners", "inwoners_65plus", "woongebouwen",
                       f"binnen_bereik_{suffix}", f"buiten_bereik_{suffix}") if c in t]
    g = t.groupby("wijkcode", sort=True)
    geom = g.geometry.apply(lambda s: shapely.union_all(s.to_numpy()))
    out = gpd.GeoDataFrame({"wijkcode": geom.index.to_numpy()}, geometry=geom.to_numpy(),
                           crs=t.crs)
    for c in dict.fromkeys(num):
        out[c] = g[c].sum(min_count=1).reindex(geom.index).to_numpy()
    within, beyond = out[f"binnen_bereik_{suffix}"], out[f"buiten_bereik_{suffix}"]
    out["aandeel_binnen_bereik"] = within / (within + beyond).where(within + beyond > 0)
    wijk_of = dict(zip(t["buurtcode"], t["wijkcode"], strict=True))
    o = result.origins
    weight = o[result.prepared.weight_col].to_numpy()
    agg = aggregate_by_area(o["area"].map(wijk_of).to_numpy(), weight, o["dist_m"].to_numpy(),
                            result.profile.max_distance_m, pd.Index(out["wijkcode"]))
    out["mediaan_afstand_m"] = np.round(agg["median_m"].to_numpy(dtype=float))
    out["p90_afstand_m"] = np.round(agg["p90_m"].to_numpy(dtype=float))
    out["wijknaam"] = out["wijkcode"].map(wijk_names(result)).astype(object)
    est = estimated_65plus(result)
    if est is not None:  # a wijk total is an estimate when one of its buurten is
        out[ESTIMATED] = est.groupby(t["wijkcode"].to_numpy()).any().reindex(
            out["wijkcode"]).fillna(False).to_numpy()
    out["aantal_buurten"] = g.size().reindex(geom.index).to_numpy()
    out["profiel"] = result.profile.id
    out["max_afstand_m"] = round(result.profile.max_distance_m, 1)
    if counted not in out:
        out[counted] = within + beyond
    return out


def wijk_names(result: Result) -> dict:
    """CBS wijk names by wijkcode (from the kerncijfers; empty without them)."""
    pop = result.prepared.population
    if pop is None:
        return {}
    w = pop[pop["niveau"] == "Wijk"]
    return dict(zip(w["code"], w["naam"], strict=True))


def service_area_layer(result: Result, *, nearest_only: bool = False,
                       progress=None) -> gpd.GeoDataFrame:
    """Service areas of the places used: the network within the limit, buffered.

    ``nearest_only`` gives each reachable piece to its nearest place only (one pass; what the
    map draws); otherwise each place gets its whole reach, overlapping (what exports hold)."""
    prep = result.prepared
    key = ("service", nearest_only)
    if key in result.cache:
        return result.cache[key]
    state = prep.routing_state(result.profile)
    limit = result.profile.max_distance_m
    assert prep.net is not None and result.nearest is not None and result.owner is not None
    if nearest_only:
        lines, src = nearest_service_lines(prep.net, result.nearest.dist, result.nearest.source,
                                           limit)
        rows = result.owner[src]
        geoms = {int(r): buffer_union(lines[rows == r], SERVICE_BUFFER_M)
                 for r in np.unique(rows)}
    else:
        geoms = service_areas(prep.net, result.nearest.sources, result.owner,
                              adjacency=state["adjacency"], limit=limit,
                              buffer_m=SERVICE_BUFFER_M, progress=progress)
    p = result.places.set_index("row")
    rows_ = [r for r in geoms if r in p.index]
    out = gpd.GeoDataFrame(
        {"place_id": p.loc[rows_, "place_id"].to_numpy(), "naam": p.loc[rows_, "naam"].to_numpy(),
         "categorie": p.loc[rows_, "categorie"].to_numpy(),
         "profiel": result.profile.id, "max_afstand_m": round(limit, 1)},
        geometry=[geoms[r] for r in rows_], crs=prep.net.crs)
    result.cache[key] = out
    return out


def gap_layer(result: Result) -> gpd.GeoDataFrame:
    """Residential land beyond reach: homes (or other origins) farther than the limit, each
    drawn as a disc of :data:`GAP_BUFFER_M`, dissolved into separate areas (cut to the buurten)
    with the counted residents (or buildings) in each; see :func:`geo.discs.disc_union`."""
    if "gaps" in result.cache:
        return result.cache["gaps"]
    prep = result.prepared
    o = result.origins
    wcol = prep.weight_col
    far = o[(o["dist_m"] > result.profile.max_distance_m) & (o[wcol] > 0)]
    crs = prep.net.crs if prep.net is not None else None
    cols = ["gat_id", "buiten_bereik", "oppervlakte_ha", "buurtcodes"]
    if far.empty:
        out = gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=crs)
    else:
        x, y = far["x"].to_numpy(), far["y"].to_numpy()
        pts = shapely.points(x, y)
        parts = disc_union(x, y, GAP_BUFFER_M)  # the dissolved discs, 5-10x faster than buffers
        if prep.areas is not None and prep.area_kind == "buurt":
            areas = prep.areas
            land = prep.derived("land", lambda: _land(areas), uses=(areas,))
            clip = ~shapely.contains_properly(land, parts)
            parts = np.concatenate([parts[~clip], shapely.get_parts(
                shapely.intersection(parts[clip], land))])
            parts = parts[shapely.get_type_id(parts) == 3]
        parts = parts[shapely.area(parts) > 0]
        # the tree holds the homes and each area is tested once, prepared: much faster than
        # testing each home against the tree of large areas
        gi, pi = shapely.STRtree(pts).query(parts, predicate="intersects")
        first = np.full(len(pts), -1)
        order = np.lexsort((gi, pi))[::-1]
        first[pi[order]] = gi[order]  # a home on a border counts once (in the first area)
        w = far[wcol].to_numpy()
        count = np.bincount(first[first >= 0], weights=w[first >= 0], minlength=len(parts))
        pairs = pd.DataFrame({"gap": first, "code": far["area"].astype(str).to_numpy()})
        codes = (pairs[first >= 0].drop_duplicates().sort_values(["gap", "code"])
                 .groupby("gap")["code"].agg(",".join))
        out = gpd.GeoDataFrame(
            {"gat_id": np.arange(1, len(parts) + 1), "buiten_bereik": np.round(count),
             "oppervlakte_ha": np.round(shapely.area(parts) / 1e4, 2),
             "buurtcodes": codes.reindex(range(len(parts))).fillna("").to_numpy()},
            geometry=parts, crs=crs)
        out = out[out["buiten_bereik"] > 0].sort_values("buiten_bereik", ascending=False)
        out["gat_id"] = np.arange(1, len(out) + 1)
        out = out.reset_index(drop=True)
    out["telt"] = result.headline["telt"]
    out["profiel"] = result.profile.id
    result.cache["gaps"] = out
    return out


def _land(areas: gpd.GeoDataFrame) -> shapely.Geometry:
    """The union of the areas, prepared (kept per areas table by the caller)."""
    land = shapely.union_all(areas.geometry.values)
    shapely.prepare(land)
    return land


def _export_crs(crs):
    return DUTCH_CRS if str(crs).upper() == DUTCH_CRS else crs


def area_layer(result: Result) -> gpd.GeoDataFrame:
    """The per-area result as exported (schema columns first, suppressed, export CRS)."""
    table = choice_table(result) if result.nearest is not None else result.table
    cols = [c for c in SCHEMA if c in table] + [
        c for c in table.columns if c not in SCHEMA and c != "geometry"]
    t = suppress(table[[*dict.fromkeys(cols), "geometry"]], counted_column(result),
                 people=result.prepared.counts_people)
    est = estimated_65plus(result)
    if est is not None and ESTIMATED not in t:
        t.insert(t.columns.get_loc("inwoners_65plus") + 1, ESTIMATED, est.to_numpy())
    return tidy_numbers(t.to_crs(_export_crs(t.crs)))


def origin_layer(result: Result) -> gpd.GeoDataFrame:
    """Per origin (home): distance and time to the nearest place, which place, and how many
    places lie within reach. No counts of people: the 65+ share of a single home is a model
    value, not a figure to publish."""
    if "origins" in result.cache:
        return result.cache["origins"]
    prep = result.prepared
    assert prep.net is not None and result.nearest is not None and result.owner is not None
    state = prep.routing_state(result.profile)
    o = result.origins
    count = places_within(prep.net, result.nearest.sources, result.owner, state["origins"],
                          adjacency=state["adjacency"], limit=result.profile.max_distance_m)
    names = result.places.set_index("row")["naam"]
    d = o["dist_m"].to_numpy(dtype=float)
    out = gpd.GeoDataFrame(
        {"buurtcode": o["area"].to_numpy(), "soort": o["kind"].to_numpy(),
         "afstand_m": np.where(np.isfinite(d), np.round(d, 1), np.nan),
         "tijd_min": np.where(np.isfinite(d), np.round(o["tijd_min"].to_numpy(float), 1), np.nan),
         "dichtstbijzijnde_plek": o["place_row"].map(names).to_numpy(),
         "plekken_binnen_bereik": count, **origin_columns(result).to_dict("series"),
         "profiel": result.profile.id},
        geometry=shapely.points(o["x"].to_numpy(), o["y"].to_numpy()), crs=prep.net.crs)
    result.cache["origins"] = out
    return out


def export_layers(result: Result, *, progress=None) -> dict[str, gpd.GeoDataFrame]:
    """The layers every export writes, suppressed, in EPSG:28992 for Dutch areas (the network
    CRS otherwise). Keys: buurten, wijken, plekken, servicegebieden, gaten, herkomsten."""
    counted = counted_column(result)
    people = result.prepared.counts_people
    buurten = area_layer(result)
    wijken = wijk_table(result)
    if len(wijken):
        wijken = pd.concat([wijken, wijk_choice(result, wijken)], axis=1)
    wijken = suppress(wijken, counted, people=people)
    places = result.places.drop(columns=["row"], errors="ignore").copy()
    places["binnen_bereik"] = np.round(places["binnen_bereik"])
    places = suppress(places, "binnen_bereik", people=people)
    gaps = suppress(gap_layer(result), "buiten_bereik", people=people)
    out = {"buurten": buurten, "wijken": wijken, "plekken": places,
           "servicegebieden": service_area_layer(result, progress=progress), "gaten": gaps,
           "herkomsten": origin_layer(result)}
    target = _export_crs(result.table.crs)
    return {k: tidy_numbers(v.to_crs(target) if v.crs is not None else v)
            for k, v in out.items()}


def summary_rows(result: Result) -> list[tuple[str, str]]:
    """The headline numbers as (Dutch label, value with unit) rows, for the CLI and reports."""
    h = result.headline
    who = h["telt"].split(" (")[0]
    return [
        ("Profiel", result.profile.describe()),
        (f"{who.capitalize()} totaal", fmt_int(h["totaal"])),
        (f"{who.capitalize()} binnen bereik", fmt_int(h["binnen"])),
        (f"{who.capitalize()} buiten bereik", f"{fmt_int(h['buiten'])} "
                                              f"({fmt_pct(h['aandeel_buiten'])})"),
        ("Ontmoetingsplekken gebruikt", fmt_int(len(result.places))),
        ("Gebieden", fmt_int(h["gebieden"])),
        ("Gedekt door de gegevens", h.get("dekking", "–")),
        *([("Plekken in de gegevens", sentence)]
          if (sentence := data_categories_sentence(result.prepared)) else []),
        ("Mediane afstand (gewogen)", fmt_m(_overall_median(result))),
    ]


def _overall_median(result: Result) -> float:
    from geo.coverage import weighted_quantile

    o = result.origins
    w = o[result.prepared.weight_col].to_numpy()
    return weighted_quantile(o["dist_m"].to_numpy(), w, 0.5)
