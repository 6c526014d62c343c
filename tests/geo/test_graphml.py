"""GraphML reader on the real osmnx walk graph of Delft centre, checked against osmnx."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.errors import InputError
from geo.graphml import is_graphml_file, read_graphml
from geo.network import network_from_extract
from geo.osm import CLOSED_ACCESS, NOT_WALKABLE, is_osm_file
from tests.realdata import need

DELFT_WALK = "delft/Delft_center_walk.osm"


@pytest.fixture(scope="module")
def walk():
    return read_graphml(need(DELFT_WALK))


@pytest.fixture(scope="module")
def reference():
    import osmnx as ox

    g = ox.load_graphml(need(DELFT_WALK))
    return g, ox.convert.to_undirected(g)


def test_recognised_by_content_not_by_name():
    p = need(DELFT_WALK)
    assert is_graphml_file(p)
    assert not is_osm_file(p)  # .osm name, GraphML content
    for raw in ("delft/tudelft.osm.pbf", "amsterdam/amsterdam.osm.gz"):
        assert not is_graphml_file(need(raw))
        assert is_osm_file(need(raw))


def test_length_and_nodes_match_osmnx(walk, reference):
    g, und = reference
    assert "foot" not in {k for *_, d in g.edges(data=True) for k in d}
    # the reference: osmnx's undirected graph minus the edges our rules close: access=no and
    # no foot tag to open them again, and highways nobody may walk on (osmnx's walk network
    # keeps highway=busway; the Dutch rule closes it)
    open_ = [(u, v, d) for u, v, d in und.edges(data=True)
             if d.get("access") not in CLOSED_ACCESS]
    merged = [d["highway"] for *_, d in open_ if isinstance(d["highway"], list)]
    assert not any(set(hw) & NOT_WALKABLE for hw in merged)  # else the rule below is unclear
    kept = [(u, v, d) for u, v, d in open_
            if isinstance(d["highway"], list) or d["highway"] not in NOT_WALKABLE]
    assert len(kept) < len(open_)  # the Delft centre walk graph has busways
    ref_len = sum(float(d["length"]) for *_, d in kept)
    net = network_from_extract(walk)
    assert net.edge_len.sum() == pytest.approx(ref_len, rel=0.01)
    ref_nodes = {n for u, v, _ in kept for n in (u, v)}
    ours = set(net.node_osm_id[net.node_osm_id >= 0].tolist())
    assert ours == ref_nodes
    # both directions of a two-way edge became one way
    assert len(walk.ways) == len(kept)
    # the user is told how many were closed for want of a foot tag
    closed = und.number_of_edges() - len(open_)
    assert any(f"{closed} wegstukken met access=no" in n for n in walk.notes)


def test_ways_shape_and_tags(walk):
    w = walk.ways
    for ids, lon, lat in zip(w["node_ids"], w["lon"], w["lat"], strict=True):
        assert ids.dtype == np.int64 and len(ids) == len(lon) == len(lat) >= 2
        assert ids[0] >= 0 and ids[-1] >= 0 and (ids[1:-1] < 0).all()
    # every tag column of the file is kept, not only the profile tags
    assert {"highway", "name", "access", "width", "maxspeed", "oneway"} <= set(w.columns)
    # merged ['footway', 'steps'] edges count as steps
    assert (w["highway"] == "steps").sum() > 0
    merged = w["osmid"].str.startswith("[")
    assert merged.any()


def test_steps_win_in_merged_edges(walk, reference):
    g, _ = reference
    with_steps = {(min(u, v), max(u, v)) for u, v, d in g.edges(data=True)
                  if isinstance(d.get("highway"), list) and "steps" in d["highway"]}
    assert with_steps
    w = walk.ways
    ends = {(min(a[0], a[-1]), max(a[0], a[-1])): hw
            for a, hw in zip(w["node_ids"], w["highway"], strict=True)}
    assert all(ends[e] == "steps" for e in with_steps if e in ends)


def test_extent_is_convex_hull_of_nodes(walk, reference):
    g, _ = reference
    pts = shapely.multipoints(np.array([[d["x"], d["y"]] for _, d in g.nodes(data=True)]))
    assert walk.extent.equals(shapely.convex_hull(pts))
    assert walk.notes and "GraphML" in walk.notes[0]


def test_not_graphml_is_an_input_error(tmp_path):
    bad = tmp_path / "kapot.graphml"
    bad.write_text("<graphml><graph><node id='1'>", encoding="utf-8")
    with pytest.raises(InputError):
        read_graphml(bad)
    other = tmp_path / "x.osm"
    other.write_text("<osm version='0.6'></osm>", encoding="utf-8")
    with pytest.raises(InputError, match="GraphML"):
        read_graphml(other)


@pytest.fixture(scope="module")
def amsterdam_graph(tmp_path_factory):
    """osmnx's unsimplified graph of the real amsterdam.osm.gz (decompressed to a temp file,
    since osmnx reads only .osm/.bz2), with the profile tags kept."""
    import gzip
    import shutil

    import osmnx as ox

    from geo.osm import EDGE_TAGS

    tmp = tmp_path_factory.mktemp("ams")
    xml = tmp / "amsterdam.osm"
    with gzip.open(need("amsterdam/amsterdam.osm.gz"), "rb") as f, open(xml, "wb") as out:
        shutil.copyfileobj(f, out)
    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*before, *EDGE_TAGS]))
    try:
        g = ox.graph_from_xml(xml, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = before
    # osmnx keeps every way of the file (buildings too); the street graph is what matters
    streets = [(u, v, k) for u, v, k, d in g.edges(keys=True, data=True) if "highway" in d]
    return g.edge_subgraph(streets).copy(), tmp


def test_unsimplified_graph_equals_the_osm_file(amsterdam_graph):
    """The graph osmnx builds from an OSM file, saved as GraphML and read back, gives the
    same network as reading the OSM file itself (pyosmium)."""
    import osmnx as ox

    from geo.osm import read_osm

    g, tmp = amsterdam_graph
    ox.save_graphml(g, tmp / "plain.graphml")
    ours = network_from_extract(read_graphml(tmp / "plain.graphml"))
    raw = network_from_extract(read_osm(need("amsterdam/amsterdam.osm.gz"), buildings=False))
    assert ours.n_nodes == raw.n_nodes
    assert set(ours.node_osm_id.tolist()) == set(raw.node_osm_id.tolist())
    assert ours.edge_len.sum() == pytest.approx(raw.edge_len.sum(), rel=1e-6)


def test_projected_simplified_graph(amsterdam_graph):
    """A simplified graph saved in RD New (x/y and geometry in metres) is read back in lon/lat;
    simplification merges ways, so the walk rule sees merged tags: within 1 %."""
    import osmnx as ox

    from geo.osm import read_osm

    g, tmp = amsterdam_graph
    proj = ox.project_graph(ox.simplify_graph(g), to_crs="EPSG:28992")
    ox.save_graphml(proj, tmp / "rd.graphml")
    ext = read_graphml(tmp / "rd.graphml")
    lon = np.concatenate(ext.ways["lon"].to_numpy())
    assert lon.min() > 4.8 and lon.max() < 5.0
    raw = network_from_extract(read_osm(need("amsterdam/amsterdam.osm.gz"), buildings=False))
    assert network_from_extract(ext).edge_len.sum() == pytest.approx(raw.edge_len.sum(),
                                                                      rel=0.01)
