"""Buurt polygons (CBS Wijk- en Buurtkaart or a municipality's own file) in EPSG:28992.

Recognized column names (case-insensitive):

* CBS Wijk- en Buurtkaart up to 2021 (shapefile): ``BU_CODE``, ``BU_NAAM``, ``WK_CODE``,
  ``GM_CODE``, ``AANT_INW``, ``P_65_EO_JR`` (whole percent);
* CBS Wijk- en Buurtkaart 2022+ (GeoPackage, PDOK WFS/OGC API): ``buurtcode``,
  ``buurtnaam``, ``wijkcode``, ``gemeentecode``, ``aantalInwoners``,
  ``percentagePersonen65JaarEnOuder`` (whole percent: the 65+ count is then an estimate in
  whole persons, flagged in ``inwoners_65plus_geschat``);
* other files: ``statcode``/``statnaam``, ``code``/``naam`` — the buurtcode column is checked
  by content (values ``BU`` + 4 digits + 4 digits or capitals, see
  :data:`geo.cbs.CODE_RE`).

Warnings (CRS assumed, geometries repaired, overlaps, ...) are returned in
``gdf.attrs["warnings"]``; notes on the figures (secret/missing values, buurten with 0
residents) in ``gdf.attrs["notes"]``; features left out (no geometry) in
``gdf.attrs["problems"]``; the number of features in the file in ``gdf.attrs["features_in_file"]``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import cbs
from geo.coords import resolve_crs
from geo.errors import InputError
from geo.io import require_readable

SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
COLUMNS = ["buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "geometry"]
POPULATION_COLUMNS = ["inwoners", "inwoners_65plus", "inwoners_65plus_geschat"]

_WHAT = "buurtgrenzenbestand (buurt boundaries)"
_FIX = (
    "gebruik de CBS Wijk- en Buurtkaart (GeoPackage of shapefile-zip van cbs.nl) of een "
    "GeoJSON/GPKG/shapefile met een kolom buurtcode (BU + 8 tekens, bv. BU03440111 of BU0363AA01)"
)
_CODE_NAMES = ("buurtcode", "bu_code", "statcode", "buurt_code", "cbs_code", "cbscode", "code")
_NAME_NAMES = ("buurtnaam", "bu_naam", "statnaam", "buurt_naam", "naam", "name")
_WIJK_NAMES = ("wijkcode", "wk_code")
_GM_NAMES = ("gemeentecode", "gm_code")
_SHAPE_PARTS = (".shp", ".shx", ".dbf", ".prj")


def _zip_source(p: Path) -> str:
    """GDAL path of the (buurt) shapefile inside a zip; InputError when parts are missing."""
    try:
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"zip-bestand niet leesbaar (bad zip): {exc}", path=p, fix=_FIX) from exc
    shps = [n for n in names if n.lower().endswith(".shp")]
    if not shps:
        raise InputError(
            f"zip bevat geen shapefile (.shp ontbreekt; no .shp in zip); inhoud: {names[:10]}",
            path=p,
            fix="pak de volledige shapefile in (.shp, .shx, .dbf, .prj)",
        )
    buurt = [n for n in shps if "buurt" in PurePosixPath(n).name.lower()]
    shp = (buurt or shps)[0]
    stem = shp[: -len(".shp")].lower()
    lower = {n.lower() for n in names}
    missing = [ext for ext in _SHAPE_PARTS if stem + ext not in lower]
    if missing:
        raise InputError(
            f"shapefile {shp} in de zip is onvolledig: {', '.join(missing)} ontbreekt "
            f"(incomplete shapefile: missing {', '.join(missing)})",
            path=p,
            fix="pak alle delen van de shapefile samen in (.shp, .shx, .dbf en .prj)",
        )
    return f"/vsizip/{p.resolve()}/{shp}"


def _pick_layer(p: Path, layer: str | None) -> str | None:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(p)]
    except Exception as exc:  # pyogrio raises DataSourceError and others
        raise InputError(f"bestand niet leesbaar (unreadable): {exc}", path=p, fix=_FIX) from exc
    if layer is not None:
        if layer not in layers:
            raise InputError(
                f"laag {layer!r} bestaat niet (layer not found); lagen: {layers}",
                path=p,
                fix="kies een van de genoemde lagen",
            )
        return layer
    if len(layers) <= 1:
        return layers[0] if layers else None
    exact = [n for n in layers if n.lower() in ("buurten", "buurt")]
    buurt = exact or [n for n in layers if "buurt" in n.lower()]
    if not buurt:
        raise InputError(
            f"meerdere lagen en geen laag met 'buurt' in de naam (several layers): {layers}",
            path=p,
            fix="geef de laag met buurten op met layer=...",
        )
    return buurt[0]


def _source(path: str | Path, layer: str | None) -> tuple[Path, str, str | None]:
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"bestandstype {suffix or '(geen)'} wordt niet ondersteund (unsupported extension)",
            path=p,
            fix="lever GeoJSON, GeoPackage (.gpkg), shapefile (.shp) of een shapefile-zip aan",
        )
    p = require_readable(p, what=_WHAT, fix=_FIX)
    if suffix == ".zip":
        return p, _zip_source(p), layer
    if suffix == ".gpkg":
        return p, str(p), _pick_layer(p, layer)
    return p, str(p), layer


def _buurtcode_column(gdf: gpd.GeoDataFrame) -> str | None:
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    named = [c for c in (cbs.find_column(cols, [n]) for n in _CODE_NAMES) if c is not None]
    for c in dict.fromkeys([*named, *cols]):
        textual = gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c])
        if textual and cbs.code_share(gdf[c], ("BU",)) >= 0.8:
            return str(c)
    return None


def read_boundaries(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read buurt polygons into EPSG:28992 with :data:`COLUMNS` (+ population when present).

    Raises InputError for an unreadable file, an incomplete shapefile zip, an unsupported
    extension, a missing buurtcode column, no or contradictory CRS, or non-polygon data.
    """
    p, src, layer = _source(path, layer)
    try:
        raw = gpd.read_file(src, layer=layer, engine="pyogrio")
    except Exception as exc:  # GDAL errors come in several types
        raise unreadable_error(p, exc, _FIX) from exc
    if raw.empty:
        raise InputError("bevat geen objecten (no features)", path=p, fix=_FIX)
    code_col = _buurtcode_column(raw)
    if code_col is None:
        cols = [c for c in raw.columns if c != raw.geometry.name]
        raise InputError(
            "geen kolom met buurtcodes (BU + 8 tekens) gevonden (no buurtcode column); "
            f"gevonden kolommen: {cols[:15]}; verwacht: buurtcode of BU_CODE",
            path=p,
            fix=_FIX,
        )
    geom_types = set(raw.geometry.dropna().geom_type)
    if not geom_types <= {"Polygon", "MultiPolygon"}:
        raise InputError(
            f"geometrie moet vlakken zijn, gevonden: {sorted(geom_types)} (polygons expected)",
            path=p,
            fix=_FIX,
        )
    gdf, warnings = resolve_crs(raw, p)

    cols = list(gdf.columns)
    codes = gdf[code_col].map(cbs.normalize_code)
    out = gpd.GeoDataFrame({"buurtcode": codes}, geometry=gdf.geometry.values, crs=gdf.crs)
    name_col = cbs.find_column([c for c in cols if c != code_col], _NAME_NAMES)
    out["buurtnaam"] = cbs.clean_text(gdf[name_col]) if name_col is not None else None
    wk, gm = cbs.find_column(cols, _WIJK_NAMES), cbs.find_column(cols, _GM_NAMES)
    out["wijkcode"] = gdf[wk].map(cbs.normalize_code) if wk is not None else None
    out["wijkcode"] = out["wijkcode"].where(
        out["wijkcode"].astype(bool), codes.map(cbs.wijkcode_of)
    )
    out["gemeentecode"] = gdf[gm].map(cbs.normalize_code) if gm is not None else None
    out["gemeentecode"] = out["gemeentecode"].where(
        out["gemeentecode"].astype(bool), codes.map(cbs.gemeentecode_of)
    )
    inw = cbs.resident_column(cols)
    if inw is not None:
        out["inwoners"] = cbs.clean_numeric(gdf[inw]).to_numpy()
        old, estimated, _ = cbs.age65_figures(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
                                              out["inwoners"])
        out["inwoners_65plus"] = old
        out["inwoners_65plus_geschat"] = estimated

    out, geo_warnings = _clean_geometries(out)
    warnings += geo_warnings
    dup = sorted(set(out["buurtcode"][out["buurtcode"].duplicated()]))
    if dup:
        warnings.append(
            f"{p.name}: buurtcodes komen meerdere keren voor (duplicate buurtcodes): {dup[:10]}"
        )
    warnings += overlap_warnings(out)
    notes = []
    if "inwoners" in out.columns:
        notes = cbs.population_warnings(
            out["buurtcode"].tolist(), out["inwoners"], out["inwoners_65plus"]
        )
        estimate = cbs.estimate_note(int(out["inwoners_65plus_geschat"].sum()))
        notes = [f"{p.name}: {w}" for w in [*notes, *([estimate] if estimate else [])]]
    problems = list(out.attrs.get("problems", []))
    out = out[[c for c in [*COLUMNS, *POPULATION_COLUMNS] if c in out.columns]]
    out.attrs["warnings"] = warnings
    out.attrs["problems"] = problems
    out.attrs["notes"] = notes
    out.attrs["features_in_file"] = len(raw)
    out.attrs["source"] = str(p)
    out.attrs["layer"] = layer
    return out


