"""Siting suggestions: where k new meeting places would bring the most residents within reach.

Method (maximal covering location, Church & ReVelle 1974, solved greedily):

1. **Candidates** are points: existing public buildings from OSM (:func:`osm_candidates`:
   schools, churches, community buildings, libraries, sports clubs with a canteen), a
   municipality's own list of buildings (:func:`list_candidates`, read with the facility-list
   reader) or any points on the network (:func:`point_candidates`).
2. **Coverage sets.** Candidates are snapped onto the profile's usable segments (its
   :class:`~geo.routing.SegmentIndex`) and enter the network as virtual nodes
   (:func:`geo.routing.source_graph`). One ``csgraph.dijkstra`` call per block of candidates,
   bounded by the profile's limit, gives each candidate's node distances; origins are reached
   through their segment ends exactly as in the analysis (:func:`geo.routing.distances_at`,
   including the walk along a shared segment). Only origins *not yet* within reach of the
   current result count.
3. **Greedy with lazy evaluation (CELF).** Coverage is submodular, so a candidate's gain can only
   shrink as sites are picked: its last computed gain is an upper bound, and a candidate is
   re-evaluated only when it reaches the top of the heap. Each pick is the candidate with the
   largest gain given the earlier picks; gains are non-increasing and the total is at least
   (1 − 1/e) of the best possible k sites.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from geo.errors import InputError
from geo.facilities import read_facility_list
from geo.online import read_bundle
from geo.osm import read_osm
from geo.profiles import Profile
from geo.routing import DistanceField, Snapped, distances_at, source_graph
from layers.analysis import DEMAND_LABEL, MAX_SNAP_M, Prepared, Result, run
from layers.scenario import AddedPlace, Scenario

Progress = Callable[[float, str], None]

CANDIDATE_COLUMNS = ["naam", "soort", "bron", "osm_id", "geometry"]
#: OSM tag -> values that make a public building a candidate site, with the Dutch kind shown.
CANDIDATE_TAGS: dict[str, dict[str, str]] = {
    "amenity": {
        "school": "school", "college": "school", "kindergarten": "school",
        "place_of_worship": "kerk of gebedshuis", "community_centre": "buurthuis",
        "social_centre": "buurthuis", "library": "bibliotheek", "townhall": "gemeentehuis",
        "arts_centre": "cultureel centrum",
    },
    "building": {
        "school": "school", "church": "kerk of gebedshuis", "chapel": "kerk of gebedshuis",
        "mosque": "kerk of gebedshuis", "synagogue": "kerk of gebedshuis",
        "temple": "kerk of gebedshuis", "civic": "openbaar gebouw",
        "public": "openbaar gebouw", "community_centre": "buurthuis",
    },
    "club": {"sport": "sportclub"},
    "leisure": {"sports_hall": "sportclub"},
}
#: A sports centre counts only with a canteen: ``canteen=yes``/``bar=yes``/``cafe=yes``, or an
#: ``amenity`` of a place to sit and drink on the same object.
SPORTS_WITH_CANTEEN = ("sports_centre", "sports_hall", "pitch")
CANTEEN_YES = ("canteen", "bar", "cafe")
CANTEEN_AMENITY = ("bar", "cafe", "canteen", "restaurant", "pub")
#: Candidates per dijkstra block: bounds the dense block to about 80 MB.
BLOCK_CELLS = 10_000_000


def candidate_kind(tags: dict[str, str]) -> str | None:
    """The Dutch kind of public building these OSM tags describe, or None when not a candidate."""
    if tags.get("leisure") in SPORTS_WITH_CANTEEN and (
            any(tags.get(k) == "yes" for k in CANTEEN_YES)
            or tags.get("amenity") in CANTEEN_AMENITY):
        return "sportclub met kantine"
    for key, values in CANDIDATE_TAGS.items():
        kind = values.get(tags.get(key, ""))
        if kind is not None:
            return kind
    return None


def _candidate_frame(names, kinds, source, osm_ids, geoms, crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"naam": list(names), "soort": list(kinds), "bron": source, "osm_id": list(osm_ids)},
        geometry=list(geoms), crs=crs,
    )[CANDIDATE_COLUMNS]


@lru_cache(maxsize=4)
def _osm_candidates_cached(path: str, mtime: float, crs: str) -> gpd.GeoDataFrame:
    p = Path(path)
    if p.is_dir():
        feats = read_bundle(p).features
    else:
        feats = read_osm(p, feature_keys=("amenity", "building", "club", "leisure"),
                         feature_filter=lambda t: candidate_kind(t) is not None,
                         buildings=False).features
    kinds = feats["tags"].map(candidate_kind) if len(feats) else pd.Series(dtype=object)
    f = feats[kinds.notna().to_numpy()].to_crs(crs)
    kinds = kinds[kinds.notna()]
    pts = shapely.point_on_surface(f.geometry.values)
    return _candidate_frame(
        f["tags"].map(lambda t: t.get("name")), kinds, "OpenStreetMap",
        f["osm_type"].str[0] + f["osm_id"].astype(str), pts, crs,
    ).reset_index(drop=True)


def osm_candidates(prep: Prepared) -> gpd.GeoDataFrame:
    """Public buildings in the area's OSM extract as candidate sites (points, network CRS).

    Columns: ``naam`` (OSM name, may be None), ``soort`` (Dutch kind), ``bron``, ``osm_id``.
    Read once per file and cached.
    """
    if prep.net is None or not prep.area.osm:
        raise InputError("geen OSM-extract voor dit gebied: geen kandidaat-gebouwen",
                         fix="voeg een .osm.pbf van het gebied toe")
    p = prep.area.osm[0]
    return _osm_candidates_cached(str(p), p.stat().st_mtime, prep.net.crs).copy()


def list_candidates(path: str | Path, crs: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A municipality's own list of buildings (CSV/XLSX/GeoJSON in the facility-list shape) as
    candidate sites; returns the candidates and the problems of skipped rows (Dutch)."""
    fac, problems = read_facility_list(path)
    f = fac.to_crs(crs)
    kinds = f["categorie_lokaal"].fillna("eigen gebouw")
    return (_candidate_frame(f["naam"], kinds, f["bron"], [None] * len(f), f.geometry.values,
                             crs).reset_index(drop=True),
            [f"{Path(path).name}: {p}" for p in problems])


