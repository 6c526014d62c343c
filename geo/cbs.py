"""Dutch/CBS table conventions shared by the readers.

* reading a small table (CSV with ``;``/``,``/tab, UTF-8 with or without BOM, cp1252
  fallback; or XLSX) into rows of stripped strings, keeping each row's line number;
* numbers with a decimal comma and CBS secrecy / missing markers (``.``, ``x``,
  ``-99997`` ...) that must become NaN, never a number;
* CBS region codes (``GM0344``, ``WK034401``, ``BU03440111``; since 2022 the last characters
  of wijk and buurt codes may be letters, e.g. Amsterdam's ``WK0363AA``/``BU0363AA01``) and
  the column names CBS has used over the years for residents and residents aged 65 and over.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError

#: Numeric codes CBS uses instead of a value: -99995 (not available), -99997 (secret),
#: -99998/-99999 (not applicable / unknown), and the 8-digit variants of older Wijk- en
#: Buurtkaart shapefiles (-99999997 ... -99999999).
SECRECY_NUMBERS = frozenset(
    {-99995, -99996, -99997, -99998, -99999, -99999997, -99999998, -99999999}
)
#: Textual markers for "no value" in CBS tables and StatLine exports.
SECRECY_TEXT = frozenset({"", ".", "x", "X", "-", "?", "..", "nan", "NaN", "NA", "n/a"})

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_DELIMITERS = (";", ",", "\t", "|")
#: A CBS region code: ``GM`` + 4 digits (the gemeente), ``WK`` + those 4 digits + 2
#: characters, ``BU`` + those 4 digits + 4 characters. The characters after the gemeente are
#: digits or, since 2022, capital letters (Amsterdam: ``WK0363AA``, ``BU0363AA01``).
CODE_RE = re.compile(r"^(GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4})$")
_REGION_RE = re.compile(r"^(GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4}|NL\d{2})$")  # NL00
LEVELS = {"GM": "Gemeente", "WK": "Wijk", "BU": "Buurt"}


# --------------------------------------------------------------------------- numbers


def parse_number(value: object) -> float:
    """One cell as float; CBS secrecy markers, blanks and text become NaN.

    Accepts a decimal comma (``52,09``) and Dutch thousands dots when a comma is also
    present (``1.234,5``).
    """
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return math.nan if (math.isnan(f) or f in SECRECY_NUMBERS) else f
    text = str(value).strip().replace("\u2212", "-").replace("\u00a0", "").replace(" ", "")
    if text in SECRECY_TEXT:
        return math.nan
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        f = float(text)
    except ValueError:
        return math.nan
    return math.nan if (math.isnan(f) or f in SECRECY_NUMBERS) else f


def clean_text(values: pd.Series) -> pd.Series:
    """Stripped text; missing values become ``""`` (never the string "None" or "nan")."""
    return values.map(lambda v: "" if v is None or v != v else str(v).strip()).astype(str)


def clean_numeric(values: Iterable[object] | pd.Series) -> pd.Series:
    """A float Series with every secrecy / missing marker turned into NaN."""
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        out = s.astype("float64")
        return out.mask(out.isin(list(SECRECY_NUMBERS)))
    return s.map(parse_number).astype("float64")


# --------------------------------------------------------------------------- codes


def normalize_code(value: object) -> str:
    """``' bu03440111 '`` -> ``'BU03440111'``; missing values -> ``''``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip().upper()


def level_of(code: str) -> str | None:
    """Level name ("Gemeente", "Wijk" or "Buurt") from the code prefix, else None."""
    return LEVELS.get(code[:2]) if CODE_RE.match(code) else None


def gemeentecode_of(code: str) -> str | None:
    return f"GM{code[2:6]}" if CODE_RE.match(code) else None


def wijkcode_of(code: str) -> str | None:
    """Wijk code of a buurt (``WK`` + code[2:8]: ``BU0363AA01`` -> ``WK0363AA``) or of a wijk
    itself; None for gemeenten."""
    if not CODE_RE.match(code) or code.startswith("GM"):
        return None
    return f"WK{code[2:8]}"


def code_share(
    values: Iterable[object], prefixes: tuple[str, ...] = ("BU", "WK", "GM", "NL")
) -> float:
    """Share of non-blank values that are CBS region codes with one of ``prefixes``."""
    codes = [normalize_code(v) for v in values]
    codes = [c for c in codes if c]
    if not codes:
        return 0.0
    return sum(1 for c in codes if _REGION_RE.match(c) and c.startswith(prefixes)) / len(codes)


# --------------------------------------------------------------------------- column names


