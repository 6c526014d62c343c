"""Where the data stops, per area: covered share, status (volledig / rand / buiten), the one
gemeente a boundary file is analysed for, and the headline's statement of what part of the
gemeente the figures cover. The raster behind it is :mod:`geo.extent`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage import positions_in
from geo.errors import InputError
from geo.extent import MIN_COVERED_SHARE, Extent, extent_of
from geo.network import WalkNetwork
from layers.fmt import fmt_int

if TYPE_CHECKING:
    from layers.analysis import Prepared

#: Extent status of an area (see README, "Dekking van de gegevens"): its figures are complete,
#: a lower bound near the edge of the data, or absent because the data does not cover it.
STATUS_FULL, STATUS_EDGE, STATUS_OUT = "volledig", "rand", "buiten"
STATUS_LABEL = {
    STATUS_FULL: "volledig in de gegevens",
    STATUS_EDGE: "aan de rand van de gegevens (bereik is een ondergrens)",
    STATUS_OUT: "geen loopnetwerk in de gegevens",
}


def network_extent(net: WalkNetwork, polygon: shapely.Geometry | None) -> Extent:
    """The covered land of a network (all its segments), cut to the file's own polygon."""
    xs = np.c_[net.x[net.edge_u], net.x[net.edge_v]]
    ys = np.c_[net.y[net.edge_u], net.y[net.edge_v]]
    return extent_of(xs, ys, crs=net.crs, polygon_lonlat=polygon)


def pick_gemeente(buurten: gpd.GeoDataFrame, *, named: str | None = None,
                  population: pd.DataFrame | None = None) -> tuple[str | None, list[str]]:
    """The gemeente a boundary file with several gemeenten is analysed for: the one named, else
    the one of the CBS table, else the one with most buurten (by code). Returns the
    gemeentecode (None when the file holds one or none) and a Dutch note on the others."""
    codes = buurten["gemeentecode"].dropna()
    counts = codes.value_counts()
    if len(counts) <= 1:
        return (str(counts.index[0]) if len(counts) else None), []
    gm = None
    if named:
        gm = named if named in counts.index else None
    if gm is None and population is not None:
        in_table = [c for c in counts.index if c in set(population["gemeentecode"].dropna())]
        gm = in_table[0] if len(in_table) == 1 else None
    if gm is None:
        gm = str(counts.index[0])
    others = counts.drop(gm)
    code_col = "buurtcode" if "buurtcode" in buurten else "code"
    elsewhere = buurten["gemeentecode"].notna() & (buurten["gemeentecode"] != gm)
    left = (sorted(map(str, buurten.loc[elsewhere, code_col].dropna()))
            if code_col in buurten else [])
    named_codes = f": {', '.join(left[:8])}" + (" …" if len(left) > 8 else "") if left else ""
    note = (f"{int(others.sum())} buurtgrenzen liggen in een andere gemeente dan {gm} "
            f"({', '.join(map(str, others.index[:6]))}) en zijn weggelaten{named_codes}; "
            f"alleen de {int(counts[gm])} buurten van {gm} tellen mee. Paden en "
            "ontmoetingsplekken over de gemeentegrens tellen wel mee.")
    return gm, [note]


def add_extent_columns(prep: Prepared) -> None:
    """``dekking`` (covered share) per area and ``rand_m`` (distance to the edge of the data)
    per origin, from ``prep.extent``."""
    assert prep.areas is not None and prep.origins is not None
    if prep.extent is None:
        prep.areas["dekking"] = 1.0
        prep.origins["rand_m"] = np.inf
        return
    prep.areas["dekking"] = prep.extent.covered_share(prep.areas.geometry.values)
    prep.origins["rand_m"] = prep.extent.edge_distance(prep.origins["x"].to_numpy(),
                                                       prep.origins["y"].to_numpy())
    out = prep.areas["dekking"] < MIN_COVERED_SHARE
    if out.any():
        what = "buurten" if prep.area_kind == "buurt" else "gebieden"
        prep.notes.append(
            f"{int(out.sum())} van {len(out)} {what} liggen (grotendeels) buiten het "
            f"loopnetwerk in de gegevens ({prep.extent.how}): geen afstanden en geen "
            "cijfers binnen/buiten bereik voor die buurten.")


