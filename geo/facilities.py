"""A municipality's own list of meeting places (buurthuizen, wijkcentra, ...) as points.

Accepted: CSV (``;`` or ``,``, decimal comma, UTF-8 with/without BOM, cp1252), XLSX or
GeoJSON. Columns are matched case-insensitively (Dutch or English):

* name: ``naam``/``name``; category: ``categorie``/``category``/``type``/``soort``;
* coordinates: ``lat``/``latitude``/``breedtegraad`` + ``lon``/``lng``/``longitude``/
  ``lengtegraad``, or ``x``/``y`` (``x_rd``, ``rd_x`` ...). RD versus WGS84 and swapped
  latitude/longitude are recognized from the values;
* optional: ``openingstijden``/``opening_hours``, ``adres``/``address``; other columns are kept.

Bad rows are skipped and listed as :class:`RowProblem`; whole-file problems raise InputError.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo import cbs, coords
from geo.errors import InputError
from geo.io import require_readable

SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".geojson", ".json")
COLUMNS = ["naam", "categorie_lokaal", "bron", "rij", "geometry"]

_WHAT = "lijst met ontmoetingsplekken (facility list)"
_FIX = (
    "lever een CSV/XLSX met kolommen naam, categorie en lat/lon (of x/y in RD), "
    "of een GeoJSON met punten en een eigenschap naam"
)
_ALIASES: dict[str, tuple[str, ...]] = {
    "naam": ("naam", "name", "locatienaam", "naam_locatie", "titel"),
    "categorie_lokaal": ("categorie", "category", "type", "soort", "soort_voorziening"),
    "lat": ("lat", "latitude", "breedtegraad", "breedte"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad", "lengte"),
    "x": ("x", "x_rd", "rd_x", "xcoord", "x_coord", "x_coordinaat", "rdx"),
    "y": ("y", "y_rd", "rd_y", "ycoord", "y_coord", "y_coordinaat", "rdy"),
    "openingstijden": ("openingstijden", "opening_hours", "openingsuren", "opening hours"),
    "adres": ("adres", "address", "straat_huisnummer"),
}
_EXPECTED = "naam (name) en lat/lon (latitude/longitude, breedtegraad/lengtegraad) of x/y (RD)"


@dataclass(frozen=True)
class RowProblem:
    """One skipped row: its number in the file (header line = 1), the field and the message."""

    rij: int
    veld: str
    melding: str

    def __str__(self) -> str:
        return f"rij {self.rij}, {self.veld}: {self.melding}"


def _columns(header: list[str]) -> dict[str, str]:
    found = {}
    for key, aliases in _ALIASES.items():
        col = cbs.find_column(header, aliases)
        if col is not None:
            found[key] = str(col)
    return found


def _missing_columns_error(p: Path, header: list[str], what: str) -> InputError:
    return InputError(
        f"kolom(men) voor {what} ontbreken (missing columns); gevonden kolommen: "
        f"{[h for h in header if h]}; verwacht: {_EXPECTED}",
        path=p,
        fix=_FIX,
    )


def read_facility_list(path: str | Path) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """Read a facility list into EPSG:28992 points plus the list of skipped rows.

    Columns: ``naam``, ``categorie_lokaal`` (raw text), ``bron`` ("lokale lijst: <file>"),
    ``rij`` (row number in the file, header = 1; for GeoJSON the feature number), geometry,
    and ``openingstijden``/``adres``/other columns when present. Warnings (swapped lat/lon
    repaired, RD values in lat/lon columns) are in ``gdf.attrs["warnings"]``.
    """
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"bestandstype {p.suffix or '(geen)'} wordt niet ondersteund (unsupported type)",
            path=p,
            fix="lever CSV, XLSX of GeoJSON aan",
        )
    p = require_readable(p, what=_WHAT, fix=_FIX)
    if p.suffix.lower() in (".geojson", ".json"):
        return _read_geojson(p)
    table = cbs.read_table(p)
    data = [(n, r) for n, r in zip(table.line_numbers, table.rows, strict=True)]
    data = [(n, r) for n, r in data if not cbs.is_blank_row(r)]
    if not data:
        raise InputError("bevat geen kolommen of rijen (empty file)", path=p, fix=_FIX)
    header = [h.lstrip("\ufeff") for h in data[0][1]]
    cols = _columns(header)
    if "naam" not in cols:
        raise _missing_columns_error(p, header, "de naam")
    pair = ("lon", "lat") if {"lat", "lon"} <= cols.keys() else ("x", "y")
    if not set(pair) <= cols.keys():
        raise _missing_columns_error(p, header, "de coördinaten")
    idx = {h: i for i, h in reversed(list(enumerate(header)))}

    def cell(row: list[str], key: str) -> str:
        i = idx[cols[key]]
        return row[i] if i < len(row) else ""

    problems: list[RowProblem] = []
    good: list[tuple[int, list[str], float, float]] = []
    for line, row in data[1:]:
        if len(row) > len(header) and any(row[len(header) :]):
            problems.append(
                RowProblem(
                    line,
                    "(hele rij)",
                    f"{len(row)} velden maar {len(header)} kolommen (too many fields); "
                    "decimale komma's zonder aanhalingstekens in een CSV met komma's?",
                )
            )
            continue
        if not cell(row, "naam"):
            problems.append(RowProblem(line, cols["naam"], "naam ontbreekt (empty name)"))
            continue
        values = []
        for key in pair:
            text = cell(row, key)
            value = cbs.parse_number(text)
            if not text:
                problems.append(RowProblem(line, cols[key], "coördinaat ontbreekt (missing)"))
            elif math.isnan(value):
                problems.append(
                    RowProblem(line, cols[key], f"{text!r} is geen getal (not a number)")
                )
            values.append(value)
        if not any(math.isnan(v) for v in values):
            good.append((line, row, values[0], values[1]))

    lines = [g[0] for g in good]
    x, y = np.array([g[2] for g in good]), np.array([g[3] for g in good])
    gx, gy, keep, warnings = _to_rd(x, y, lines, pair, cols, problems)
    rows = [g[1] for g, k in zip(good, keep, strict=True) if k]
    out = gpd.GeoDataFrame(
        {
            "naam": [cell(r, "naam") for r in rows],
            "categorie_lokaal": [
                cell(r, "categorie_lokaal") if "categorie_lokaal" in cols else "" for r in rows
            ],
            "bron": f"lokale lijst: {p.name}",
            "rij": np.array(lines, dtype="int64")[keep],
        },
        geometry=gpd.points_from_xy(gx[keep], gy[keep]),
        crs=coords.RD,
    )
    used = {cols[k] for k in cols if k in ("naam", "categorie_lokaal", "lat", "lon", "x", "y")}
    for key in ("openingstijden", "adres"):
        if key in cols:
            out[key] = [cell(r, key) for r in rows]
            used.add(cols[key])
    for h in header:
        if h and h not in used and h not in out.columns:
            out[h] = [r[idx[h]] if idx[h] < len(r) else "" for r in rows]
    problems.sort(key=lambda pr: pr.rij)
    out.attrs["warnings"] = [f"{p.name}: {w}" for w in warnings]
    out.attrs["source"] = str(p)
    return out, problems


def _to_rd(
    x: np.ndarray,
    y: np.ndarray,
    lines: list[int],
    pair: tuple[str, str],
    cols: dict[str, str],
    problems: list[RowProblem],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Classify each point, convert to RD, report points outside the Netherlands."""
    kinds = coords.classify_xy(x, y) if len(x) else np.array([], dtype=object)
    gx, gy = np.full(len(x), np.nan), np.full(len(x), np.nan)
    for kind in (coords.KIND_RD, coords.KIND_WGS84, coords.KIND_SWAPPED, coords.KIND_RD_SWAPPED):
        m = kinds == kind
        if m.any():
            gx[m], gy[m] = coords.to_rd(x[m], y[m], kind)
    keep = kinds != coords.KIND_UNKNOWN
    cx, cy = cols[pair[0]], cols[pair[1]]
    for i in np.flatnonzero(~keep):
        problems.append(
            RowProblem(
                lines[i],
                f"{cx}/{cy}",
                f"{cx}={x[i]:g}, {cy}={y[i]:g} ligt niet in Nederland als RD of WGS84 "
                "(coordinates outside the Netherlands)",
            )
        )
    warnings = []
    for kind in (coords.KIND_SWAPPED, coords.KIND_RD_SWAPPED):
        swapped = [lines[i] for i in np.flatnonzero(kinds == kind)]
        if swapped:
            warnings.append(f"{coords.KIND_TEXT[kind]}, omgedraaid in rij(en) {swapped[:20]}")
    rd = [lines[i] for i in np.flatnonzero(kinds == coords.KIND_RD)]
    if pair[0] == "lon" and rd:
        warnings.append(f"RD-coördinaten in de lat/lon-kolommen, als RD gelezen: rij(en) {rd[:20]}")
    return gx, gy, keep, warnings


