"""Coordinates in the Netherlands: RD New (EPSG:28992) versus WGS84 by value range.

The ranges are disjoint, so a single point tells which system it is in:

* RD New: x 0 .. 300 000, y 289 000 .. 629 000 (metres);
* WGS84: longitude 3.0 .. 7.4, latitude 50.6 .. 53.8 (degrees; a little wider than the land
  so that the CBS coastal-water buurten still fit);
* the same degrees with latitude and longitude swapped, or RD with x and y swapped (the RD
  ranges overlap for x, y in 289 000 .. 300 000; such points count as plain RD).

A GeoJSON file without a ``crs`` member is WGS84 by RFC 7946, and GDAL reports it so; but Dutch
files (e.g. the CBS/Kadaster layers republished by cartomap/nl) often hold RD metres without
saying so. For such a file the declared CRS is ignored and the range decides, with a warning:
metres are never read as degrees.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from geo.errors import InputError

RD = "EPSG:28992"
WGS84 = "EPSG:4326"

RD_X = (0.0, 300_000.0)
RD_Y = (289_000.0, 629_000.0)
LON = (3.0, 7.4)
LAT = (50.6, 53.8)

#: classification results
KIND_RD = "rd"
KIND_WGS84 = "wgs84"
KIND_SWAPPED = "wgs84_swapped"
KIND_RD_SWAPPED = "rd_swapped"
KIND_UNKNOWN = "unknown"

KIND_TEXT = {
    KIND_RD: "RD-coördinaten in meters (EPSG:28992)",
    KIND_WGS84: "WGS84-graden (lengte/breedte, EPSG:4326)",
    KIND_SWAPPED: "WGS84-graden met breedte- en lengtegraad verwisseld (lat/lon swapped)",
    KIND_RD_SWAPPED: "RD-coördinaten met x en y verwisseld (RD x/y swapped)",
    KIND_UNKNOWN: "coördinaten buiten Nederland (outside the Netherlands)",
}


def _within(v: np.ndarray, lo_hi: tuple[float, float]) -> np.ndarray:
    return (v >= lo_hi[0]) & (v <= lo_hi[1])


def classify_xy(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """Per point: ``"rd"``, ``"wgs84"`` (x=lon, y=lat), ``"wgs84_swapped"``, ``"rd_swapped"``
    or ``"unknown"``."""
    xa = np.atleast_1d(np.asarray(x, dtype="float64"))
    ya = np.atleast_1d(np.asarray(y, dtype="float64"))
    out = np.full(xa.shape, KIND_UNKNOWN, dtype=object)
    out[_within(xa, LON) & _within(ya, LAT)] = KIND_WGS84
    out[_within(xa, LAT) & _within(ya, LON)] = KIND_SWAPPED
    out[_within(xa, RD_Y) & _within(ya, RD_X)] = KIND_RD_SWAPPED
    out[_within(xa, RD_X) & _within(ya, RD_Y)] = KIND_RD
    return out


def classify_bounds(bounds: tuple[float, float, float, float] | np.ndarray) -> str:
    """Kind of a whole layer: both corners of ``(minx, miny, maxx, maxy)`` must agree."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    kinds = set(classify_xy(np.array([minx, maxx]), np.array([miny, maxy])))
    return kinds.pop() if len(kinds) == 1 else KIND_UNKNOWN


@lru_cache(maxsize=4)
def _transformer(src: str) -> Transformer:
    return Transformer.from_crs(src, RD, always_xy=True)


