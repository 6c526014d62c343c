"""Opening hours (OSM ``opening_hours`` syntax) asked for a moment or a period of the week.

A *period* is a set of weekdays and a time window ("weekday morning" = Monday–Friday
09:00–12:00). A place counts as open in a period when it is open for at least
``MIN_OPEN_MINUTES`` within the window on at least one of its days; a *moment* is a period
whose window is one minute long. Evaluation uses one fixed ordinary week (no public holidays),
so results do not change with the date the analysis runs. Missing or unparseable hours are
*unknown*: they count as open, and callers report how many were unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

#: Monday of an ordinary week without Dutch public holidays.
REFERENCE_MONDAY = dt.date(2026, 11, 23)
MIN_OPEN_MINUTES = 60
DAY_NAMES = ("ma", "di", "wo", "do", "vr", "za", "zo")


@dataclass(frozen=True)
class Period:
    id: str
    label: str  # Dutch, for the screen
    days: tuple[int, ...]  # 0 = Monday
    start: dt.time
    end: dt.time

    def windows(self) -> list[tuple[dt.datetime, dt.datetime]]:
        out = []
        for d in self.days:
            day = REFERENCE_MONDAY + dt.timedelta(days=d)
            out.append((dt.datetime.combine(day, self.start), dt.datetime.combine(day, self.end)))
        return out


_WEEKDAYS = (0, 1, 2, 3, 4)
PERIODS: dict[str, Period] = {
    p.id: p
    for p in (
        Period("werkdag_ochtend", "werkdagochtend (ma–vr 9–12 uur)", _WEEKDAYS,
               dt.time(9), dt.time(12)),
        Period("werkdag_middag", "werkdagmiddag (ma–vr 13–17 uur)", _WEEKDAYS,
               dt.time(13), dt.time(17)),
        Period("werkdag_avond", "werkdagavond (ma–vr 19–22 uur)", _WEEKDAYS,
               dt.time(19), dt.time(22)),
        Period("zaterdag", "zaterdag (10–17 uur)", (5,), dt.time(10), dt.time(17)),
        Period("zondag_middag", "zondagmiddag (13–17 uur)", (6,), dt.time(13), dt.time(17)),
    )
}


def moment(day: int, at: dt.time) -> Period:
    """A single moment of the reference week (e.g. ``moment(2, time(10))`` = Wednesday 10:00)."""
    if not 0 <= day <= 6:
        raise ValueError("day must be 0 (Monday) … 6 (Sunday)")
    end = (dt.datetime.combine(REFERENCE_MONDAY, at) + dt.timedelta(minutes=1)).time()
    return Period(f"moment_{day}_{at:%H%M}", f"{DAY_NAMES[day]} {at:%H:%M}", (day,), at, end)


def open_in(spec: str | None, period: Period) -> bool | None:
    """True/False when ``spec`` says whether the place is open in ``period``; None if unknown."""
    if spec is None or not isinstance(spec, str) or not spec.strip():
        return None
    import opening_hours  # opening-hours-py

    try:
        oh = opening_hours.OpeningHours(spec.strip())
    except (getattr(opening_hours, "ParserError", ValueError), ValueError, TypeError):
        return None
    single = period.end <= (dt.datetime.combine(REFERENCE_MONDAY, period.start)
                            + dt.timedelta(minutes=1)).time()
    need = dt.timedelta(minutes=1 if single else MIN_OPEN_MINUTES)
    any_unknown = False
    for start, end in period.windows():
        open_for = dt.timedelta(0)
        for a, b, state, _comment in oh.intervals(start, end):
            name = str(state).rsplit(".", 1)[-1].lower()
            if name == "open":
                open_for += min(b, end) - max(a, start)
            elif name == "unknown":
                any_unknown = True
        if open_for >= need:
            return True
    return None if any_unknown else False


def open_mask(specs, period: Period | None) -> tuple[np.ndarray, np.ndarray]:
    """For each spec: may the place be used in ``period`` (unknown counts as open), and is its
    state unknown. Without a period every place may be used."""
    specs = list(specs)
    if period is None:
        return np.ones(len(specs), dtype=bool), np.zeros(len(specs), dtype=bool)
    states = [open_in(s, period) for s in specs]
    unknown = np.array([s is None for s in states], dtype=bool)
    usable = np.array([s is not False for s in states], dtype=bool)
    return usable, unknown