def _read_geojson(p: Path) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    try:
        raw = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # GDAL errors come in several types
        raise InputError(f"GeoJSON niet leesbaar (unreadable): {exc}", path=p, fix=_FIX) from exc
    header = [str(c) for c in raw.columns if c != raw.geometry.name]
    cols = _columns(header)
    if "naam" not in cols:
        raise _missing_columns_error(p, header, "de naam")
    raw["rij"] = np.arange(1, len(raw) + 1)
    problems: list[RowProblem] = []
    names = cbs.clean_text(raw[cols["naam"]])
    no_geom = raw.geometry.isna() | raw.geometry.is_empty
    for r in raw.loc[no_geom, "rij"]:
        problems.append(RowProblem(int(r), "geometry", "geometrie ontbreekt (missing geometry)"))
    for r in raw.loc[(names == "") & ~no_geom, "rij"]:
        problems.append(RowProblem(int(r), cols["naam"], "naam ontbreekt (empty name)"))
    good = raw[~no_geom & (names != "")].copy()
    good, warnings = _geojson_to_rd(good, p, problems)
    out = gpd.GeoDataFrame(
        {
            "naam": names[good.index].to_numpy(),
            "categorie_lokaal": cbs.clean_text(good[cols["categorie_lokaal"]]).to_numpy()
            if "categorie_lokaal" in cols
            else "",
            "bron": f"lokale lijst: {p.name}",
            "rij": good["rij"].to_numpy(dtype="int64"),
        },
        geometry=good.geometry.to_numpy(),
        crs=coords.RD,
    )
    used = {cols[k] for k in ("naam", "categorie_lokaal") if k in cols}
    for key in ("openingstijden", "adres"):
        if key in cols:
            out[key] = good[cols[key]].to_numpy()
            used.add(cols[key])
    for h in header:
        if h not in used and h not in out.columns:
            out[h] = good[h].to_numpy()
    out.attrs["warnings"] = warnings
    out.attrs["source"] = str(p)
    return out, sorted(problems, key=lambda pr: pr.rij)


