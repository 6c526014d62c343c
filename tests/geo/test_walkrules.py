"""Each walking rule of data/profiles.toml checked on a real way of a real extract.

The way ids are facts of the files (looked up once); every test first checks, by reading the
file itself with pyosmium, that the way still carries the tags the rule is about, so a
different extract fails loudly instead of passing for the wrong reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely

from geo.network import build_network, network_from_extract
from geo.osm import read_osm
from geo.profiles import default_rules, edge_mask, load_profiles, rules_report
from geo.routing import SegmentIndex, snap_targets
from geo.walkrules import SIDEPATH_FOOTWAY_M, SIDEPATH_ROAD_M, edge_rules, markdown_table
from tests.realdata import need as _real

README = Path(__file__).resolve().parents[2] / "README.md"


def _tags(path: Path, ids: set[int]) -> dict[int, dict[str, str]]:
    out = {}
    for w in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if w.id in ids:
            out[w.id] = dict(w.tags)
    return out


@pytest.fixture(scope="module")
def delft():
    p = _real("delft/tudelft.osm.pbf")
    return p, network_from_extract(read_osm(p, feature_keys=(), buildings=False))


@pytest.fixture(scope="module")
def profiles():
    return load_profiles()[0]


def _edges_of(net, osm_id: int) -> np.ndarray:
    rows = np.nonzero(net.ways["osm_id"].to_numpy() == osm_id)[0]
    return np.nonzero(np.isin(net.edge_way, rows))[0]


def _allowed(net, profile) -> np.ndarray:
    m = edge_mask(net, profile)
    return np.ones(net.n_edges, dtype=bool) if m is None else m


NOT_READ = {  # Delft way id: (tag, value) that keeps it out for every profile
    7490118: ("highway", "busway"),  # busbaan
    914250817: ("highway", "construction"),
    402949969: ("highway", "proposed"),
    7467259: ("highway", "motorway"),
    41728333: ("highway", "trunk"),
    124198299: ("access", "no"),  # and no foot tag
    335612727: ("foot", "no"),  # a cycleway
    7538004: ("foot", "use_sidepath"),  # a cycleway
}


def test_closed_ways_are_not_in_the_network(delft):
    path, net = delft
    tags = _tags(path, set(NOT_READ))
    for wid, (k, v) in NOT_READ.items():
        assert tags[wid].get(k) == v, (wid, tags[wid])
        assert len(_edges_of(net, wid)) == 0, wid
    assert "foot" not in tags[124198299]
    assert tags[335612727]["highway"] == tags[7538004]["highway"] == "cycleway"


def test_foot_yes_opens_a_closed_way_and_a_cycleway(delft, profiles):
    path, net = delft
    tags = _tags(path, {7524034, 7539180})
    assert tags[7524034]["access"] == "no" and tags[7524034]["foot"] == "yes"
    assert tags[7539180]["highway"] == "cycleway" and tags[7539180]["foot"] == "yes"
    for p in profiles.values():
        ok = _allowed(net, p)
        for wid in (7524034, 7539180):
            e = _edges_of(net, wid)
            assert len(e) and ok[e].all(), (p.id, wid)


def test_cycleway_with_a_footway_alongside_is_not_walked(delft, profiles):
    path, net = delft
    assert _tags(path, {49298208})[49298208]["highway"] == "cycleway"
    e = _edges_of(net, 49298208)
    assert len(e) and not _allowed(net, profiles["older"])[e].any()
    # independently: beside the middle of every segment runs a footway/pedestrian way, or a
    # road tagged with a sidewalk (distances from the way geometries, not the segment test)
    ways = net.ways
    foot = ways["highway"].isin(["footway", "pedestrian"])
    road = ways["sidewalk"].isin(["both", "left", "right", "yes", "separate"])
    lines = {k: shapely.union_all([_line(net, _edges_of(net, int(w)))
                                   for w in ways["osm_id"][sel]])
             for k, sel in (("foot", foot), ("road", road))}
    for i in e:
        mid = shapely.Point((net.x[net.edge_u[i]] + net.x[net.edge_v[i]]) / 2,
                            (net.y[net.edge_u[i]] + net.y[net.edge_v[i]]) / 2)
        assert (lines["foot"].distance(mid) <= SIDEPATH_FOOTWAY_M
                or lines["road"].distance(mid) <= SIDEPATH_ROAD_M)


def test_plain_cycleway_without_a_sidepath_is_walked_but_not_moped_paths_by_rollator(
        delft, profiles):
    path, net = delft
    tags = _tags(path, {7530089, 7536935})
    assert tags[7530089]["highway"] == "cycleway" and "foot" not in tags[7530089]
    assert tags[7536935]["moped"] == "designated" and "foot" not in tags[7536935]
    older = _allowed(net, profiles["older"])
    for wid in (7530089, 7536935):
        e = _edges_of(net, wid)
        assert len(e) and older[e].all(), wid
    for pid in ("rollator", "wheelchair"):
        assert not _allowed(net, profiles[pid])[_edges_of(net, 7536935)].any()
    # the sensitivity counts these as cycleway segments
    er = edge_rules(net, profiles["older"].walk_rules)
    assert er.cycleway[_edges_of(net, 7530089)].all()


def _line(net, e):
    if len(e) == 0:
        return None
    return shapely.MultiLineString([[(net.x[net.edge_u[i]], net.y[net.edge_u[i]]),
                                     (net.x[net.edge_v[i]], net.y[net.edge_v[i]])] for i in e])


def test_square_is_crossed_not_only_walked_round(delft):
    """Delft way 868899264 is a pedestrian area joined to the network: segments across it."""
    path, net = delft
    t = _tags(path, {868899264})[868899264]
    assert t["highway"] == "pedestrian" and t["area"] == "yes"
    e = _edges_of(net, 868899264)
    outline = len(osmium_nodes(path, 868899264)) - 1
    assert len(e) > outline  # crossing segments beside the outline
    g = net.to_networkx()
    poly = shapely.Polygon(np.c_[net.x[net.edge_u[e[:outline]]], net.y[net.edge_u[e[:outline]]]])
    # every crossing lies inside the square
    for i in e[outline:]:
        seg = shapely.LineString([(net.x[net.edge_u[i]], net.y[net.edge_u[i]]),
                                  (net.x[net.edge_v[i]], net.y[net.edge_v[i]])])
        assert poly.buffer(0.1).covers(seg)
    # and some trip across it is shorter than any walk round its edge
    import networkx as nx

    sub = g.edge_subgraph([(int(net.edge_u[i]), int(net.edge_v[i])) for i in e[:outline]])
    a, b = int(net.edge_u[e[outline]]), int(net.edge_v[e[outline]])
    assert nx.shortest_path_length(g, a, b, weight="length") < nx.shortest_path_length(
        sub, a, b, weight="length") - 1.0


def osmium_nodes(path: Path, way_id: int) -> list[int]:
    for w in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if w.id == way_id:
            return [n.ref for n in w.nodes]
    raise AssertionError(way_id)


def test_square_outline_that_joins_nothing_is_no_snap_target(delft, profiles):
    """Delft way 724759521: a pedestrian area sharing no node with any other way. A point 8 m
    from it snaps onto the connected network instead (or stays put when nothing is near)."""
    path, net = delft
    t = _tags(path, {724759521})[724759521]
    assert t["highway"] == "pedestrian" and t["area"] == "yes"
    e = _edges_of(net, 724759521)
    nodes = np.unique(np.r_[net.edge_u[e], net.edge_v[e]])
    others = np.setdiff1d(np.arange(net.n_edges), e)
    assert not np.isin(np.r_[net.edge_u[others], net.edge_v[others]], nodes).any()
    mask = edge_mask(net, profiles["older"])
    targets, _ = snap_targets(net, mask, np.array([], dtype=np.int64))
    assert not targets[e].any()
    # a point 8 m outside the outline, beside its first segment
    i = e[0]
    ax, ay, bx, by = net.x[net.edge_u[i]], net.y[net.edge_u[i]], net.x[net.edge_v[i]], \
        net.y[net.edge_v[i]]
    poly = _line(net, e).convex_hull
    nx_, ny_ = -(by - ay), bx - ax
    n = np.hypot(nx_, ny_)
    mx, my = (ax + bx) / 2, (ay + by) / 2
    px, py = mx + 8 * nx_ / n, my + 8 * ny_ / n
    if poly.contains(shapely.Point(px, py)):
        px, py = mx - 8 * nx_ / n, my - 8 * ny_ / n
    plain = SegmentIndex(net, mask).snap([px], [py], max_dist=250)
    assert plain.edge[0] in e  # the naive snap lands on the lonely outline
    idx = SegmentIndex(net, mask, targets=targets)
    s = idx.snap([px], [py], max_dist=250)
    assert s.ok[0] and s.edge[0] not in e and targets[s.edge[0]]
    assert idx.moved([px], [py], max_dist=250)[0]


def test_amsterdam_busway_out_and_squares_crossed(profiles):
    p = _real("amsterdam/amsterdam.osm.gz")
    net = network_from_extract(read_osm(p, feature_keys=(), buildings=False))
    t = _tags(p, {730294395, 29409113})
    assert t[730294395]["highway"] == "busway"
    assert len(_edges_of(net, 730294395)) == 0
    assert t[29409113].get("area") == "yes" and t[29409113]["highway"] == "pedestrian"
    e = _edges_of(net, 29409113)
    assert len(e) > len(osmium_nodes(p, 29409113)) - 1
    assert _allowed(net, profiles["older"])[e].all()


def test_helsinki_cycleways_follow_their_foot_tag(helsinki_pbf, profiles):
    net = network_from_extract(read_osm(helsinki_pbf, feature_keys=(), buildings=False))
    t = _tags(helsinki_pbf, {4253744, 23259342})
    assert t[4253744]["foot"] == "designated" and t[23259342]["foot"] == "no"
    assert _allowed(net, profiles["older"])[_edges_of(net, 4253744)].all()
    assert len(_edges_of(net, 23259342)) == 0


def test_layer_with_only_highway_falls_back_and_says_so(delft, profiles):
    """A GIS way layer with only ``highway``: the rules still run (tags count as absent), the
    report names the missing tags, and the sidepath test still sees the mapped footways (not
    the roads' sidewalk tags, so more fietspad segments count as walkable, never fewer)."""
    path, net = delft
    ex = read_osm(path, feature_keys=(), buildings=False)
    bare = ex.ways[["osm_id", "node_ids", "lon", "lat", "highway"]]
    net2 = build_network(bare)  # no area tag: squares are not crossed, segments come first
    m = net2.n_edges
    assert np.array_equal(net2.edge_u, net.edge_u[:m])
    rep = rules_report(net2, profiles["rollator"])
    assert {"foot", "access", "moped", "sidewalk"} <= set(rep["missing_tags"])
    full = edge_rules(net, profiles["older"].walk_rules)
    bare_rules = edge_rules(net2, profiles["older"].walk_rules)
    cyc = net2.edge_attr("highway") == "cycleway"
    assert (bare_rules.allowed[cyc] >= full.allowed[:m][cyc]).all()
    assert (~bare_rules.allowed[cyc]).sum() > 50  # footways alongside still close fietspaden


def test_readme_shows_the_rule_table_of_the_file(profiles):
    table = markdown_table({k: p.walk_rules for k, p in profiles.items()}, default_rules())
    assert table in README.read_text(encoding="utf-8")


def test_every_rule_decides_some_real_way(helsinki_pbf, profiles):
    """Each rule of the table is the deciding rule for at least one way of the three extracts,
    except the path-as-fietspad rule: none of them maps a fietspad that way (checked here)."""
    import pandas as pd

    from geo.walkrules import decide, way_decisions

    rows = []
    for path in (_real("delft/tudelft.osm.pbf"), _real("amsterdam/amsterdam.osm.gz"),
                 helsinki_pbf):
        for w in osmium.FileProcessor(str(path), osmium.osm.WAY):
            if "highway" in w.tags:
                rows.append(dict(w.tags))
    ways = pd.DataFrame(rows)
    for pid in ("older", "rollator"):
        rules = profiles[pid].walk_rules
        _, rule_of = way_decisions(rules, ways)
        used = set(rule_of.tolist())
        unused = [r for i, r in enumerate(rules) if i not in used]
        assert [r.label() for r in unused] == ["highway=path, bicycle=designated, foot=(absent)"]
    fietspad_path = {"highway": "path", "bicycle": "designated"}
    assert decide(profiles["older"].walk_rules, fietspad_path) == "no_sidepath"
    assert decide(profiles["older"].walk_rules, {**fietspad_path, "foot": "yes"}) == "yes"
