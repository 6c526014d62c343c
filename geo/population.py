"""Residents and residents aged 65+ per gemeente, wijk and buurt from CBS "Kerncijfers wijken
en buurten" tables (XLSX or CSV, any CBS naming generation), and from the PDOK/CBS Wijk- en
Buurtkaart attributes saved as a table (CSV with ``aantalInwoners`` /
``percentagePersonen65JaarEnOuder``, or Parquet, also with English column names mapped back
through a ``cbs_columns.json`` beside the file or :data:`geo.cbs.ENGLISH_NAMES`).

Recognized names (matched case-insensitively, OData suffixes such as ``_5`` ignored):

* code: ``gwb_code_10``, ``gwb_code`` (2023+), ``WijkenEnBuurten``, ``Codering`` (OData),
  ``BU_CODE``/``WK_CODE``/``GM_CODE``, StatLine ``Regioaanduiding/Codering (code)``; when no
  name fits, any column whose values are CBS codes;
* residents: ``a_inw``, ``AANT_INW``, ``aantalInwoners``, ``AantalInwoners_5``;
* 65+: counts ``a_65_oo``, ``A_65_EO_JR``, ``k_65JaarOfOuder_12``; or percentages
  ``P_65_EO_JR``, ``percentagePersonen65JaarEnOuder``: the count is then an ESTIMATE in whole
  persons, ``round(residents × P / 100)``, and ``inwoners_65plus_geschat`` is True for it.

Secrecy values (``.``, ``x``, ``-99997`` ...) become NaN, never 0. Nothing is invented; buurten
with unknown figures or 0 residents, and estimated 65+ counts, are listed in ``df.attrs["notes"]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from geo import cbs
from geo.errors import InputError
from geo.io import require_readable

COLUMNS = [
    "code",
    "naam",
    "niveau",
    "gemeentecode",
    "wijkcode",
    "inwoners",
    "inwoners_65plus",
    "inwoners_65plus_geschat",
    "jaar",
    "gemeentenaam",
]

_WHAT = "CBS-kerncijferbestand (kerncijfers wijken en buurten)"
_FIX = (
    "download 'Kerncijfers wijken en buurten' van cbs.nl (XLSX of CSV) en lever het bestand "
    "ongewijzigd aan; de kolommen gwb_code en a_inw (of AANT_INW) zijn nodig"
)
_CODE_NAMES = (
    "gwb_code_10",
    "gwb_code",
    "WijkenEnBuurten",
    "Codering",
    "Regioaanduiding/Codering (code)",
    "statcode",
    "BU_CODE",
    "WK_CODE",
    "GM_CODE",
    "code",
)
_NAME_NAMES = (
    "regio", "naam", "buurtnaam", "BU_NAAM", "Wijken en buurten", "statnaam", "name"
)
PARQUET_SUFFIXES = (".parquet", ".geoparquet")
#: File beside a Parquet table mapping its column names to the CBS/PDOK names (list of
#: ``{"dutch": ..., "name": ...}``), as written by projects that renamed the fields.
COLUMN_MAP_FILE = "cbs_columns.json"
_GM_NAME_NAMES = ("gm_naam", "gemeentenaam", "Gemeentenaam", "GM_NAAM")
_YEAR_NAMES = ("jaar", "peiljaar", "Perioden")
_HEADER_SCAN = 30


def _header_index(rows: list[list[str]]) -> int | None:
    """Index of the header row: the first row naming a resident column, else a code column."""
    head = rows[:_HEADER_SCAN]
    for i, row in enumerate(head):
        if cbs.resident_column(row) is not None:
            return i
    for i, row in enumerate(head):
        if cbs.find_column(row, _CODE_NAMES) is not None:
            return i
    return None


def is_kerncijfers_file(path: str | Path) -> bool:
    """Cheap sniff: a CSV/XLSX whose header names a resident column and whose first rows
    contain CBS region codes."""
    p = Path(path)
    if p.suffix.lower() not in cbs.TABLE_SUFFIXES or not p.is_file():
        return False
    try:
        table = cbs.read_table(p, max_rows=_HEADER_SCAN, sheet_test=_sheet_ok)
    except (InputError, OSError, ValueError):
        return False
    return _sheet_ok(table.rows)


def is_population_table(path: str | Path) -> bool:
    """Cheap sniff by header: a CBS kerncijfers CSV/XLSX (:func:`is_kerncijfers_file`), a
    PDOK-named CSV (``buurtcode``, ``aantalInwoners``, ...), or a Parquet table with a resident
    column (CBS or English name) and a column of CBS region codes."""
    p = Path(path)
    if p.suffix.lower() not in PARQUET_SUFFIXES:
        return is_kerncijfers_file(p)
    if not p.is_file():
        return False
    try:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(p)
        names = [str(n) for n in pf.schema_arrow.names]
        header = [_column_map(p).get(n, n) for n in names]
        if cbs.resident_column(header) is None:
            return False
        text = [n for n, t in zip(names, pf.schema_arrow.types, strict=True)
                if str(t) in ("string", "large_string")]
        if not text or pf.metadata.num_rows == 0:
            return False
        head = pf.read_row_group(0, columns=text).slice(0, _HEADER_SCAN).to_pandas()
    except Exception:  # not a readable Parquet file: not ours
        return False
    return any(cbs.code_share(head[c]) >= 0.8 for c in head.columns)


def _sheet_ok(rows: list[list[str]]) -> bool:
    h = _header_index(rows)
    if h is None or cbs.resident_column(rows[h]) is None:
        return False
    return any(cbs.code_share([c]) == 1.0 for row in rows[h + 1 :] for c in row)


def _code_column(frame: pd.DataFrame) -> str | None:
    """Named code column whose values are CBS codes, else any column of CBS codes."""
    cols = list(frame.columns)
    named = [c for c in (cbs.find_column(cols, [n]) for n in _CODE_NAMES) if c is not None]
    for c in dict.fromkeys([*named, *cols]):
        if cbs.code_share(frame[c]) >= 0.8:
            return str(c)
    return None


def _column_map(p: Path) -> dict[str, str]:
    """English -> CBS column names for a Parquet table (:data:`COLUMN_MAP_FILE` beside it wins
    over :data:`geo.cbs.ENGLISH_NAMES`)."""
    mapping = dict(cbs.ENGLISH_NAMES)
    side = p.with_name(COLUMN_MAP_FILE)
    if side.is_file():
        try:
            entries = json.loads(side.read_text(encoding="utf-8-sig"))
            mapping.update({str(e["name"]): str(e["dutch"]) for e in entries
                            if isinstance(e, dict) and e.get("name") and e.get("dutch")})
        except (OSError, ValueError, TypeError):
            pass  # an unreadable map: the built-in names still apply
    return mapping


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise InputError(
            f"Parquet-bestand niet leesbaar (unreadable parquet): {exc}", path=p, fix=_FIX
        ) from exc
    if "geometry" in frame.columns:
        frame = frame.drop(columns="geometry")
    mapping = _column_map(p)
    renamed = {c: mapping[c] for c in frame.columns if c in mapping and mapping[c] not in frame}
    return frame.rename(columns=renamed)


def read_population_table(path: str | Path) -> pd.DataFrame:
    """Read a population table into the normalized frame described in :data:`COLUMNS`.

    Accepts CBS kerncijfers (XLSX/CSV), PDOK/CBS Wijk- en Buurtkaart attributes saved as CSV
    and Parquet tables (see the module docstring). ``niveau`` is "Gemeente", "Wijk" or "Buurt";
    rows for other levels (Nederland, land) are left out. ``inwoners_65plus`` is a count, or an
    estimate from a percentage where ``inwoners_65plus_geschat`` is True; secret values are NaN.
    ``jaar`` comes from a year column, else the sheet name, else a 20xx year in the file name,
    else None. Raises InputError (naming the file and the fix) for an unreadable/empty file or
    a missing code or resident column.
    """
    p = require_readable(path, what=_WHAT, fix=_FIX)
    sheet = None
    if p.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_parquet(p)
        if frame.empty:
            raise InputError("bevat geen gegevens (no data rows)", path=p, fix=_FIX)
        header = [str(c) for c in frame.columns]
        frame.columns = header
    else:
        table = cbs.read_table(p, sheet_test=lambda rows: _header_index(rows) is not None)
        sheet = table.sheet
        rows = [r for r in table.rows if not cbs.is_blank_row(r)]
        if not rows:
            raise InputError("bevat geen gegevens (no data rows)", path=p, fix=_FIX)
        h = _header_index(rows)
        if h is None:
            raise InputError(
                "geen kolom met CBS-gebiedscodes gevonden (no recognizable code column such as "
                f"gwb_code/WijkenEnBuurten); eerste rij: {rows[0][:8]}",
                path=p,
                fix=_FIX,
            )
        header = _unique_header(rows[h])
        width = len(header)
        body = [(r + [""] * width)[:width] for r in rows[h + 1 :]]
        frame = pd.DataFrame(body, columns=header, dtype=object)
    return _normalize(frame, header, p, sheet)


#: The historic name of :func:`read_population_table` (same function).
read_kerncijfers = read_population_table


def _normalize(frame: pd.DataFrame, header: list[str], p: Path, sheet: str | None) -> pd.DataFrame:

    code_col = _code_column(frame)
    if code_col is None:
        raise InputError(
            "geen kolom met CBS-gebiedscodes (BU…/WK…/GM…) gevonden (no recognizable code "
            f"column); gevonden kolommen: {header[:12]}",
            path=p,
            fix=_FIX,
        )
    inw_col = cbs.resident_column(header)
    if inw_col is None:
        raise InputError(
            "geen kolom met aantal inwoners gevonden (no resident column: a_inw, AANT_INW, "
            f"aantalInwoners); gevonden kolommen: {header[:12]}",
            path=p,
            fix=_FIX,
        )
    out = pd.DataFrame({"code": frame[code_col].map(cbs.normalize_code)})
    out["niveau"] = out["code"].map(cbs.level_of)
    keep = out["niveau"].notna()
    out, frame = out[keep].reset_index(drop=True), frame[keep].reset_index(drop=True)
    if out.empty:
        raise InputError(
            f"kolom {code_col!r} bevat geen gemeente-, wijk- of buurtcodes", path=p, fix=_FIX
        )

    name_col = cbs.find_column(header, _NAME_NAMES)
    out["naam"] = cbs.clean_text(frame[name_col]) if name_col is not None else None
    out["gemeentecode"] = out["code"].map(cbs.gemeentecode_of)
    out["wijkcode"] = out["code"].map(cbs.wijkcode_of)
    out["inwoners"] = cbs.clean_numeric(frame[inw_col])
    old, estimated, col65 = cbs.age65_figures(frame, out["inwoners"])
    out["inwoners_65plus"] = old
    out["inwoners_65plus_geschat"] = estimated
    out["jaar"] = _years(frame, header, sheet, p)
    gm_col = cbs.find_column(header, _GM_NAME_NAMES)
    out["gemeentenaam"] = cbs.clean_text(frame[gm_col]) if gm_col is not None else None

    out = out.drop_duplicates()
    dup = out["code"][out.duplicated(["code", "jaar"], keep=False)]
    if not dup.empty:
        raise InputError(
            f"codes komen meerdere keren voor met verschillende waarden (duplicate codes): "
            f"{sorted(set(dup))[:5]}",
            path=p,
            fix="lever één rij per gebied en jaar aan",
        )
    out = out[COLUMNS].reset_index(drop=True)
    out.attrs["source"] = str(p)
    buurt = out[out["niveau"] == "Buurt"]
    notes = cbs.population_warnings(
        buurt["code"].tolist(), buurt["inwoners"], buurt["inwoners_65plus"]
    )
    estimate = cbs.estimate_note(int(buurt["inwoners_65plus_geschat"].sum()))
    out.attrs["notes"] = [f"{p.name}: {w}" for w in [*notes, *([estimate] if estimate else [])]]
    out.attrs["columns_used"] = {"code": code_col, "inwoners": inw_col, "inwoners_65plus": col65}
    return out


def _unique_header(row: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(row):
        name = name or f"kolom_{i + 1}"
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n}")
    return out


def _years(frame: pd.DataFrame, header: list[str], sheet: str | None, path: Path) -> pd.Series:
    col = cbs.find_column(header, _YEAR_NAMES)
    if col is not None:
        years = frame[col].map(lambda v: cbs.year_in(str(v)))
        if years.notna().all():
            return years.astype(object)
    year = cbs.year_in(sheet or "") or cbs.year_in(path.name)
    return pd.Series([year] * len(frame), dtype=object)


def municipal_totals(df: pd.DataFrame, gemeentecode: str | None = None) -> dict:
    """Totals of the gemeente row: ``{"gemeentecode", "naam", "inwoners", "inwoners_65plus",
    "jaar"}``; an empty dict when the table has no gemeente row.

    With several gemeenten in the table, ``gemeentecode`` chooses one (ValueError otherwise).
    """
    gm = df[df["niveau"] == "Gemeente"]
    if gemeentecode is not None:
        gm = gm[gm["code"] == cbs.normalize_code(gemeentecode)]
    if gm.empty:
        return {}
    if len(gm) > 1:
        raise ValueError(
            f"table has {len(gm)} gemeente rows ({sorted(gm['code'])[:5]}…); pass gemeentecode"
        )
    row = gm.iloc[0]
    return {
        "gemeentecode": row["code"],
        "naam": row["naam"],
        "inwoners": float(row["inwoners"]),
        "inwoners_65plus": float(row["inwoners_65plus"]),
        "jaar": row["jaar"],
    }
