"""What CBS itself says per buurt, for an area without meeting places in its data.

Until OSM places exist for an area (Utrecht today: a core street network, no places), the
dashboard shows the buurt polygons with the CBS figures (residents, 65+ count and share) and
CBS's own distance to the nearest library, labelled as CBS's measure: CBS "Nabijheid
voorzieningen" measures over the road network from every address to the nearest library and
averages per buurt (km, one decimal); it is not a walking distance of this tool. Nothing is
computed here that CBS did not publish, except the 65+ share (65+ / residents).

:func:`spearman_library` compares our per-buurt median walking distance to the nearest library
with CBS's, by rank (Spearman), once an area has both OSM libraries and CBS's figure.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio

from geo import cbs
from geo.boundaries import read_boundaries
from geo.errors import InputError
from geo.population import read_kerncijfers
from layers.datasets import AreaData
from layers.nabijheid import compare_distances, read_cbs_distance
from layers.neighbourhoods import join_population

#: Columns of :func:`cbs_view`, in this order (plus geometry, EPSG:28992).
COLUMNS = ["buurtcode", "buurtnaam", "wijkcode", "inwoners", "inwoners_65plus",
           "aandeel_65plus", "cbs_afstand_bibliotheek_km"]
#: The library distance as the CBS Wijk- en Buurtkaart (PDOK) names it, and as the English
#: relabelling of the same field in some republished tables (Amsterdam's data.parquet).
PDOK_LIBRARY_FIELDS = ("bibliotheekGemiddeldeAfstandInKm", "library_avg_distance_in_km")


def _best_boundaries(area: AreaData, codes: set[str]) -> gpd.GeoDataFrame:
    """The area's buurt boundary file that best matches the CBS table's buurtcodes (files
    without buurtcodes, e.g. a gemeente outline, are passed over)."""
    best, best_n, errors = None, -1, []
    for p in area.boundaries:
        try:
            b = read_boundaries(p)
        except InputError as exc:
            errors.append(exc)
            continue
        n = len(codes & set(b["buurtcode"])) if codes else len(b)
        if n > best_n:
            best, best_n = b, n
    if best is None:
        raise errors[0] if errors else InputError(
            "geen buurtgrenzen in de gegevens", path=area.folder,
            fix="zet de CBS Wijk- en Buurtkaart (GeoPackage/GeoJSON met buurtcode) in de map")
    return best


def cbs_library_distance(area: AreaData,
                         boundaries: gpd.GeoDataFrame | None = None) -> tuple[pd.Series, str]:
    """CBS's average road distance from the addresses of each buurt to the nearest library,
    in metres (NaN where CBS publishes none), and a Dutch source line naming file and year.

    From the area's CBS "Nabijheid voorzieningen" table when present, else from the
    ``bibliotheekGemiddeldeAfstandInKm`` field of its CBS Wijk- en Buurtkaart file or of a
    Parquet table beside it (the same CBS measure, published with the boundaries; Amsterdam's
    ``data.parquet`` calls it ``library_avg_distance_in_km``). Empty series and "" when none
    has it."""
    for p in area.nabijheid:
        s = read_cbs_distance(p, "bibliotheek")
        year = cbs.year_in(p.name)
        return s, (f"CBS Nabijheid voorzieningen{f' {year}' if year else ''}, afstand tot "
                   f"bibliotheek over de weg, gemiddeld per buurt ({p.name})")
    paths = [Path(boundaries.attrs["source"])] if boundaries is not None and (
        "source" in boundaries.attrs) else []
    tables = sorted(area.folder.glob("*.parquet")) if area.folder else []
    for p in [*paths, *area.boundaries, *tables]:
        s = _library_field(p)
        if s is not None:
            year = cbs.year_in(p.name) or _year_field(p)
            return s, (f"CBS Wijk- en Buurtkaart{f' {year}' if year else ''}, gemiddelde "
                       f"afstand tot bibliotheek over de weg ({p.name})")
    return pd.Series(dtype=float, name="cbs_afstand_bibliotheek_m"), ""


def _fields(p: Path) -> list[str]:
    try:
        if p.suffix.lower() == ".parquet":
            return list(pq.read_schema(p).names)
        return list(pyogrio.read_info(p)["fields"])
    except Exception:  # not a vector file or table (or not readable): no such field
        return []


def _read_columns(p: Path, columns: list[str]) -> pd.DataFrame:
    if p.suffix.lower() == ".parquet":
        return pd.read_parquet(p, columns=columns)
    return pyogrio.read_dataframe(p, columns=columns, read_geometry=False)


def _library_field(p: Path) -> pd.Series | None:
    fields = _fields(p)
    col = next((f for f in PDOK_LIBRARY_FIELDS if f in fields), None)
    code = next((f for f in ("buurtcode", "code", "statcode") if f in fields), None)
    if col is None or code is None:
        return None
    df = _read_columns(p, [code, col])
    km = cbs.clean_numeric(df[col])
    s = pd.Series(km.to_numpy() * 1000.0, index=df[code].map(cbs.normalize_code),
                  name="cbs_afstand_bibliotheek_m")
    s = s[s.index.str.startswith("BU")]
    return s[~s.index.duplicated()]


def _year_field(p: Path) -> int | None:
    if "jaar" not in _fields(p):
        return None
    years = pd.to_numeric(_read_columns(p, ["jaar"])["jaar"], errors="coerce").dropna()
    return int(years.mode().iloc[0]) if len(years) else None


def cbs_view(area: AreaData) -> gpd.GeoDataFrame:
    """The area's buurten with CBS's figures, EPSG:28992, columns :data:`COLUMNS`.

    ``inwoners``/``inwoners_65plus`` from the CBS kerncijfers table (else from the boundary
    file), ``aandeel_65plus`` = 65+ / residents (NaN where either is unknown or there are no
    residents), ``cbs_afstand_bibliotheek_km`` as CBS publishes it (NaN: not published).
    ``attrs["bronnen"]`` lists the sources (Dutch, with year), ``attrs["notes"]`` what did not
    match. Only the table's gemeente is kept when a table is present. Raises InputError when
    the area has no readable buurt boundaries."""
    pop = read_kerncijfers(area.population[0]) if area.population else None
    codes = set(pop.loc[pop["niveau"] == "Buurt", "code"]) if pop is not None else set()
    b = _best_boundaries(area, codes)
    joined, notes = join_population(b, pop)
    out = joined.rename(columns={"code": "buurtcode", "naam": "buurtnaam"})
    inw = out["inwoners"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["aandeel_65plus"] = np.where(inw > 0, out["inwoners_65plus"] / inw, np.nan)
    lib, lib_source = cbs_library_distance(area, b)
    out["cbs_afstand_bibliotheek_km"] = (out["buurtcode"].map(lib) / 1000.0).astype(float)
    bronnen = [f"Buurtgrenzen: {Path(b.attrs.get('source', '')).name}"]
    if pop is not None:
        years = pop["jaar"].dropna()
        year = f" {int(years.iloc[0])}" if len(years) else ""
        bronnen.append(f"Inwoners en 65-plussers: CBS Kerncijfers wijken en buurten{year} "
                       f"({area.population[0].name})")
    if lib_source:
        bronnen.append(lib_source)
        missing = int(out["cbs_afstand_bibliotheek_km"].isna().sum())
        if missing:
            notes.append(f"{missing} buurten zonder afstand tot bibliotheek bij CBS (niet "
                         "gepubliceerd): getoond als onbekend.")
    out = gpd.GeoDataFrame(out[[*COLUMNS, "geometry"]], geometry="geometry", crs=joined.crs)
    out.attrs.update(bronnen=bronnen, notes=[*b.attrs.get("warnings", []), *notes],
                     bibliotheek_bron=lib_source)
    return out


def spearman_library(result, nabijheid: pd.Series | str | Path) -> tuple[float, int]:
    """Spearman's rank correlation between our median walking distance to the nearest library
    per buurt and CBS's library distance, and the number of buurten compared.

    ``result``: a :class:`layers.analysis.Result` run with ``categories=["bibliotheek"]`` (or a
    Series of our metres by buurtcode). ``nabijheid``: CBS's metres by buurtcode (see
    :func:`cbs_library_distance`) or the path of a CBS Nabijheid table. Buurten without a
    distance on either side (unreachable, not published, ``buiten`` the data) are left out;
    rho is NaN with fewer than 3 buurten."""
    if isinstance(result, pd.Series):
        ours = result
    else:
        cats = result.choices.categories if result.choices is not None else None
        if cats is None or set(cats) != {"bibliotheek"}:
            raise InputError("de vergelijking met CBS vraagt afstanden tot bibliotheken alleen",
                             fix="reken met categories=['bibliotheek']")
        t = result.table
        if "status" in t:
            t = t[t["status"] != "buiten"]
        ours = t.set_index("buurtcode")["mediaan_afstand_m"].astype(float)
    theirs = nabijheid if isinstance(nabijheid, pd.Series) else read_cbs_distance(
        nabijheid, "bibliotheek")
    out = compare_distances(ours, theirs)
    return out["spearman"], int(out["n"])
