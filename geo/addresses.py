"""Address points as the carrier of residents: where people live when OSM has no homes mapped.

An address table is a CSV with one row per address point (or per building with its number of
addresses) in WGS84 ``latitude``/``longitude`` and no name column (a table with names is a list
of meeting places, read by :mod:`geo.facilities`). Recognised columns (case-insensitive):

* coordinates: ``latitude``/``lat``/``breedtegraad`` and ``longitude``/``lon``/``lng``/
  ``lengtegraad`` (degrees; latitude and longitude swapped for the whole file is repaired);
* ``amenity`` (optional): the OSM amenity of an address-tagged point of interest, or a
  Python-list string (``"['library']"``) in a per-building table; several become ``a;b``;
* ``addr``/``adressen``/``aantal_adressen`` (optional): the number of addresses a row stands
  for (per-building tables); otherwise every row is one address.

Example: the OSM address nodes of Delft (``Full_Delft_walk_addresses.csv``, BAG-import address
points with their ``amenity``) and the same assigned to building centres
(``Full_Delft_walk_building_addresses.csv``, with ``addr``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import cbs, coords
from geo.errors import InputError
from geo.io import require_readable

SUFFIXES = (".csv", ".txt", ".tsv")
COLUMNS = ["amenity", "weight", "geometry"]

_WHAT = "adressenbestand (address points)"
_FIX = "lever een CSV met kolommen latitude en longitude (WGS84, graden), één rij per adres"
_LAT = ("latitude", "lat", "breedtegraad", "breedte")
_LON = ("longitude", "lon", "lng", "long", "lengtegraad", "lengte")
_NAME = ("naam", "name", "locatienaam", "naam_locatie", "titel")  # as geo.facilities
_AMENITY = ("amenity", "voorziening")
_COUNT = ("addr", "adressen", "aantal_adressen", "n_addresses", "addresses", "n_addr")


def _header(p: Path) -> list[str]:
    table = cbs.read_table(p, max_rows=2)
    return [h.lstrip("\ufeff") for h in table.rows[0]] if table.rows else []


def is_address_file(path: str | Path) -> bool:
    """Cheap sniff by header: a CSV with latitude and longitude columns and no name column."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES or not p.is_file():
        return False
    try:
        header = _header(p)
    except (InputError, OSError, ValueError):
        return False
    return (
        cbs.find_column(header, _LAT) is not None
        and cbs.find_column(header, _LON) is not None
        and cbs.find_column(header, _NAME) is None
    )


def _amenity(value: object) -> str | None:
    """``"library"`` -> ``"library"``; ``"['a', 'b']"`` -> ``"a;b"``; empty -> None."""
    text = "" if value is None or value != value else str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            items = [t.strip(" '\"") for t in text[1:-1].split(",")]
        items = [str(i).strip() for i in items if str(i).strip()]
        text = ";".join(dict.fromkeys(items))
    return text or None


def _numbers(values: pd.Series) -> np.ndarray:
    """Floats of a text column: plain numbers vectorised, the rest (decimal commas, CBS
    secrecy markers) through :func:`geo.cbs.clean_numeric`."""
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan).copy()
    slow = np.isnan(out) & values.str.strip().astype(bool).to_numpy()
    if slow.any():
        out[slow] = cbs.clean_numeric(values[slow]).to_numpy()
    out[np.isin(out, list(cbs.SECRECY_NUMBERS))] = np.nan
    return out