def _geojson_to_rd(
    good: gpd.GeoDataFrame, p: Path, problems: list[RowProblem]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Points in EPSG:28992; features outside the Netherlands or in a different coordinate
    system than the rest of the file become row problems."""
    warnings: list[str] = []
    not_point = good.geom_type != "Point"
    if not_point.any():
        good = good.set_geometry(good.geometry.representative_point())
        warnings.append(f"{p.name}: vlakken/lijnen vervangen door een punt erin (non-points)")
    crs = good.crs
    native = crs is None or crs.is_geographic or crs.to_epsg() == 28992
    pts = good.geometry if native else good.geometry.to_crs(coords.RD)
    kinds = coords.classify_xy(pts.x.to_numpy(), pts.y.to_numpy())
    known = Counter(k for k in kinds if k != coords.KIND_UNKNOWN)
    main = known.most_common(1)[0][0] if known else coords.KIND_UNKNOWN
    for r, k in zip(good["rij"], kinds, strict=True):
        if k == coords.KIND_UNKNOWN:
            problems.append(RowProblem(int(r), "geometry", "ligt niet in Nederland (outside NL)"))
        elif k != main:
            problems.append(
                RowProblem(
                    int(r),
                    "geometry",
                    f"{coords.KIND_TEXT[k]}, terwijl de rest van het bestand "
                    f"{coords.KIND_TEXT[main]} heeft (different coordinate system than the rest)",
                )
            )
    good = good[kinds == main]
    if good.empty:
        return good.set_crs(coords.RD, allow_override=True), warnings
    good, crs_warnings = coords.resolve_crs(good, p)
    return good, warnings + crs_warnings