def norm_name(name: object) -> str:
    """Comparable column name: lower case, no accents, ``%`` -> ``pct``, only [a-z0-9].

    An OData suffix such as ``AantalInwoners_5`` is dropped.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"_\d+$", "", text.strip()).replace("%", "pct").lower()
    return re.sub(r"[^a-z0-9]", "", text)


def find_column(columns: Sequence[object], aliases: Iterable[str]) -> object | None:
    """The first column (in alias order) whose normalized name equals a normalized alias."""
    by_norm: dict[str, object] = {}
    for c in columns:
        by_norm.setdefault(norm_name(c), c)
    for alias in aliases:
        hit = by_norm.get(norm_name(alias))
        if hit is not None:
            return hit
    return None


_RESIDENT_NAMES = ("a_inw", "aantalInwoners", "AANT_INW", "inwoners", "aantal_inwoners")
#: English names some projects give the PDOK/CBS fields (mapped back before reading).
ENGLISH_NAMES = {
    "population": "aantalInwoners",
    "pct_65plus": "percentagePersonen65JaarEnOuder",
    "households": "aantalHuishoudens",
}
_COUNT_65_NAMES = ("a_65_oo", "A_65_EO_JR", "a_65_eo_jr", "aantal_65plus", "inwoners_65plus")
_PCT_65_NAMES = ("percentagePersonen65JaarEnOuder", "P_65_EO_JR", "p_65_oo", "pct_65plus")


def resident_column(columns: Sequence[object]) -> object | None:
    """Column with the total number of residents (2023+ ``a_inw``, map ``aantalInwoners``,
    older ``AANT_INW``, StatLine ``Bevolking/Aantal inwoners (aantal)``)."""
    hit = find_column(columns, _RESIDENT_NAMES)
    if hit is not None:
        return hit
    return next((c for c in columns if norm_name(c).endswith("aantalinwonersaantal")), None)


def age65_columns(columns: Sequence[object]) -> tuple[object | None, object | None]:
    """``(count column, percentage column)`` for residents aged 65 and over."""
    count = find_column(columns, _COUNT_65_NAMES)
    pct = find_column(columns, _PCT_65_NAMES)
    for c in columns:
        n = norm_name(c)
        if "65jaarofouder" in n or "65jaarenouder" in n:
            if n.startswith(("percentage", "p65")) or n.endswith("pct"):
                pct = pct if pct is not None else c
            else:
                count = count if count is not None else c
    return count, pct


def estimate_from_percentage(total: Iterable[float], pct: Iterable[float]) -> np.ndarray:
    """Whole persons from a total and a percentage: ``total × pct / 100`` rounded half up.

    NaN when either is unknown (secret), never 0. CBS publishes the 65+ share of a buurt on the
    Wijk- en Buurtkaart only as a whole percentage, so the result is an estimate that can be off
    by up to 0.5 % of the buurt's residents.
    """
    t = np.asarray(total, dtype="float64")
    p = np.asarray(pct, dtype="float64")
    return np.floor(t * p / 100.0 + 0.5)


def age65_figures(
    frame: pd.DataFrame, inwoners: Iterable[float]
) -> tuple[np.ndarray, np.ndarray, object | None]:
    """Residents aged 65+ from a CBS frame: ``(values, estimated, column used)``.

    A count column wins; else a percentage column gives :func:`estimate_from_percentage`, and
    ``estimated`` is True for the rows whose value came from it. Secrecy codes stay NaN (and are
    not flagged as estimates: nothing was estimated). Without either column all NaN.
    """
    n = len(frame)
    count, pct = age65_columns(list(frame.columns))
    if count is not None:
        return clean_numeric(frame[count]).to_numpy(), np.zeros(n, dtype=bool), count
    if pct is not None:
        values = estimate_from_percentage(inwoners, clean_numeric(frame[pct]).to_numpy())
        return values, ~np.isnan(values), pct
    return np.full(n, np.nan), np.zeros(n, dtype=bool), None


def estimate_note(n_estimated: int) -> str | None:
    """Dutch note for buurten whose 65+ count is an estimate from a percentage."""
    if not n_estimated:
        return None
    return (
        f"{n_estimated} buurt(en): aantal 65-plussers geschat uit het CBS-percentage (hele "
        "procenten × inwoners, afgerond op hele personen; kan tot 0,5 % van de inwoners "
        "afwijken) — gemarkeerd als schatting (inwoners_65plus_geschat)"
    )


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    """Rows of stripped strings as read from a CSV or XLSX file."""

    rows: list[list[str]]
    line_numbers: list[int]  # 1-based line (CSV) or row (XLSX) number of each row
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode as UTF-8 (BOM optional), falling back to cp1252 and then latin-1."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first non-empty line into the most fields."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    best, best_n = ",", 1
    for d in _DELIMITERS:
        n = len(next(csv.reader([first], delimiter=d), []))
        if n > best_n:
            best, best_n = d, n
    return best


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()  # type: ignore[no-any-return]
    return str(v).strip()


def read_table(
    path: str | Path,
    *,
    max_rows: int | None = None,
    sheet_test: Callable[[list[list[str]]], bool] | None = None,
) -> Table:
    """Read a CSV/XLSX file into a :class:`Table` (``max_rows`` limits reading for sniffing).

    For XLSX with several sheets, the first sheet whose first rows pass ``sheet_test``
    is used (else the first sheet). Raises InputError for unreadable or unsupported files.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p, max_rows, sheet_test)
    if suffix == ".xls":
        raise InputError(
            "oud Excel-formaat .xls wordt niet gelezen (old .xls format not supported)",
            path=p,
            fix="sla het bestand op als .xlsx of .csv",
        )
    try:
        with p.open("rb") as fh:
            data = fh.read(256 * 1024 if max_rows else -1)
    except OSError as exc:
        raise InputError(f"bestand niet leesbaar (unreadable): {exc}", path=p) from exc
    if max_rows and len(data) == 256 * 1024 and b"\n" in data:
        data = data[: data.rfind(b"\n")]
    if b"\x00" in data[:4096]:
        raise InputError(
            "dit is geen tekst-/CSV-bestand (binary content)",
            path=p,
            fix="lever een CSV (UTF-8) of XLSX aan",
        )
    text, enc = decode_text(data)
    delim = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            rows.append([c.strip() for c in row])
            lines.append(reader.line_num)
            if max_rows and len(rows) >= max_rows:
                break
    except csv.Error as exc:
        raise InputError(f"CSV kan niet gelezen worden (CSV error): {exc}", path=p) from exc
    return Table(rows, lines, delimiter=delim, encoding=enc)


