"""Files uploaded in the dashboard: size limit first, then the same readers as the engine.

:func:`read_upload` never raises for bad input. Whole-file problems come back as
``UploadResult.error`` (an :class:`~geo.errors.InputError` naming the uploaded file, what is
wrong and the fix) with ``gdf=None``; rows or features that could not be used come back as
Dutch strings in ``problems`` while every good row is kept.

The bytes are written to a private temporary folder (mode 0700, removed afterwards) under a
sanitised name, so one session never sees another session's upload and an uploaded name
cannot point anywhere else on disk.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Literal

import geopandas as gpd

from geo.boundaries import read_boundaries
from geo.errors import InputError
from geo.facilities import outside_area, read_facility_list
from geo.settings import REPO_ROOT
from layers.notes import Note, from_boundaries, from_row_problems, use_summary

Kind = Literal["voorzieningen", "buurtgrenzen"]

#: Environment variable overriding the upload limit in MB.
MAX_UPLOAD_ENV = "ONTMOET_MAX_UPLOAD_MB"
#: Limit when neither the environment nor ``.streamlit/config.toml`` says otherwise.
DEFAULT_MAX_MB = 50.0
#: Accepted file types per kind (lower-case suffixes).
SUFFIXES: dict[str, tuple[str, ...]] = {
    "voorzieningen": (".csv", ".txt", ".xlsx", ".xlsm", ".geojson", ".json"),
    "buurtgrenzen": (".geojson", ".json", ".gpkg", ".zip"),
}
_FIX = {
    "voorzieningen": "upload een CSV, XLSX of GeoJSON met kolommen naam en lat/lon (of x/y in RD)",
    "buurtgrenzen": "upload de CBS Wijk- en Buurtkaart als GeoPackage (.gpkg), GeoJSON of "
    "shapefile-zip (.zip met .shp, .shx, .dbf en .prj)",
}
_UNIT = {"voorzieningen": "rijen", "buurtgrenzen": "buurten"}


@dataclass
class UploadResult:
    """What became of one upload.

    ``gdf`` is None when the file as a whole could not be used (``error`` says why).
    ``problems`` lists rows/features that were left out; ``warnings`` what was assumed or
    repaired; ``summary`` is one Dutch line such as "12 van 14 rijen gebruikt".
    """

    name: str
    kind: str
    gdf: gpd.GeoDataFrame | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: str = ""
    error: InputError | None = None
    notes: list[Note] = field(default_factory=list)  # per row: dropped or corrected, and why

    @property
    def ok(self) -> bool:
        return self.gdf is not None


def max_upload_mb(config_path: str | Path | None = None) -> float:
    """The upload limit in MB: ``$ONTMOET_MAX_UPLOAD_MB``, else ``server.maxUploadSize`` from
    ``.streamlit/config.toml``, else 50. Unusable values fall through to the next source."""
    env = os.environ.get(MAX_UPLOAD_ENV, "").strip().replace(",", ".")
    try:
        if env and float(env) > 0:
            return float(env)
    except ValueError:
        pass
    path = Path(config_path) if config_path else REPO_ROOT / ".streamlit" / "config.toml"
    try:
        value = tomllib.loads(path.read_text(encoding="utf-8"))["server"]["maxUploadSize"]
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        pass
    return DEFAULT_MAX_MB


def safe_name(name: str) -> str:
    """The uploaded name reduced to a harmless base name (letters, digits, ``._-``)."""
    base = PurePath(name.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("._")[:80] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix)[:10].lower()
    return f"{stem}.{suffix}" if suffix else stem


def read_upload(
    name: str,
    data: bytes,
    *,
    kind: Kind,
    max_mb: float | None = None,
    within: gpd.GeoDataFrame | None = None,
) -> UploadResult:
    """Check size and type of an uploaded file, then read it with the engine's reader.

    ``kind`` "voorzieningen": a facility list (CSV/XLSX/GeoJSON, see
    :func:`geo.facilities.read_facility_list`); "buurtgrenzen": buurt polygons
    (GeoJSON/GPKG/zipped shapefile, see :func:`geo.boundaries.read_boundaries`).
    ``within`` (buurt polygons of the municipality, optional): facilities outside it are
    left out and listed as problems.
    """
    if kind not in SUFFIXES:
        raise ValueError(f"unknown upload kind {kind!r}")
    shown = PurePath(name.replace("\\", "/")).name or "upload"
    try:
        _check_before_reading(shown, data, kind, max_upload_mb() if max_mb is None else max_mb)
        return _read(shown, data, kind, within)
    except InputError as exc:
        return UploadResult(shown, kind, None, summary=str(exc), error=exc)


def _check_before_reading(shown: str, data: bytes, kind: str, limit_mb: float) -> None:
    size_mb = len(data) / (1024 * 1024)
    if size_mb > limit_mb:
        raise InputError(
            f"bestand is {size_mb:.1f} MB, de grens is {limit_mb:g} MB (upload too large); "
            "het is niet gelezen",
            path=shown,
            fix=f"knip het bestand op of comprimeer het (zip), of verhoog {MAX_UPLOAD_ENV} / "
            "server.maxUploadSize in .streamlit/config.toml",
        )
    suffix = PurePath(shown).suffix.lower()
    if suffix not in SUFFIXES[kind]:
        raise InputError(
            f"bestandstype {suffix or '(geen extensie)'} wordt voor {kind} niet ondersteund "
            f"(unsupported format); toegestaan: {', '.join(SUFFIXES[kind])}",
            path=shown,
            fix=_FIX[kind],
        )
    if not data or not data.strip():
        raise InputError("bestand is leeg (empty file)", path=shown, fix=_FIX[kind])


def _read(shown: str, data: bytes, kind: str, within: gpd.GeoDataFrame | None) -> UploadResult:
    tmp = Path(tempfile.mkdtemp(prefix="ontmoet-upload-"))  # mode 0700: this session only
    try:
        path = tmp / safe_name(shown)
        path.write_bytes(data)
        try:
            if kind == "voorzieningen":
                return _facilities(shown, path, within)
            return _boundaries(shown, path)
        except InputError as exc:
            raise _renamed(exc, tmp, path, shown) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _renamed(exc: InputError, tmp: Path, path: Path, shown: str) -> InputError:
    """The same error, naming the uploaded file instead of the private temporary copy."""
    problem = exc.problem.replace(str(path), shown).replace(str(tmp), "upload")
    return type(exc)(problem, path=shown, fix=exc.fix)


def _local(text: str, path: Path, shown: str) -> str:
    return text.replace(str(path), shown).replace(path.name, shown)


def _facilities(shown: str, path: Path, within: gpd.GeoDataFrame | None) -> UploadResult:
    gdf, problems = read_facility_list(path)
    if within is not None and not gdf.empty:
        gdf, outside = outside_area(gdf, within)
        problems = sorted([*problems, *outside], key=lambda p: p.rij)
    rows = {p.rij for p in problems}
    total = int(gdf.attrs.get("rows", len(gdf) + len(rows - set(gdf["rij"]))))
    warnings = [_local(w, path, shown) for w in gdf.attrs.get("warnings", [])]
    gdf["bron"] = f"lokale lijst: {shown}"
    gdf.attrs["source"] = shown
    notes = from_row_problems([*problems, *gdf.attrs.get("corrected", [])], shown)
    notes.sort(key=lambda n: n.row or 0)
    summary = use_summary(shown, total, notes).removeprefix(f"{shown}: ")  # as the CLI says
    return UploadResult(shown, "voorzieningen", gdf, [str(p) for p in problems], warnings, summary,
                        notes=notes)


def _boundaries(shown: str, path: Path) -> UploadResult:
    gdf = read_boundaries(path)
    notes = [*gdf.attrs.get("warnings", []), *gdf.attrs.get("notes", [])]
    warnings = [_local(w, path, shown) for w in notes]
    problems = [_local(p, path, shown) for p in gdf.attrs.get("problems", [])]
    total = int(gdf.attrs.get("features_in_file", len(gdf)))
    gdf.attrs["source"] = shown
    summary = f"{len(gdf)} van {total} {_UNIT['buurtgrenzen']} gebruikt"
    if warnings:
        summary += f"; {len(warnings)} waarschuwing(en)"
    return UploadResult(shown, "buurtgrenzen", gdf, problems, warnings, summary,
                        notes=from_boundaries(gdf, shown))
