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
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import cbs, coords
from geo.boundaries import unreadable_error
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
    """One skipped (or, in ``attrs["corrected"]``, repaired) row: its number in the file
    (header line = 1), the field, the message and the kind of problem (``soort``, a key of
    :data:`layers.notes.KINDS`)."""

    rij: int
    veld: str
    melding: str
    soort: str = field(default="onleesbaar", compare=False)

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
    every = list(zip(table.line_numbers, table.rows, strict=True))
    data = [(n, r) for n, r in every if not cbs.is_blank_row(r)]
    if not data:
        raise InputError("bevat geen kolommen of rijen (empty file)", path=p, fix=_FIX)
    if len(data) == 1:
        raise InputError(
            "bevat alleen een kopregel en geen rijen met plekken (header only, no data rows)",
            path=p,
            fix=_FIX,
        )
    blank = [n for n, r in every if cbs.is_blank_row(r) and n > data[0][0] and n < data[-1][0]]
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
    corrected: list[RowProblem] = []
    gx, gy, keep, warnings = _to_rd(x, y, lines, pair, cols, problems, corrected)
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
    extra = [h for h in header if h and h not in used]
    if extra:
        warnings.append("extra kolommen overgenomen, niet gebruikt in de analyse: "
                        + ", ".join(extra[:10]) + (" …" if len(extra) > 10 else ""))
    if blank:
        warnings.append(f"lege rijen overgeslagen (empty rows skipped): rij {_rows_text(blank)}")
    if table.encoding not in (None, "utf-8-sig"):
        warnings.append(
            f"tekst gelezen als {table.encoding} (Windows-1252/Excel), niet UTF-8; "
            "controleer letters met accenten"
        )
    out = _drop_duplicates(out, problems, warnings)
    problems.sort(key=lambda pr: pr.rij)
    out.attrs["warnings"] = [f"{p.name}: {w}" for w in warnings]
    out.attrs["corrected"] = [c for c in corrected if c.rij in set(out["rij"])]
    out.attrs["rows"] = len(data) - 1
    out.attrs["source"] = str(p)
    return out, problems


#: Rows with the same name closer than this (m) are the same place entered twice.
DUPLICATE_M = 50.0


def _rows_text(rows: list[int]) -> str:
    return ", ".join(str(r) for r in rows[:20]) + (" …" if len(rows) > 20 else "")


def _drop_duplicates(
    out: gpd.GeoDataFrame, problems: list[RowProblem], warnings: list[str]
) -> gpd.GeoDataFrame:
    """Drop a row whose name (case-insensitive) and place (within :data:`DUPLICATE_M`) repeat
    an earlier row; same name elsewhere is kept (a chain, two locations) and noted."""
    if out.empty:
        return out
    key = out["naam"].astype(str).str.casefold().str.split().str.join(" ")
    drop = np.zeros(len(out), dtype=bool)
    elsewhere: list[str] = []
    for _name, idx in key.groupby(key).groups.items():
        if len(idx) < 2:
            continue
        pos = [out.index.get_loc(i) for i in idx]
        for j, b in enumerate(pos[1:], start=1):
            first = next((a for a in pos[:j] if not drop[a] and out.geometry.iloc[a].distance(
                out.geometry.iloc[b]) <= DUPLICATE_M), None)
            if first is not None:
                drop[b] = True
                problems.append(
                    RowProblem(
                        int(out["rij"].iloc[b]),
                        "naam",
                        f"dubbel: zelfde naam {out['naam'].iloc[b]!r} en plek als rij "
                        f"{int(out['rij'].iloc[first])} (duplicate row skipped)",
                        soort="dubbel",
                    )
                )
        kept = [int(out["rij"].iloc[a]) for a in pos if not drop[a]]
        if len(kept) > 1:
            elsewhere.append(f"{out['naam'].iloc[pos[0]]!r} (rij {_rows_text(kept)})")
    if elsewhere:
        warnings.append(
            "zelfde naam op verschillende plekken, alle behouden (same name, different "
            f"places): {'; '.join(elsewhere[:10])}"
        )
    return out[~drop]