def point_candidates(x: np.ndarray, y: np.ndarray, crs: str, *,
                     names: list[str] | None = None) -> gpd.GeoDataFrame:
    """Any points (network CRS) as candidate sites, e.g. a point clicked on the map."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    names = names or [f"Punt {i + 1}" for i in range(len(x))]
    return _candidate_frame(names, ["punt op de kaart"] * len(x), "eigen punt", [None] * len(x),
                            shapely.points(x, y), crs)


@dataclass
class SitingResult:
    """The k suggested sites and what each adds.

    ``picks``: one row per suggested site in pick order: ``rang`` (1…k), the candidate's
    columns, ``winst`` (demand newly within reach by this pick, given the earlier ones),
    ``winst_cumulatief``, ``buurtcode`` (area the site lies in, may be None), ``x``/``y`` and
    ``candidate_row`` (row in ``candidates``). ``by_area``: demand newly within reach per
    area code, all picks together. ``total`` = sum of the gains.
    """

    picks: gpd.GeoDataFrame
    gains: list[float]
    total: float
    by_area: pd.Series
    baseline_within: float
    baseline_total: float
    telt: str
    profile: Profile
    candidates: gpd.GeoDataFrame
    coverage: sp.csr_matrix  # candidates x origins, True = newly within reach
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_scenario(self, base: Scenario | None = None, *, picks: int | None = None) -> Scenario:
        """``base`` (default: empty) with the first ``picks`` suggestions (default: all) added
        as hypothetical places, named after the building, for :func:`layers.analysis.run`."""
        scen = base or Scenario()
        for p in self.picks.head(picks if picks is not None else len(self.picks)).itertuples():
            name = p.soort if pd.isna(p.naam) else p.naam
            scen = scen.add(AddedPlace(float(p.x), float(p.y), naam=f"Voorstel {p.rang}: {name}"))
        return scen


def coverage_matrix(prep: Prepared, profile: Profile, candidates: gpd.GeoDataFrame, *,
                    origin_mask: np.ndarray | None = None,
                    progress: Progress | None = None) -> tuple[sp.csr_matrix, Snapped]:
    """Boolean sparse matrix (candidates × origins): origin within the profile's limit of the
    candidate over the network. ``origin_mask`` restricts the origins considered.
    Also returns the candidates' snaps (``edge == -1``: farther than the snap limit from a path).
    """
    net = prep.net
    assert net is not None and prep.origins is not None
    state = prep.routing_state(profile)
    limit = profile.max_distance_m
    pts = candidates.geometry.values
    cand = state["index"].snap(shapely.get_x(pts), shapely.get_y(pts), max_dist=MAX_SNAP_M)
    origins: Snapped = state["origins"]
    n, k, n_o = net.n_nodes, len(candidates), len(origins)
    use = origins.ok if origin_mask is None else origins.ok & origin_mask
    o_idx = np.nonzero(use)[0]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    ok = np.nonzero(cand.ok)[0]
    if len(ok) and len(o_idx):
        g, virt = source_graph(net, cand, adjacency=state["adjacency"])
        o = origins.subset(o_idx)
        # origins touching each node / each segment, to evaluate only origins a candidate reaches
        j = np.arange(len(o_idx))
        node_o = sp.csr_matrix((np.ones(2 * len(j), dtype=bool),
                                (np.r_[net.edge_u[o.edge], net.edge_v[o.edge]], np.r_[j, j])),
                               shape=(n, len(j)))
        edge_o = sp.csr_matrix((np.ones(len(j), dtype=bool), (o.edge, j)),
                               shape=(net.n_edges, len(j)))
        block = max(1, BLOCK_CELLS // (n + k))
        zero_src = np.zeros(n, dtype=np.int64)
        for b0 in range(0, len(ok), block):
            idx = ok[b0:b0 + block]
            d = csgraph.dijkstra(g, directed=True, indices=virt[idx], limit=limit)
            for row, c in zip(d, idx, strict=True):
                reached = np.nonzero(np.isfinite(row[:n]))[0]
                near = np.union1d(node_o[reached].indices, edge_o[cand.edge[c]].indices)
                if not len(near):
                    continue
                fld = DistanceField(row[:n], zero_src, cand.subset(np.array([c])))
                dist, _ = distances_at(net, fld, o.subset(near))
                hit = near[dist <= limit]
                rows.append(np.full(len(hit), c))
                cols.append(o_idx[hit])
            if progress is not None:
                progress(min(1.0, (b0 + block) / len(ok)), "Bereik per kandidaat berekenen")
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c_ = np.concatenate(cols) if cols else np.empty(0, np.int64)
    cov = sp.csr_matrix((np.ones(len(r), dtype=bool), (r, c_)), shape=(k, n_o))
    return cov, cand


def greedy_max_coverage(cover: sp.csr_matrix, weights: np.ndarray,
                        k: int) -> tuple[list[int], list[float]]:
    """Lazy greedy (CELF) maximum coverage: up to ``k`` rows of ``cover`` (bool, sets × items)
    maximising the covered weight. Returns the chosen rows and each one's marginal gain
    (non-increasing). Stops early when no row adds anything. Ties go to the lower row."""
    cover = sp.csr_matrix(cover)
    w = np.asarray(weights, dtype=np.float64)
    covered = np.zeros(cover.shape[1], dtype=bool)

    def gain(i: int) -> float:
        items = cover.indices[cover.indptr[i]:cover.indptr[i + 1]]
        return float(w[items[~covered[items]]].sum())

    heap = [(-gain(i), i, 0) for i in range(cover.shape[0])]
    heapq.heapify(heap)
    picks: list[int] = []
    gains: list[float] = []
    while heap and len(picks) < k:
        neg, i, stamp = heapq.heappop(heap)
        if stamp == len(picks):  # fresh: computed after the last pick, so it is the best
            if -neg <= 0:
                break
            picks.append(i)
            gains.append(-neg)
            covered[cover.indices[cover.indptr[i]:cover.indptr[i + 1]]] = True
        else:
            heapq.heappush(heap, (-gain(i), i, len(picks)))
    return picks, gains


def suggest(prep: Prepared, profile: Profile, k: int, *,
            candidates: gpd.GeoDataFrame | None = None, result: Result | None = None,
            progress: Progress | None = None) -> SitingResult:
    """The ``k`` candidate sites (default: OSM public buildings) that bring the most demand not
    yet within reach of ``result`` (default: all places, ``run(prep, profile)``) within reach.

    Demand is the area's unit (65+ residents, residents or residential buildings; see
    ``Prepared.demand``). ``k`` must be 1…50.
    """
    if not 1 <= int(k) <= 50:
        raise InputError(f"aantal nieuwe plekken {k} valt buiten 1–50", fix="kies k tussen 1 en 10")
    t0 = time.perf_counter()
    if result is None:
        result = run(prep, profile)
    if candidates is None:
        candidates = osm_candidates(prep)
    assert prep.net is not None
    candidates = candidates.to_crs(prep.net.crs).reset_index(drop=True)
    limit = profile.max_distance_m
    w = result.origins[prep.weight_col].to_numpy(dtype=float)
    open_ = ~(result.origins["dist_m"].to_numpy() <= limit)
    cover, snapped = coverage_matrix(prep, profile, candidates, origin_mask=open_,
                                     progress=progress)
    picks, gains = greedy_max_coverage(cover, w, int(k))
    # demand newly within reach per area, all picks together
    newly = np.zeros(cover.shape[1], dtype=bool)
    for i in picks:
        newly[cover.indices[cover.indptr[i]:cover.indptr[i + 1]]] = True
    area = result.origins["area"].to_numpy()
    by_area = pd.Series(w[newly], index=area[newly]).groupby(level=0).sum()
    chosen = candidates.iloc[picks].reset_index(drop=True)
    pts = chosen.geometry.values
    table = result.table
    where = table.sindex.query(pts, predicate="within") if len(pts) else np.empty((2, 0), int)
    code = pd.Series([None] * len(chosen), dtype=object)
    code.iloc[where[0]] = table["buurtcode"].to_numpy()[where[1]]
    chosen.insert(0, "rang", np.arange(1, len(chosen) + 1))
    chosen["winst"] = gains
    chosen["winst_cumulatief"] = np.cumsum(gains) if gains else []
    chosen["buurtcode"] = code.to_numpy()
    chosen["x"] = shapely.get_x(pts)
    chosen["y"] = shapely.get_y(pts)
    chosen["candidate_row"] = picks
    notes = []
    far = int((~snapped.ok).sum())
    if far:
        notes.append(f"{far} van {len(candidates)} kandidaten liggen verder dan "
                     f"{MAX_SNAP_M:.0f} m van een bruikbaar pad en doen niet mee.")
    if len(picks) < k:
        notes.append(f"Slechts {len(picks)} kandidaten voegen iets toe; meer plekken helpen "
                     "met deze kandidaten niet.")
    return SitingResult(
        picks=gpd.GeoDataFrame(chosen, geometry="geometry", crs=candidates.crs),
        gains=gains, total=float(sum(gains)), by_area=by_area,
        baseline_within=float(w[~open_].sum()), baseline_total=float(w.sum()),
        telt=DEMAND_LABEL[prep.demand], profile=profile, candidates=candidates,
        coverage=cover, seconds=time.perf_counter() - t0, notes=notes,
    )