def to_rd(x: np.ndarray, y: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of one ``kind`` (see :func:`classify_xy`) converted to RD New x/y."""
    xa = np.asarray(x, dtype="float64")
    ya = np.asarray(y, dtype="float64")
    if kind == KIND_RD:
        return xa, ya
    if kind == KIND_RD_SWAPPED:
        return ya, xa
    if kind == KIND_SWAPPED:
        xa, ya = ya, xa
    elif kind != KIND_WGS84:
        raise ValueError(f"cannot convert coordinates of kind {kind!r}")
    rx, ry = _transformer(WGS84).transform(xa, ya)
    return np.asarray(rx), np.asarray(ry)


GEOJSON_SUFFIXES = (".geojson", ".json")
_HEAD_BYTES = 1 << 20
_TAIL_BYTES = 1 << 16


def geojson_declares_crs(path: str | Path) -> bool | None:
    """Whether a (Geo)JSON file has a top-level ``crs`` member; None for other files.

    Reads only the text before the ``features`` array (where GDAL, QGIS and ArcGIS write the
    member) and the text after it, so a ``crs`` property of a feature does not count.
    """
    p = Path(path)
    if p.suffix.lower() not in GEOJSON_SUFFIXES or not p.is_file():
        return None
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
            if size > _HEAD_BYTES:
                fh.seek(max(size - _TAIL_BYTES, _HEAD_BYTES))
            tail = fh.read(_TAIL_BYTES) if size > _HEAD_BYTES else head
    except OSError:
        return None
    if size <= _HEAD_BYTES:
        try:
            doc = json.loads(head.decode("utf-8-sig", errors="replace"))
            return isinstance(doc, dict) and doc.get("crs") is not None
        except ValueError:
            pass  # not valid JSON: fall back to the text scan below
    start = head.find(b'"features"')
    before = head if start < 0 else head[:start]
    after = tail[tail.rfind(b"]") :] if b"]" in tail else b""
    return b'"crs"' in before or b'"crs"' in after


def _implicit_geojson_crs(crs: object, path: str | Path) -> bool:
    """True for a GeoJSON whose WGS84 CRS is only GDAL's RFC 7946 default (no ``crs`` member)."""
    if crs is None or geojson_declares_crs(path) is not False:
        return False
    return CRS.from_user_input(crs).equals(CRS.from_epsg(4326), ignore_axis_order=True)


def _range_text(bounds: np.ndarray) -> str:
    minx, miny, maxx, maxy = (f"{float(b):,.0f}".replace(",", ".") for b in bounds)
    return f"x {minx}–{maxx} m, y {miny}–{maxy} m"


def resolve_crs(gdf: gpd.GeoDataFrame, path: str | Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Return ``gdf`` in EPSG:28992 plus warnings, checking the CRS against the values.

    * no CRS (also: a GeoJSON without a ``crs`` member, which GDAL calls WGS84): inferred from
      the coordinate range (RD or WGS84) and a warning is returned unless it is WGS84 in a
      GeoJSON (the RFC 7946 default);
    * coordinates that contradict the declared CRS (RD metres labelled as degrees, degrees
      labelled as a projected CRS, latitude/longitude swapped) raise InputError naming
      the likely case.
    """
    warnings: list[str] = []
    geoms = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if geoms.empty:
        raise InputError("bevat geen geometrieën (no geometries)", path=path)
    kind = classify_bounds(geoms.total_bounds)
    crs = gdf.crs
    implicit = _implicit_geojson_crs(crs, path)
    if implicit:
        crs = None
    fix_crs = "stel in QGIS het juiste coördinatenstelsel in (Laag > Eigenschappen > Bron) en"
    fix_crs += " exporteer opnieuw"
    if kind in (KIND_SWAPPED, KIND_RD_SWAPPED):
        raise InputError(
            f"de coördinaten lijken verwisseld: {KIND_TEXT[kind]}; ze passen pas in Nederland "
            "als x en y worden omgedraaid",
            path=path,
            fix="schrijf coördinaten als (x, y) = (lengtegraad, breedtegraad) of (RD-x, RD-y)",
        )
    if kind == KIND_UNKNOWN and crs is None:
        raise InputError(
            "geen coördinatenstelsel (no CRS) en de coördinaten vallen niet in Nederland als "
            "RD of WGS84 (bounds " + ", ".join(f"{b:.4g}" for b in geoms.total_bounds) + ")",
            path=path,
            fix="lever het bestand aan met .prj of in EPSG:28992/EPSG:4326",
        )
    if crs is None:
        assumed = RD if kind == KIND_RD else WGS84
        gdf = gdf.set_crs(assumed, allow_override=True)
        what = "GeoJSON zonder 'crs'" if implicit else "geen coördinatenstelsel opgegeven"
        if kind == KIND_RD:
            warnings.append(
                f"{Path(path).name}: {what}; coördinaten in RD (EPSG:28992) herkend aan hun "
                f"bereik ({_range_text(geoms.total_bounds)}) (no CRS; RD New recognised from "
                "the coordinate range)"
            )
        elif not implicit:
            warnings.append(
                f"{Path(path).name}: geen coördinatenstelsel opgegeven; op basis van de waarden "
                f"aangenomen: {KIND_TEXT[kind]} (no CRS; assumed {assumed} from coordinate range)"
            )
    else:
        c = CRS.from_user_input(crs)
        if c.is_geographic and kind == KIND_RD:
            raise InputError(
                f"de coördinaten zijn RD-meters (EPSG:28992) maar het bestand zegt {c.name} "
                "(graden) (RD coordinates labelled as WGS84/geographic)",
                path=path,
                fix=fix_crs + " met EPSG:28992",
            )
        if c.is_projected and kind == KIND_WGS84:
            raise InputError(
                f"de coördinaten zijn WGS84-graden maar het bestand zegt {c.name} "
                "(degrees labelled as a projected CRS)",
                path=path,
                fix=fix_crs + " met EPSG:4326",
            )
    out = gdf.to_crs(RD)
    valid = out.geometry[~(out.geometry.isna() | out.geometry.is_empty)]
    if classify_bounds(valid.total_bounds) != KIND_RD:
        raise InputError(
            "na omrekening naar RD (EPSG:28992) liggen de geometrieën niet (geheel) in "
            "Nederland (outside the Netherlands after reprojection)",
            path=path,
            fix="controleer het coördinatenstelsel en het gebied van het bestand",
        )
    return out, warnings
