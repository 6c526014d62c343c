"""What the dashboard shows besides the map, computed without streamlit: ranking, headline
cards, before/after per area, picking a place near a click, and session-private copies of a
prepared area with uploaded files."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from layers.analysis import DEMAND_SUFFIX, Prepared, Result, use_buurten
from layers.fmt import fmt_int
from layers.outputs import SUPPRESS_BELOW, counted_column, screen_value, wijk_names
from layers.places import access_points, merge_places, places_from_list

SPHERE_LABELS = {"gemeenschappelijk": "Gemeenschappelijk", "institutioneel": "Institutioneel",
                 "persoonlijk": "Persoonlijk"}


def _suffix(result: Result) -> str:
    return DEMAND_SUFFIX[result.prepared.demand]


def ranking(result: Result) -> pd.DataFrame:
    """Areas sorted by demand beyond reach (most first), with wijk, share and median distance.
    Counts are screen text ('< 10' where suppressed); ``buurtcode`` identifies the row."""
    t = result.table
    if "status" in t:  # areas the data does not cover have no figures to rank
        t = t[t["status"] != "buiten"]
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
        "totaal": [screen_value(v, sm) for v, sm in zip(size, small, strict=True)],
        "aandeel_binnen": np.where(small, np.nan, t["aandeel_binnen_bereik"].to_numpy(float)),
        "mediaan_m": t["mediaan_afstand_m"].to_numpy(dtype=float),
        "dekking": np.where(t["status"].to_numpy() == "rand", "rand: ondergrens", "volledig")
        if "status" in t else "volledig",
    })
    return out.iloc[order].reset_index(drop=True)


def worst_areas(result: Result, n: int = 3) -> list[str]:
    """The n areas with most demand beyond reach, as 'Naam (1.234)' (suppressed ones skipped)."""
    r = ranking(result)
    r = r[~r["buiten_bereik"].str.startswith("<")]
    r = r[r["buiten_bereik"] != "0"]
    return [f"{row.naam} ({row.buiten_bereik})" for row in r.head(n).itertuples()]


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
                 buurten: gpd.GeoDataFrame | None = None) -> Prepared:
    """A private copy of ``prep`` (the shared one stays as it is) with an uploaded facility
    list merged into the places and/or uploaded buurt boundaries as the areas."""
    assert prep.net is not None
    copy = dataclasses.replace(prep, notes=list(prep.notes), _by_mask={})
    if facilities is not None and len(facilities):
        extra = places_from_list(facilities, prep.taxonomy, prep.net.crs)
        copy.places = merge_places(prep.places, extra)
        copy._access = access_points(copy.places, prep.net, prep.taxonomy)
        copy.notes.append(f"Geüploade lijst: {fmt_int(len(extra))} plekken toegevoegd "
                          "(dubbelen binnen 50 m samengevoegd).")
    if buurten is not None and len(buurten):
        use_buurten(copy, buurten)
        copy.notes.append(f"Geüploade buurtgrenzen: {fmt_int(len(buurten))} buurten.")
    return copy