def _read_xlsx(
    p: Path, max_rows: int | None, sheet_test: Callable[[list[list[str]]], bool] | None
) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InputError(
            f"Excel-bestand niet leesbaar (unreadable xlsx): {exc}",
            path=p,
            fix="open en sla het bestand opnieuw op als .xlsx, of exporteer naar CSV",
        ) from exc
    try:
        chosen: Table | None = None
        for ws in wb.worksheets:
            rows: list[list[str]] = []
            lines: list[int] = []
            for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
                rows.append([_cell_text(v) for v in values])
                lines.append(i)
                if max_rows and i >= max_rows:
                    break
            table = Table(rows, lines, sheet=ws.title)
            if chosen is None:
                chosen = table
            if sheet_test is None or sheet_test(rows[:30]):
                return table
        return chosen if chosen is not None else Table([], [])
    finally:
        wb.close()


def is_blank_row(row: Sequence[str]) -> bool:
    return all(not c for c in row)


def year_in(text: str) -> int | None:
    """A 4-digit year 2000-2099 in ``text`` (the last one), else None."""
    years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", text)
    return int(years[-1]) if years else None


# --------------------------------------------------------------------------- reporting


def population_warnings(
    codes: Sequence[str], inwoners: Sequence[float], inwoners_65plus: Sequence[float] | None
) -> list[str]:
    """Dutch notes on buurten whose figures are secret/missing (NaN) or zero residents.

    Nothing is filled in: unknown stays unknown ("onbekend"), and a buurt with 0 residents
    (a business park, a park) simply has nobody to reach.
    """
    codes = [str(c) for c in codes]
    inw = np.asarray(inwoners, dtype="float64")
    out: list[str] = []

    def listed(mask: np.ndarray) -> str:
        hit = [c for c, m in zip(codes, mask, strict=True) if m]
        more = f" en {len(hit) - 10} meer" if len(hit) > 10 else ""
        return ", ".join(hit[:10]) + more

    unknown = np.isnan(inw)
    if unknown.any():
        out.append(
            f"{int(unknown.sum())} buurt(en) met onbekend aantal inwoners (CBS-geheimhouding of "
            f"ontbrekende waarde, bv. -99997/-99995/leeg; shown as 'onbekend'): {listed(unknown)}"
        )
    if inwoners_65plus is not None:
        old = np.asarray(inwoners_65plus, dtype="float64")
        unknown65 = np.isnan(old) & ~unknown
        if unknown65.any():
            out.append(
                f"{int(unknown65.sum())} buurt(en) met onbekend aantal 65-plussers "
                f"(CBS-geheimhouding of ontbrekende waarde; shown as 'onbekend'): "
                f"{listed(unknown65)}"
            )
    zero = inw == 0
    if zero.any():
        out.append(
            f"{int(zero.sum())} buurt(en) met 0 inwoners (bv. bedrijventerrein; niemand te "
            f"bereiken, telt niet mee in aandelen): {listed(zero)}"
        )
    return out
