"""What the dashboard shows besides the map, computed without streamlit: ranking, headline
cards, before/after per area, picking a place near a click, and session-private copies of a
prepared area with uploaded files."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from layers.analysis import DEMAND_SUFFIX, Prepared, Result, use_buurten
from layers.fmt import fmt_int, fmt_pct
from layers.notes import Note
from layers.outputs import (
    SUPPRESS_BELOW,
    counted_column,
    estimated_65plus,
    screen_value,
    wijk_names,
)
from layers.places import access_points, merge_places_noted, places_from_list

SPHERE_LABELS = {"gemeenschappelijk": "Gemeenschappelijk", "institutioneel": "Institutioneel",
                 "persoonlijk": "Persoonlijk"}


def _suffix(result: Result) -> str:
    return DEMAND_SUFFIX[result.prepared.demand]


def ranking(result: Result) -> pd.DataFrame:
    """Areas sorted by demand beyond reach (most first), with wijk, share and median distance.
    Every value is screen text: counts '< 10' where suppressed, the share '–' there, and
    'onbekend' where nothing is known (:data:`UNKNOWN_HELP` says why); ``buurtcode``
    identifies the row. Made once per result (the headline, the map sentence and the table
    all show it)."""
    return result.derived("ranking", lambda: _ranking(result)).copy()


def _ranking(result: Result) -> pd.DataFrame:
    t = result.table
    estimates = _estimates(result)
    if "status" in t:  # areas the data does not cover have no figures to rank
        covered = (t["status"] != "buiten").to_numpy()
        t, estimates = t[covered], estimates[covered]
    s = _suffix(result)
    counted = counted_column(result)
    size = t[counted] if counted in t else t[f"binnen_bereik_{s}"] + t[f"buiten_bereik_{s}"]
    small = (size < SUPPRESS_BELOW).fillna(False).to_numpy() & result.prepared.counts_people
    wijknamen = wijk_names(result)  # names only: no wijk geometry or totals needed here
    order = np.lexsort((-np.nan_to_num(t[f"buiten_bereik_{s}"].to_numpy(dtype=float)), small))
    out = pd.DataFrame({
        "buurtcode": t["buurtcode"].to_numpy(),
        "naam": t["buurtnaam"].fillna(t["buurtcode"]).to_numpy(),
        "wijk": t["wijkcode"].map(lambda c: wijknamen.get(c, c)).to_numpy(),
        "buiten_bereik": [screen_value(v, sm) for v, sm in
                          zip(t[f"buiten_bereik_{s}"], small, strict=True)],
        "totaal": [("≈ " if e and not sm and v == v else "") + screen_value(v, sm)
                   for v, sm, e in zip(size, small, estimates, strict=True)],
        "aandeel_binnen": [_share_text(v, sm) for v, sm in
                           zip(t["aandeel_binnen_bereik"].to_numpy(float), small, strict=True)],
        "mediaan_m": [fmt_int(v) for v in t["mediaan_afstand_m"].to_numpy(dtype=float)],
        "dekking": np.where(t["status"].to_numpy() == "rand", "rand: ondergrens", "volledig")
        if "status" in t else "volledig",
    })
    return out.iloc[order].reset_index(drop=True)


#: Why a ranking cell reads 'onbekend' or '–' (the dashboard shows it as the column's help).
UNKNOWN_HELP = {
    "aandeel_binnen": "'–': minder dan 10 personen, niet getoond (CBS-regel); 'onbekend': het "
                      "aantal is geheim of ontbreekt bij CBS, of er woont niemand",
    "mediaan_m": "'onbekend': geen route naar een ontmoetingsplek, of niemand om te tellen "
                 "in deze buurt (aantal geheim of ontbrekend bij CBS, of 0)",
    "totaal": "'≈': geschat uit een CBS-percentage, geen telling; '< 10': minder dan 10 "
              "personen (CBS-regel); 'onbekend': geheim of ontbrekend bij CBS",
    "buiten_bereik": "'< 10': minder dan 10 personen (CBS-regel); 'onbekend': geheim of "
                     "ontbrekend bij CBS",
}


def _estimates(result: Result) -> np.ndarray:
    est = estimated_65plus(result) if _suffix(result) == "65plus" else None
    return np.zeros(len(result.table), dtype=bool) if est is None else est.to_numpy()


def _share_text(v: float, suppressed: bool) -> str:
    if suppressed:
        return "–"
    return fmt_pct(v, 1)


def worst_areas(result: Result, n: int = 3) -> list[str]:
    """The n areas with most demand beyond reach, as 'Naam (1.234)' (suppressed ones skipped)."""
    r = ranking(result)
    r = r[~r["buiten_bereik"].str.startswith("<")]
    r = r[r["buiten_bereik"] != "0"]
    return [f"{row.naam} ({row.buiten_bereik})" for row in r.head(n).itertuples()]


def map_summary(result: Result) -> str:
    """The map in one Dutch sentence, for people who cannot use the map (screen readers,
    keyboard): who lives beyond reach, where most of them live, how many places are shown."""
    h = result.headline
    who = h["telt"].split(" (")[0]
    limit = fmt_int(result.profile.max_distance_m)
    text = (f"{fmt_int(h['buiten'])} van {fmt_int(h['totaal'])} {who} "
            f"({fmt_pct(h['aandeel_buiten'])}) wonen verder dan {limit} m lopen van een "
            f"ontmoetingsplek")
    worst = worst_areas(result)
    if worst:
        text += "; de meeste in " + ", ".join(worst)
    return text + f". De kaart toont {fmt_int(len(result.places))} ontmoetingsplekken."


def places_by_sphere(result: Result) -> dict[str, int]:
    counts = result.places["sfeer"].value_counts()
    return {SPHERE_LABELS.get(k, str(k)): int(v) for k, v in counts.items()}


def change_per_area(before: Result, after: Result) -> pd.DataFrame:
    """Per area: demand beyond reach before and after a scenario, and the change (only areas
    that changed, biggest improvement first)."""
    s = _suffix(before)
    b = before.table.set_index("buurtcode")[f"buiten_bereik_{s}"]
    a = after.table.set_index("buurtcode")[f"buiten_bereik_{s}"].reindex(b.index)
    names = before.table.set_index("buurtcode")["buurtnaam"].fillna(pd.Series(b.index, b.index))
    df = pd.DataFrame({"naam": names, "voor": b, "na": a, "verschil": a - b})
    df = df[df["verschil"].fillna(0) != 0].sort_values("verschil")
    return df.reset_index()


def place_near(result: Result, lon: float, lat: float, *, tolerance_m: float = 30.0):
    """The place (a row of ``result.places``) nearest to a clicked point, if within
    ``tolerance_m``; None otherwise."""
    places = result.places
    if not len(places):
        return None
    crs = places.crs
    x, y = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    pts = places.geometry.representative_point()
    d = np.hypot(pts.x.to_numpy() - x, pts.y.to_numpy() - y)
    i = int(np.argmin(d))
    return places.iloc[i] if d[i] <= tolerance_m else None


def with_uploads(prep: Prepared, *, facilities: gpd.GeoDataFrame | None = None,
                 buurten: gpd.GeoDataFrame | None = None,
                 row_notes: Sequence[Note] = ()) -> Prepared:
    """A private copy of ``prep`` (the shared one stays as it is) with an uploaded facility
    list merged into the places and/or uploaded buurt boundaries as the areas. ``row_notes``
    (the upload's :class:`~layers.notes.Note` s) join the prepared area's; rows merged with a
    place are added."""
    assert prep.net is not None
    # own caches: what the copy derives anew must not replace the shared area's entries
    copy = dataclasses.replace(prep, notes=list(prep.notes), _by_mask={},
                               _derived=dict(prep._derived),
                               row_notes=[*prep.row_notes, *row_notes])
    if facilities is not None and len(facilities):
        extra = places_from_list(facilities, prep.taxonomy, prep.net.crs)
        copy.places, merged = merge_places_noted(prep.places, extra)
        copy.row_notes += [n for n in merged if n.kind == "samengevoegd"]  # uploaded rows
        copy._access = access_points(copy.places, prep.net, prep.taxonomy)
        copy.notes.append(f"Geüploade lijst: {fmt_int(len(extra))} plekken toegevoegd "
                          "(dubbelen binnen 50 m samengevoegd).")
    if buurten is not None and len(buurten):
        use_buurten(copy, buurten)
        copy.notes.append(f"Geüploade buurtgrenzen: {fmt_int(len(buurten))} buurten.")
    return copy