def _to_rd(
    x: np.ndarray,
    y: np.ndarray,
    lines: list[int],
    pair: tuple[str, str],
    cols: dict[str, str],
    problems: list[RowProblem],
    corrected: list[RowProblem],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Classify each point, convert to RD, report points outside the Netherlands (in
    ``problems``) and points read in another way than the columns say (in ``corrected``)."""
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
                soort="buiten_nl",
            )
        )
    warnings = []
    cx_cy = f"{cx}/{cy}"
    for kind, soort in ((coords.KIND_SWAPPED, "omgedraaid"), (coords.KIND_RD_SWAPPED, "omgedraaid"),
                        (coords.KIND_RD, "rd_als_graden"), (coords.KIND_WGS84, "graden_als_rd")):
        if soort == "rd_als_graden" and pair[0] != "lon" or soort == "graden_als_rd" and \
                pair[0] != "x":
            continue
        for i in np.flatnonzero(kinds == kind):
            corrected.append(RowProblem(lines[i], cx_cy, f"{cx}={x[i]:g}, {cy}={y[i]:g}: "
                                        f"{coords.KIND_TEXT[kind]}", soort=soort))
    for kind in (coords.KIND_SWAPPED, coords.KIND_RD_SWAPPED):
        swapped = [lines[i] for i in np.flatnonzero(kinds == kind)]
        if swapped:
            warnings.append(f"{coords.KIND_TEXT[kind]}, omgedraaid in rij(en) "
                            f"{_rows_text(swapped)}")
    rd = [lines[i] for i in np.flatnonzero(kinds == coords.KIND_RD)]
    if pair[0] == "lon" and rd:
        warnings.append(f"RD-coördinaten in de lat/lon-kolommen, als RD gelezen: rij(en) "
                        f"{_rows_text(rd)}")
    deg = [lines[i] for i in np.flatnonzero(kinds == coords.KIND_WGS84)]
    if pair[0] == "x" and deg:
        warnings.append(
            f"WGS84-graden (lengte/breedte) in de x/y-kolommen, als graden gelezen: "
            f"rij(en) {_rows_text(deg)}"
        )
    return gx, gy, keep, warnings


def _read_geojson(p: Path) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    try:
        raw = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # GDAL errors come in several types
        raise unreadable_error(p, exc, _FIX) from exc
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
    out = _drop_duplicates(out, problems, warnings)
    out.attrs["warnings"] = warnings
    out.attrs["corrected"] = [
        RowProblem(int(r), "geometry", f"{t} vervangen door een punt erin", soort="vlak_als_punt")
        for r, t in zip(good["rij"], good.attrs.get("geom_types", good.geom_type), strict=True)
        if t != "Point" and int(r) in set(out["rij"])]
    out.attrs["rows"] = len(raw)
    out.attrs["source"] = str(p)
    return out, sorted(problems, key=lambda pr: pr.rij)


def _geojson_to_rd(
    good: gpd.GeoDataFrame, p: Path, problems: list[RowProblem]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Points in EPSG:28992; features outside the Netherlands or in a different coordinate
    system than the rest of the file become row problems."""
    warnings: list[str] = []
    not_point = good.geom_type != "Point"
    types = list(good.geom_type)
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
            problems.append(RowProblem(int(r), "geometry", "ligt niet in Nederland (outside NL)",
                                       soort="buiten_nl"))
        elif k != main:
            problems.append(
                RowProblem(
                    int(r),
                    "geometry",
                    f"{coords.KIND_TEXT[k]}, terwijl de rest van het bestand "
                    f"{coords.KIND_TEXT[main]} heeft (different coordinate system than the rest)",
                    soort="ander_stelsel",
                )
            )
    good = good[kinds == main]
    types = [t for t, k in zip(types, kinds, strict=True) if k == main]
    if good.empty:
        return good.set_crs(coords.RD, allow_override=True), warnings
    good, crs_warnings = coords.resolve_crs(good, p)
    good.attrs["geom_types"] = types
    return good, warnings + crs_warnings


def outside_area(
    places: gpd.GeoDataFrame, area: gpd.GeoDataFrame, *, label: str = "de gemeente",
    tolerance_m: float = 100.0,
) -> tuple[gpd.GeoDataFrame, list[RowProblem]]:
    """Keep the places within ``tolerance_m`` of ``area`` (buurt polygons, any CRS); each
    other place becomes a RowProblem naming the place and how far outside it lies."""
    shape = shapely.union_all(area.to_crs(places.crs).geometry.to_numpy())
    dist = shapely.distance(places.geometry.to_numpy(), shape)
    outside = dist > tolerance_m
    problems = [
        RowProblem(
            int(r),
            "coördinaten",
            f"{naam!r} ligt {d / 1000:.1f} km buiten {label} (outside the area); "
            "controleer de coördinaten of verwijder de rij",
            soort="buiten_gebied",
        )
        for r, naam, d in zip(
            places["rij"][outside], places["naam"][outside], dist[outside], strict=True
        )
    ]
    return places[~outside], problems


def far_from_paths(
    places: gpd.GeoDataFrame, snap_dist_m: np.ndarray, limit_m: float
) -> list[RowProblem]:
    """A RowProblem for every place whose distance to the nearest usable path (``snap_dist_m``,
    aligned with ``places``) exceeds ``limit_m``: such a place is not used for routing."""
    d = np.asarray(snap_dist_m, dtype="float64")
    far = ~(d <= limit_m)  # inf/NaN (nothing to snap to) count as far
    rows = places["rij"] if "rij" in places.columns else pd.Series(np.arange(1, len(places) + 1))
    return [
        RowProblem(
            int(r),
            "coördinaten",
            f"{naam!r} ligt "
            + (f"{dist:.0f} m" if np.isfinite(dist) else "onbekend ver")
            + f" van het dichtstbijzijnde voetpad, meer dan {limit_m:.0f} m (far from any "
            "footpath: on a motorway, in water or misplaced); niet gebruikt — controleer de "
            "coördinaten",
            soort="ver_van_pad",
        )
        for r, naam, dist in zip(
            np.asarray(rows)[far], places["naam"].to_numpy()[far], d[far], strict=True
        )
    ]