def _clean_geometries(out: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Drop missing geometries and repair invalid ones with ``make_valid`` (polygon parts)."""
    warnings: list[str] = []
    missing = out.geometry.isna() | out.geometry.is_empty
    problems = [
        f"object {i + 1} ({code or 'zonder buurtcode'}), geometry: geen geometrie, weggelaten "
        "(feature without geometry dropped)"
        for i, code in zip(np.flatnonzero(missing), out.loc[missing, "buurtcode"], strict=True)
    ]
    if missing.any():
        out = out[~missing].copy()
    invalid = ~out.geometry.is_valid
    if invalid.any():
        geoms = out.geometry.copy()
        geoms[invalid] = [_polygonal(shapely.make_valid(g)) for g in geoms[invalid]]
        out = out.set_geometry(geoms)
        repaired = sorted(out.loc[invalid, "buurtcode"])
        out.attrs["repaired"] = repaired
        warnings.append(
            f"ongeldige geometrie gerepareerd (make_valid) voor {len(repaired)} buurt(en) "
            f"(invalid polygons repaired): {repaired}"
        )
    out.attrs["problems"] = problems
    return out, warnings


#: Overlaps smaller than this (m²) are digitising noise and not reported.
OVERLAP_MIN_M2 = 1.0


def overlap_warnings(buurten: gpd.GeoDataFrame, *, limit: int = 10) -> list[str]:
    """Dutch warnings for pairs of buurten whose polygons overlap (area in m², RD New).

    Overlapping buurten count residents near the shared part twice on the map, so they are
    reported (not changed): the source file has to be fixed.
    """
    geoms = buurten.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left, right, strict=True) if a < b]
    found = []
    for a, b in pairs:
        area = shapely.intersection(geoms[a], geoms[b]).area
        if area > OVERLAP_MIN_M2:
            found.append((buurten["buurtcode"].iloc[a], buurten["buurtcode"].iloc[b], area))
    if not found:
        return []
    text = "; ".join(f"{a} en {b} ({m2:,.0f} m²)".replace(",", ".") for a, b, m2 in found[:limit])
    return [
        f"{len(found)} paar buurten overlapt elkaar (overlapping polygons): {text}; inwoners bij "
        "de overlap tellen dubbel op de kaart — controleer de grenzen in het bronbestand"
    ]


def unreadable_error(p: Path, exc: Exception, fix: str) -> InputError:
    """InputError for a file GDAL could not read; for (Geo)JSON it says whether the text is
    cut off (an interrupted download or copy) or not JSON at all, with the line and column."""
    if p.suffix.lower() in (".geojson", ".json"):
        try:
            json.loads(p.read_bytes().decode("utf-8-sig", errors="replace"))
        except json.JSONDecodeError as jexc:
            doc = jexc.doc.strip()
            cut = doc.startswith(("{", "[")) and not doc.endswith(("}", "]"))
            what = (
                "GeoJSON is afgebroken/onvolledig (truncated: the text stops in the middle)"
                if cut
                else "GeoJSON is beschadigd (corrupt JSON)"
            )
            return InputError(
                f"{what} bij regel {jexc.lineno}, kolom {jexc.colno}: {jexc.msg}",
                path=p,
                fix="exporteer of download het bestand opnieuw; " + fix,
            )
        except OSError:
            pass
    return InputError(f"bestand niet leesbaar (unreadable): {exc}", path=p, fix=fix)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygonal part of a (repaired) geometry."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def dissolve_wijken(buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Wijk polygons (``wijkcode``, ``geometry``) with summed population.

    Sums skip NaN (secret) buurten; a wijk whose buurten are all NaN gets NaN. The column
    ``buurten_onbekend`` counts buurten with unknown 65+ residents (sum is then a lower bound).
    """
    cols = [c for c in POPULATION_COLUMNS if c in buurten.columns]
    groups = buurten.groupby("wijkcode", sort=True)
    geom = groups.geometry.apply(lambda s: shapely.union_all(s.to_numpy()))
    out = gpd.GeoDataFrame(
        {"wijkcode": geom.index.to_numpy()}, geometry=geom.to_numpy(), crs=buurten.crs
    )
    out["aantal_buurten"] = groups.size().reindex(geom.index).to_numpy()
    for c in cols:
        if c == "inwoners_65plus_geschat":  # a wijk sum is an estimate when a buurt's is
            out[c] = groups[c].any().reindex(geom.index).to_numpy()
        else:
            out[c] = groups[c].sum(min_count=1).reindex(geom.index).to_numpy()
    if "inwoners_65plus" in cols:
        unknown = buurten["inwoners_65plus"].isna().groupby(buurten["wijkcode"]).sum()
        out["buurten_onbekend"] = unknown.reindex(geom.index).to_numpy()
    out.attrs["warnings"] = list(buurten.attrs.get("warnings", []))
    return out


def is_boundaries_file(path: str | Path) -> bool:
    """Cheap sniff: supported extension and a buurtcode-like column (``pyogrio.read_info``)."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES or not p.is_file():
        return False
    try:
        if p.suffix.lower() == ".zip":
            src, layer = _zip_source(p), None
        elif p.suffix.lower() == ".gpkg":
            src, layer = str(p), _pick_layer(p, None)
        else:
            src, layer = str(p), None
        info = pyogrio.read_info(src, layer=layer)
    except Exception:  # any failure means "not a boundaries file we can use"
        return False
    fields = [str(f) for f in info.get("fields", [])]
    return any(cbs.find_column(fields, [n]) is not None for n in _CODE_NAMES)
