"""Ageing per buurt: the change in residents aged 65+ between two CBS years, and the buurten
where that number grows while reach is low ("groeiende tekorten").

The two newest years among an area's CBS kerncijfers tables are read with
:func:`geo.population.read_kerncijfers` and matched by buurtcode. CBS renumbers buurten when a
gemeente redraws them: a code present in one year only is reported as ``nieuw`` or
``vervallen``; when exactly one vanished and one new code carry the same name, the pair is
reported as ``code gewijzigd`` and compared. Unknown (secret) counts stay NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.cbs import year_in
from geo.errors import InputError
from geo.population import read_kerncijfers
from layers.datasets import AreaData

#: A buurt's reach counts as low below this share of its 65+ within walking distance.
LOW_REACH = 0.5
#: Buurten with fewer 65+ than this (either year) are left out of the ranking (CBS rule).
MIN_65PLUS = 10
STATUS_SAME, STATUS_NEW, STATUS_GONE, STATUS_RECODED = (
    "gelijk", "nieuw", "vervallen", "code gewijzigd")
COLUMNS = ["buurtcode", "buurtnaam", "wijkcode", "inwoners_65plus_vorig", "inwoners_65plus",
           "groei_65plus", "groei_65plus_pct", "status_code", "vorige_code"]


@dataclass(frozen=True)
class Ageing:
    """The change in 65+ per buurt between ``year_before`` and ``year``."""

    year_before: int
    year: int
    table: pd.DataFrame  # COLUMNS, one row per buurt of either year
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year_before}→{self.year}"

    def totals(self) -> tuple[float, float]:
        """Sum of 65+ over the buurten of each year (raw CBS numbers, unknown left out)."""
        t = self.table
        return (float(np.nansum(t["inwoners_65plus_vorig"])),
                float(np.nansum(t["inwoners_65plus"])))


def population_years(area: AreaData) -> dict[int, Path]:
    """One kerncijfers file per year (the area's order: xlsx before its derived csv)."""
    out: dict[int, Path] = {}
    for p in area.population:
        y = year_in(p.name)
        if y is not None and y not in out:
            out[y] = p
    return out


def _buurten(df: pd.DataFrame) -> pd.DataFrame:
    b = df[df["niveau"] == "Buurt"]
    return b.drop_duplicates("code").set_index("code")


def _norm(name: object) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().lower()


def compare_years(before: pd.DataFrame, after: pd.DataFrame, *, year_before: int,
                  year: int) -> Ageing:
    """Match two kerncijfers frames (as read_kerncijfers returns) by buurtcode."""
    b, a = _buurten(before), _buurten(after)
    gone = [c for c in b.index if c not in a.index]
    new = [c for c in a.index if c not in b.index]
    by_name_b = pd.Series(gone, index=[_norm(b.at[c, "naam"]) for c in gone])
    by_name_a = pd.Series(new, index=[_norm(a.at[c, "naam"]) for c in new])
    recoded = {}  # new code -> old code, only where a name is unique on both sides
    for name, code in by_name_a.items():
        if (by_name_a.index == name).sum() == 1 and (by_name_b.index == name).sum() == 1:
            recoded[code] = by_name_b[name]
    rows = []
    for code in a.index:
        old = recoded.get(code, code if code in b.index else None)
        status = (STATUS_SAME if old == code else STATUS_RECODED if old else STATUS_NEW)
        rows.append((code, a.at[code, "naam"], a.at[code, "wijkcode"],
                     b.at[old, "inwoners_65plus"] if old else np.nan,
                     a.at[code, "inwoners_65plus"], status, old if old != code else None))
    for code in gone:
        if code not in recoded.values():
            rows.append((code, b.at[code, "naam"], b.at[code, "wijkcode"],
                         b.at[code, "inwoners_65plus"], np.nan, STATUS_GONE, None))
    t = pd.DataFrame(rows, columns=["buurtcode", "buurtnaam", "wijkcode",
                                    "inwoners_65plus_vorig", "inwoners_65plus", "status_code",
                                    "vorige_code"])
    prev = t["inwoners_65plus_vorig"].astype(float)
    now = t["inwoners_65plus"].astype(float)
    t["groei_65plus"] = now - prev  # NaN when either year is unknown or absent
    with np.errstate(invalid="ignore", divide="ignore"):
        t["groei_65plus_pct"] = np.where(prev > 0, (now - prev) / prev, np.nan)
    notes = []
    for status, what in ((STATUS_RECODED, "met een nieuwe code (zelfde naam)"),
                         (STATUS_NEW, f"nieuw in {year}"),
                         (STATUS_GONE, f"vervallen na {year_before}")):
        part = t[t["status_code"] == status]
        if len(part):
            codes = ", ".join(
                f"{r.vorige_code} → {r.buurtcode}" if status == STATUS_RECODED else r.buurtcode
                for r in part.itertuples())
            notes.append(f"{len(part)} buurt(en) {what}: {codes}.")
    unknown = int((t["groei_65plus"].isna() & (t["status_code"] != STATUS_NEW)
                   & (t["status_code"] != STATUS_GONE)).sum())
    if unknown:
        notes.append(f"{unknown} buurt(en) zonder bekend aantal 65-plussers in één van beide "
                     "jaren (CBS-geheimhouding): groei onbekend.")
    return Ageing(year_before, year, t[COLUMNS], notes)


def ageing_for_area(area: AreaData) -> Ageing | None:
    """The change between the two newest CBS years of ``area``; None with fewer than two."""
    years = population_years(area)
    if len(years) < 2:
        return None
    y1, y0 = sorted(years, reverse=True)[:2]
    return compare_years(read_kerncijfers(years[y0]), read_kerncijfers(years[y1]),
                         year_before=y0, year=y1)


def growing_shortfalls(ageing: Ageing, reach: pd.DataFrame | None = None, *,
                       low: float = LOW_REACH) -> pd.DataFrame:
    """"Groeiende tekorten": buurten where 65+ grew and reach is low (share within reach
    below ``low``), ranked by the growth expected beyond reach (growth × share beyond).

    ``reach`` is a result table (``buurtcode``, ``aandeel_binnen_bereik``, optionally
    ``aandeel_echte_keuze``); without it, or for a buurt whose reach is NaN, the buurt is not
    ranked (its reach is unknown, not 0). Buurten with fewer than :data:`MIN_65PLUS` 65+ in
    either year are left out."""
    t = ageing.table
    ok = ((t["groei_65plus"] > 0) & (t["inwoners_65plus_vorig"] >= MIN_65PLUS)
          & (t["inwoners_65plus"] >= MIN_65PLUS))
    cols = ["buurtcode", "aandeel_binnen_bereik", "aandeel_echte_keuze"]
    if reach is None:
        r = pd.DataFrame(columns=cols)
    else:
        r = reach[[c for c in cols if c in reach]].drop_duplicates("buurtcode")
    out = t[ok].merge(r, on="buurtcode", how="left")
    share = pd.to_numeric(out.get("aandeel_binnen_bereik"), errors="coerce")
    out["extra_buiten_bereik"] = out["groei_65plus"] * (1.0 - share)
    out = out[share < low]  # NaN reach is never "low"
    keep = [c for c in ["buurtcode", "buurtnaam", "wijkcode", "inwoners_65plus_vorig",
                        "inwoners_65plus", "groei_65plus", "groei_65plus_pct",
                        "aandeel_binnen_bereik", "aandeel_echte_keuze", "extra_buiten_bereik"]
            if c in out]
    return out.sort_values(["extra_buiten_bereik", "groei_65plus"],
                           ascending=False)[keep].reset_index(drop=True)


def safe_ageing(area: AreaData) -> tuple[Ageing | None, str | None]:
    """:func:`ageing_for_area`, with a Dutch reason instead of an exception for a bad table."""
    try:
        return ageing_for_area(area), None
    except InputError as exc:
        return None, str(exc)