def without_uncovered(prep: Prepared, status: np.ndarray, **columns: np.ndarray) -> pd.DataFrame:
    """``prep.origins`` with ``columns`` (``dist_m``, ``tijd_min``, ``place_row``) added, where
    origins in areas the data does not cover keep no weight and no distance, so nothing
    downstream (totals, places' reach, gap areas, suggestions, medians) counts them."""
    assert prep.areas is not None and prep.origins is not None
    origins = prep.origins
    pos = positions_in(pd.Index(prep.areas["code"]), origins["area"])
    gone = (pos >= 0) & (np.r_[status, None][pos] == STATUS_OUT)
    if gone.any():
        columns |= {col: np.where(gone, 0.0, origins[col].to_numpy(dtype=float))
                    for col in ("w_demand", "w_homes") if col in origins}
        columns |= {col: np.where(gone, np.nan, np.asarray(columns[col], dtype=float))
                    for col in ("dist_m", "tijd_min") if col in columns}
        if "place_row" in columns:
            columns["place_row"] = np.where(gone, -1, columns["place_row"])
    return origins.assign(**columns)


def refuse_if_elsewhere(prep: Prepared, extract) -> None:
    """InputError when the network data covers none of the buurten: a file of another region,
    not a partial one (a partial extract is analysed for the buurten it covers)."""
    assert prep.areas is not None
    if len(prep.areas) and not (prep.areas["dekking"] > 0).any():
        b = prep.areas.to_crs(4326).total_bounds
        lon0, lat0, lon1, lat1 = extract.bounds or (np.nan,) * 4
        raise InputError(
            "het loopnetwerk en de buurtgrenzen liggen niet op dezelfde plek (no overlap): "
            f"netwerk op lengte {lon0:.3f}–{lon1:.3f}, breedte {lat0:.3f}–{lat1:.3f}; buurten "
            f"op lengte {b[0]:.3f}–{b[2]:.3f}, breedte {b[1]:.3f}–{b[3]:.3f}",
            path=getattr(extract, "path", None),
            fix="gebruik een OSM-uitsnede en buurtgrenzen van dezelfde gemeente")


def area_status(prep: Prepared, origins: pd.DataFrame, limit_m: float) -> np.ndarray:
    """Extent status per area (aligned with ``prep.areas``): ``buiten`` when less than
    :data:`geo.extent.MIN_COVERED_SHARE` of it is covered; ``rand`` when a home in it lies
    closer than ``limit_m`` to the edge of the data (a place just outside might be nearer);
    else ``volledig``."""
    assert prep.areas is not None
    pos = positions_in(pd.Index(prep.areas["code"]), origins["area"])
    weight = origins[prep.weight_col].to_numpy(dtype=float)
    near = (origins["rand_m"].to_numpy(dtype=float) < limit_m) & (weight > 0) & (pos >= 0)
    on_edge = np.bincount(pos[near], minlength=len(prep.areas)) > 0
    status = np.where(on_edge, STATUS_EDGE, STATUS_FULL).astype(object)
    status[prep.areas["dekking"].to_numpy(dtype=float) < MIN_COVERED_SHARE] = STATUS_OUT
    return status


def coverage_headline(prep: Prepared, table: gpd.GeoDataFrame, counted: float, *,
                      label: str) -> dict:
    """How much of the gemeente the figures cover: areas per status, and the counted group in
    the covered areas against the whole gemeente (as one Dutch phrase); ``label`` names the
    counted group."""
    status = table["status"].to_numpy()
    n_out = int((status == STATUS_OUT).sum())
    n_edge = int((status == STATUS_EDGE).sum())
    n = len(table)
    if prep.demand == "woongebouwen":
        whole = float(table["woongebouwen"].sum()) if "woongebouwen" in table else counted
    else:
        whole = float(np.nansum(table[prep.demand].to_numpy(dtype=float)))
    what = "buurten" if prep.area_kind == "buurt" else "zeshoeken"
    phrase = (f"{fmt_int(n - n_out)} van {fmt_int(n)} {what}, {fmt_int(counted)} van "
              f"{fmt_int(whole)} {label}")
    return {"gebieden_geteld": n - n_out, "gebieden_rand": n_edge, "gebieden_buiten": n_out,
            "totaal_gebied": whole, "dekking": phrase}