def read_addresses(path: str | Path) -> gpd.GeoDataFrame:
    """Address points in EPSG:4326 with ``amenity`` (None when empty) and ``weight`` (1 per
    address, or the row's address count in a per-building table).

    Rows without usable coordinates or outside the Netherlands are left out and counted in
    ``gdf.attrs["problems"]``; ``gdf.attrs["warnings"]`` says when latitude and longitude were
    swapped. Raises InputError for an unreadable or empty file or missing coordinate columns.
    """
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"bestandstype {p.suffix or '(geen)'} wordt niet ondersteund (unsupported type)",
            path=p,
            fix=_FIX,
        )
    p = require_readable(p, what=_WHAT, fix=_FIX)
    head = cbs.read_table(p, max_rows=2)
    if not head.rows or cbs.is_blank_row(head.rows[0]):
        raise InputError("bevat geen kolommen of rijen (empty file)", path=p, fix=_FIX)
    try:
        df = pd.read_csv(p, sep=head.delimiter, dtype=str, keep_default_na=False,
                         encoding=head.encoding or "utf-8-sig")
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"CSV kan niet gelezen worden (CSV error): {exc}", path=p,
                         fix=_FIX) from exc
    df.columns = [str(c).strip() for c in df.columns]
    lat_col, lon_col = cbs.find_column(df.columns, _LAT), cbs.find_column(df.columns, _LON)
    if lat_col is None or lon_col is None:
        raise InputError(
            f"kolommen latitude/longitude ontbreken (missing columns); gevonden kolommen: "
            f"{list(df.columns)[:12]}",
            path=p,
            fix=_FIX,
        )
    if df.empty:
        raise InputError("bevat alleen een kopregel (header only, no rows)", path=p, fix=_FIX)
    lat, lon = _numbers(df[lat_col]), _numbers(df[lon_col])
    warnings: list[str] = []
    kind = coords.classify_xy(lon, lat)
    if (kind == coords.KIND_SWAPPED).sum() > (kind == coords.KIND_WGS84).sum():
        lat, lon = lon, lat
        kind = coords.classify_xy(lon, lat)
        warnings.append(f"{p.name}: breedte- en lengtegraad waren verwisseld en zijn omgedraaid "
                        "(latitude/longitude swapped)")
    ok = kind == coords.KIND_WGS84
    if not ok.any():
        raise InputError(
            "geen enkele rij heeft WGS84-coördinaten in Nederland (no usable coordinates)",
            path=p,
            fix=_FIX,
        )
    count_col = cbs.find_column(df.columns, _COUNT)
    weight = _numbers(df[count_col]) if count_col is not None else np.ones(len(df))
    bad_weight = ~(weight >= 0)  # NaN or negative
    keep = ok & ~bad_weight
    problems = []
    if (~ok).any():
        problems.append(f"{int((~ok).sum())} rij(en) zonder bruikbare coördinaten in Nederland "
                        "weggelaten (rows without usable coordinates dropped)")
    if (ok & bad_weight).any():
        problems.append(f"{int((ok & bad_weight).sum())} rij(en) met een ongeldig aantal "
                        f"adressen in kolom {count_col!r} weggelaten")
    am_col = cbs.find_column(df.columns, _AMENITY)
    amenity = (np.array([_amenity(v) for v in df[am_col]], dtype=object) if am_col is not None
               else np.full(len(df), None, dtype=object))
    out = gpd.GeoDataFrame(
        {"amenity": pd.Series(amenity[keep], dtype=object), "weight": weight[keep]},
        geometry=gpd.points_from_xy(lon[keep], lat[keep]),
        crs=coords.WGS84,
    )
    out.attrs.update(source=str(p), rows_in_file=len(df), warnings=warnings, problems=problems,
                     per_building=count_col is not None)
    return out


def address_amenities(addresses: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Address points with an amenity as OSM-like features (as ``OsmExtract.features``):
    ``osm_type`` "node", ``osm_id`` None (the source kept no ids), ``tags`` ``{"amenity": ...}``
    and the point, in EPSG:4326; a row with several amenities gives one feature each. The
    taxonomy then makes community centres, libraries, ... on address points meeting places."""
    a = addresses[addresses["amenity"].notna()].to_crs(coords.WGS84)
    values = a["amenity"].str.split(";")
    a = a.assign(amenity=values).explode("amenity")
    a = a[a["amenity"].str.strip().astype(bool)]
    return gpd.GeoDataFrame(
        {
            "osm_type": "node",
            "osm_id": pd.Series([None] * len(a), dtype=object),
            "tags": [{"amenity": v.strip()} for v in a["amenity"]],
        },
        geometry=a.geometry.to_numpy(),
        crs=coords.WGS84,
    )
