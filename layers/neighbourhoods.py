"""Buurten and their people: CBS boundaries joined by code to the CBS kerncijfers table."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

POPULATION = ("inwoners", "inwoners_65plus")
#: True where ``inwoners_65plus`` is an estimate from a CBS percentage (label it so).
ESTIMATED = "inwoners_65plus_geschat"


def join_population(
    buurten: gpd.GeoDataFrame, kerncijfers: pd.DataFrame | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Buurt polygons (from :func:`geo.boundaries.read_boundaries`) with residents and 65+.

    With a kerncijfers table, its figures win over any in the boundaries file, and only the
    buurten of the table's gemeente(n) are kept. A buurtcode split over several rows becomes one
    buurt. Returns the buurten (``code``, ``naam``, ``wijkcode``, ``gemeentecode``,
    ``inwoners``, ``inwoners_65plus``, ``inwoners_65plus_geschat``, geometry) and Dutch notes on
    what did not match. ``inwoners_65plus_geschat`` is True where the 65+ count is an estimate
    from a CBS percentage (screens and exports label those), False elsewhere.
    """
    notes: list[str] = []
    b = buurten.rename(columns={"buurtcode": "code", "buurtnaam": "naam"})
    if b["code"].duplicated().any():
        dup = sorted(set(b.loc[b["code"].duplicated(), "code"]))
        notes.append(f"{len(dup)} buurtcodes stonden in meerdere vlakken en zijn samengevoegd: "
                     f"{', '.join(dup[:8])}")
        agg = {c: "first" for c in b.columns if c not in ("code", b.geometry.name)}
        agg.update({c: "sum" for c in POPULATION if c in b})
        if ESTIMATED in b:
            agg[ESTIMATED] = "any"
        b = b.dissolve(by="code", aggfunc=agg).reset_index()
    if kerncijfers is not None:
        bu = kerncijfers[kerncijfers["niveau"] == "Buurt"].set_index("code")
        gm = set(bu["gemeentecode"].dropna())
        if gm:
            b = b[b["gemeentecode"].isin(gm)]
        b = b.drop(columns=[c for c in (*POPULATION, ESTIMATED) if c in b])
        b = b.join(bu[[c for c in (*POPULATION, ESTIMATED) if c in bu]], on="code")
        no_shape = sorted(set(bu.index) - set(b["code"]))
        if no_shape:
            notes.append(f"{len(no_shape)} buurten uit de CBS-tabel hebben geen grens en tellen "
                         f"niet mee: {', '.join(no_shape[:8])}")
        no_figures = sorted(set(b["code"]) - set(bu.index))
        if no_figures:
            notes.append(f"{len(no_figures)} buurtgrenzen staan niet in de CBS-tabel (geen "
                         f"cijfers): {', '.join(no_figures[:8])}")
    for col in POPULATION:
        if col not in b:
            b[col] = np.nan
    flag = b[ESTIMATED] if ESTIMATED in b else pd.Series(False, index=b.index)
    b[ESTIMATED] = flag.fillna(False).astype(bool) & b["inwoners_65plus"].notna()
    secret = int(b["inwoners_65plus"].isna().sum())
    if secret and b["inwoners_65plus"].notna().any():
        notes.append(f"{secret} buurten zonder bekend aantal 65-plussers (geheim of ontbrekend "
                     "bij CBS): getoond als onbekend, niet als 0.")
    return gpd.GeoDataFrame(b.reset_index(drop=True), geometry=b.geometry.name, crs=b.crs), notes


def demand_unit(buurten: pd.DataFrame) -> str:
    """What the coverage counts: 65+ residents when known, else residents, else buildings."""
    if buurten["inwoners_65plus"].notna().any():
        return "inwoners_65plus"
    if buurten["inwoners"].notna().any():
        return "inwoners"
    return "woongebouwen"
