"""Where benches would help most: demand within walking distance of a meeting place, but not
when no stretch between rests may exceed a frail walker's limit (see :mod:`geo.rest`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.online import read_bundle
from geo.osm import read_osm
from geo.rest import REST_KEYS, is_rest_point, rest_aware_distances
from geo.routing import Snapped
from layers.analysis import DEMAND_LABEL, MAX_SNAP_M, Prepared, Result

#: Rest points farther than this from a usable path are not used (m).
MAX_REST_SNAP_M = 30.0
#: Default "max distance without a rest" for frail walkers (m).
DEFAULT_STRETCH_M = 150.0


@lru_cache(maxsize=4)
def _rests_cached(path: str, mtime: float, crs: str) -> gpd.GeoDataFrame:
    p = Path(path)
    if p.is_dir():
        feats = read_bundle(p).features
        feats = feats[feats["tags"].map(is_rest_point).to_numpy()] if len(feats) else feats
    else:
        feats = read_osm(p, feature_keys=REST_KEYS, feature_filter=is_rest_point,
                         buildings=False).features
    f = feats.to_crs(crs)
    return gpd.GeoDataFrame(
        {"osm_id": (f["osm_type"].str[0] + f["osm_id"].astype(str)).to_numpy()},
        geometry=shapely.point_on_surface(f.geometry.values), crs=crs)


def rest_points(prep: Prepared) -> gpd.GeoDataFrame:
    """Benches, picnic tables and stops with a bench in the area's OSM data (network CRS)."""
    if prep.net is None or not prep.area.osm:
        raise InputError("geen OSM-extract voor dit gebied: geen bankjes bekend",
                         fix="voeg een .osm.pbf van het gebied toe")
    p = prep.area.osm[0]
    return _rests_cached(str(p), p.stat().st_mtime, prep.net.crs).copy()


def _sources(result: Result, state: dict) -> Snapped:
    """Access points of the places the result used (scenario places at their point)."""
    prep = result.prepared
    assert prep._access is not None and prep.places is not None
    rows = result.places["row"].to_numpy() if "row" in result.places else np.arange(
        len(result.places))
    used = np.zeros(len(prep.places), dtype=bool)
    used[rows[rows < len(prep.places)]] = True
    acc: Snapped = state["access"]
    base = acc.subset(np.nonzero(used[prep._access[2]])[0])
    extra = result.places[rows >= len(prep.places)]
    pts = shapely.point_on_surface(extra.geometry.values)
    added = state["index"].snap(shapely.get_x(pts), shapely.get_y(pts), max_dist=MAX_SNAP_M)
    return Snapped.concat([base, added])


def rest_aware(result: Result, max_without_rest_m: float = DEFAULT_STRETCH_M, *,
               rests: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """Per origin of ``result``: the walking distance to the nearest place when no stretch
    between rests is longer than ``max_without_rest_m`` (m; ``inf`` = none within the
    profile's limit)."""
    if not max_without_rest_m > 0:
        raise InputError(f"maximale afstand zonder rust {max_without_rest_m} m is geen "
                         "positieve afstand", fix="kies bijvoorbeeld 150 m")
    prep = result.prepared
    assert prep.net is not None
    state = prep.routing_state(result.profile)
    rests = rest_points(prep) if rests is None else rests.to_crs(prep.net.crs)
    pts = rests.geometry.values
    r = state["index"].snap(shapely.get_x(pts), shapely.get_y(pts), max_dist=MAX_REST_SNAP_M)
    mask = state["index"].edge_ids
    edge_mask = None
    if len(mask) < prep.net.n_edges:
        edge_mask = np.zeros(prep.net.n_edges, dtype=bool)
        edge_mask[mask] = True
    return rest_aware_distances(prep.net, state["origins"], _sources(result, state), r,
                                max_stretch_m=max_without_rest_m, edge_mask=edge_mask,
                                limit=result.profile.max_distance_m)


def bench_gaps(result: Result, max_without_rest_m: float = DEFAULT_STRETCH_M, *,
               rests: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Areas where demand is within walking distance but not within rest-aware distance,
    most such demand first: ``buurtcode``, ``buurtnaam``, ``binnen_bereik``,
    ``binnen_bereik_met_rust``, ``zonder_rust_te_ver`` (the difference; where benches would
    help) and ``telt``. Areas without such demand are left out."""
    prep = result.prepared
    limit = result.profile.max_distance_m
    d_rest = rest_aware(result, max_without_rest_m, rests=rests)
    o = result.origins
    w = o[prep.weight_col].to_numpy(dtype=float)
    within = o["dist_m"].to_numpy() <= limit
    rest_ok = d_rest <= limit
    df = pd.DataFrame({"area": o["area"].to_numpy(), "binnen_bereik": np.where(within, w, 0.0),
                       "binnen_bereik_met_rust": np.where(rest_ok & within, w, 0.0)})
    g = df.groupby("area", sort=False).sum()
    g["zonder_rust_te_ver"] = g["binnen_bereik"] - g["binnen_bereik_met_rust"]
    names = result.table.set_index("buurtcode")["buurtnaam"]
    g = g[g["zonder_rust_te_ver"] > 1e-9].sort_values("zonder_rust_te_ver", ascending=False)
    out = g.reset_index().rename(columns={"area": "buurtcode"})
    out.insert(1, "buurtnaam", out["buurtcode"].map(names))
    out["telt"] = DEMAND_LABEL[prep.demand]
    out["max_zonder_rust_m"] = float(max_without_rest_m)
    return out
