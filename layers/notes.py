"""What happened to the input, in the same words on the command line, in the dashboard and in
``notities.csv``: every row of a list that was dropped, corrected or merged, and every buurt that
needed a fallback.

A :class:`Note` is one such event. :func:`group_lines` turns many notes into a few lines people
read ("62 buurten zonder woongebouwen in OSM: inwoners verdeeld over de netwerkknopen van de
buurt (BU05031106, BU05031109, …) — lijst in notities.csv"); :func:`write_notes` writes the
full list as a Dutch spreadsheet CSV beside the exports.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from geo.io import atomic_path

#: Name of the notes file beside the exports (and in a prepared area's folder).
NOTES_FILE = "notities.csv"
#: Examples shown per group line.
EXAMPLES = 3


@dataclass(frozen=True)
class Note:
    """One row or area that was not used as given.

    ``kind`` is a key of :data:`KINDS` (or a heading of its own); ``text`` the detail for this
    one row; ``row`` the row number in ``file`` (header line = 1), when there is one.
    """

    kind: str
    text: str
    row: int | None = None
    file: str | None = None

    def where(self) -> str:
        """'LIST.csv rij 3', 'LIST.csv' or ''."""
        parts = [p for p in (self.file, f"rij {self.row}" if self.row is not None else None) if p]
        return " ".join(parts)

    def line(self) -> str:
        """The note as one line: where, what happened and why."""
        where = self.where()
        return f"{where}: {self.text}" if where else self.text


#: kind -> (one, many, what was done). The count goes before "one"/"many".
KINDS: dict[str, tuple[str, str, str]] = {
    "lijst_onbruikbaar": ("lijst onbruikbaar", "lijsten onbruikbaar", "niet gebruikt"),
    "onleesbaar": ("rij onbruikbaar", "rijen onbruikbaar",
                   "overgeslagen, naam of coördinaat ontbreekt of is geen getal"),
    "buiten_nl": ("rij buiten Nederland", "rijen buiten Nederland",
                  "overgeslagen, coördinaten niet in Nederland"),
    "ander_stelsel": ("rij in een ander coördinatenstelsel", "rijen in een ander "
                      "coördinatenstelsel", "overgeslagen, anders dan de rest van het bestand"),
    "dubbel": ("dubbele rij", "dubbele rijen",
               "overgeslagen, zelfde naam en plek als een eerdere rij"),
    "buiten_gebied": ("rij buiten het gebied", "rijen buiten het gebied",
                      "overgeslagen, meer dan 100 m buiten de buurtgrenzen"),
    "omgedraaid": ("rij met lat en lon omgedraaid", "rijen met lat en lon omgedraaid",
                   "gecorrigeerd, teruggedraaid"),
    "rd_als_graden": ("rij met RD-coördinaten in de lat/lon-kolommen", "rijen met "
                      "RD-coördinaten in de lat/lon-kolommen", "gecorrigeerd, als RD gelezen"),
    "graden_als_rd": ("rij met graden in de x/y-kolommen", "rijen met graden in de "
                      "x/y-kolommen", "gecorrigeerd, als WGS84-graden gelezen"),
    "samengevoegd": ("rij samengevoegd met een andere plek", "rijen samengevoegd met een "
                     "andere plek", "zelfde categorie binnen 50 m: één plek"),
    "osm_samengevoegd": ("OSM-object samengevoegd", "OSM-objecten samengevoegd",
                         "zelfde categorie binnen 50 m of punt in het eigen gebouw: één plek"),
    "ver_van_pad": ("plek ver van een voetpad", "plekken ver van een voetpad",
                    "niet gebruikt, meer dan 250 m van een bruikbaar pad"),
    "vlak_als_punt": ("rij met een vlak of lijn", "rijen met een vlak of lijn",
                      "verplaatst naar een punt erin"),
    "buurt_weggelaten": ("buurtgrens weggelaten", "buurtgrenzen weggelaten",
                         "geen geometrie in het bestand"),
    "buurt_gerepareerd": ("buurtgrens gerepareerd", "buurtgrenzen gerepareerd",
                          "ongeldige geometrie hersteld (make_valid)"),
    "buurt_knopen": ("buurt zonder woongebouwen in OSM", "buurten zonder woongebouwen in OSM",
                     "inwoners verdeeld over de netwerkknopen van de buurt"),
    "buurt_punt": ("buurt zonder woongebouwen en paden", "buurten zonder woongebouwen en "
                   "paden", "inwoners op één punt in de buurt gezet"),
    "buurt_adres": ("buurt zonder woongebouwen in OSM", "buurten zonder woongebouwen in OSM",
                    "inwoners verdeeld over de adrespunten van de buurt"),
    "buurt_woongebied": ("buurt zonder woongebouwen en adressen", "buurten zonder woongebouwen "
                         "en adressen", "inwoners verdeeld over het woongebied (OSM "
                         "landuse=residential) van de buurt"),
}
#: Kinds that mean the row was used, but not as given.
CORRECTED = ("omgedraaid", "rd_als_graden", "graden_als_rd", "vlak_als_punt")
#: Kinds that mean the row was not used at all.
DROPPED = ("onleesbaar", "buiten_nl", "ander_stelsel", "dubbel", "buiten_gebied", "ver_van_pad")


def from_row_problems(problems: Iterable, file: str) -> list[Note]:
    """Notes for :class:`geo.facilities.RowProblem` s of ``file`` (a file name)."""
    return [Note(getattr(p, "soort", "onleesbaar"), f"{p.veld}: {p.melding}", int(p.rij), file)
            for p in problems]


def from_boundaries(buurten, file: str) -> list[Note]:
    """Notes for a boundary file as :func:`geo.boundaries.read_boundaries` read it: features
    left out (no geometry) and buurten whose invalid geometry was repaired."""
    notes = [Note("buurt_weggelaten", str(p), None, file)
             for p in buurten.attrs.get("problems", [])]
    notes += [Note("buurt_gerepareerd", f"{code}: geometrie hersteld", None, file)
              for code in buurten.attrs.get("repaired", [])]
    return notes


def group_lines(notes: Sequence[Note], *, listed_in: str | None = NOTES_FILE) -> list[str]:
    """One line per kind, in first-seen order: count, what happened, a few examples, and where
    the full list is (``listed_in``; None leaves that part out)."""
    groups: dict[str, list[Note]] = {}
    for n in notes:
        groups.setdefault(n.kind, []).append(n)
    lines = []
    for kind, items in groups.items():
        one, many, done = KINDS.get(kind, (kind, kind, ""))
        head = f"{len(items)} {one if len(items) == 1 else many}"
        examples = "; ".join(_example(n) for n in items[:EXAMPLES])
        more = " …" if len(items) > EXAMPLES else ""
        line = f"{head}: {done}; bv. {examples}{more}" if done else \
            f"{head}; bv. {examples}{more}"
        if listed_in:
            line += f" — lijst in {listed_in}"
        lines.append(line)
    return lines


def _example(n: Note, width: int = 80) -> str:
    text = n.line()
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def use_summary(file: str, rows: int, notes: Sequence[Note]) -> str:
    """How much of a list was used: 'LIST.csv: alle 12 rijen gebruikt' or 'LIST.csv: 11 van
    12 rijen gebruikt, 1 overgeslagen, 2 gecorrigeerd, 1 samengevoegd'."""
    mine = [n for n in notes if n.file == file and n.row is not None]
    dropped = {n.row for n in mine if n.kind in DROPPED}
    corrected = {n.row for n in mine if n.kind in CORRECTED} - dropped
    merged = {n.row for n in mine if n.kind == "samengevoegd"} - dropped
    used = rows - len(dropped)
    if not mine:
        return f"{file}: " + ("de enige rij" if rows == 1 else f"alle {rows} rijen") + \
            " gebruikt, niets gewijzigd"
    parts = [f"{used} van {rows} rijen gebruikt"]
    parts += [f"{len(s)} {w}" for s, w in ((dropped, "overgeslagen"), (corrected, "gecorrigeerd"),
                                           (merged, "samengevoegd met een andere plek")) if s]
    return f"{file}: " + ", ".join(parts)


def write_notes(notes: Sequence[Note], path: str | Path) -> Path:
    """All notes as a CSV for Dutch spreadsheets (``;``, UTF-8 with BOM): soort, bestand, rij,
    melding. Written even when empty, so its absence never means 'nothing happened'."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["soort", "bestand", "rij", "melding"])
        for n in notes:
            one, _many, done = KINDS.get(n.kind, (n.kind, n.kind, ""))
            w.writerow([one + (f": {done}" if done else ""), n.file or "",
                        "" if n.row is None else n.row, n.text])
    return path


def read_notes(path: str | Path) -> list[dict[str, str]]:
    """The rows of a notes file (for tests and for reading a file back)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))
