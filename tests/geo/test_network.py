"""The walk network built from the real Helsinki extract."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from geo.errors import InputError
from geo.network import RD_CRS, metric_crs_for, network_from_extract, network_from_file
from geo.osm import NOT_WALKABLE, is_walkable, read_osm


@pytest.fixture(scope="module")
def extract(helsinki_pbf):
    return read_osm(helsinki_pbf, feature_keys=())


def test_no_unwalkable_ways_and_sane_lengths(extract):
    net = network_from_extract(extract)
    hw = set(net.edge_attr("highway"))
    assert not hw & NOT_WALKABLE
    assert {"footway", "steps", "residential"} <= hw
    # lengths equal the coordinates, all positive, none absurd for one OSM segment
    d = np.hypot(net.x[net.edge_u] - net.x[net.edge_v], net.y[net.edge_u] - net.y[net.edge_v])
    assert np.allclose(d, net.edge_len)
    assert (net.edge_len > 0).all() and net.edge_len.max() < 2000
    assert net.crs == "EPSG:32635"  # UTM 35N for Helsinki


def test_file_and_extract_entry_points_build_the_same_network(helsinki_pbf, extract):
    a = network_from_extract(extract)
    b = network_from_file(helsinki_pbf)
    assert np.array_equal(a.node_osm_id, b.node_osm_id)
    assert np.array_equal(a.edge_u, b.edge_u) and np.allclose(a.edge_len, b.edge_len)


def test_clipped_ways_keep_their_inside_part(extract):
    """The extract is clipped: ways crossing its edge lose only the segments outside."""
    assert extract.skipped["ways_clipped_at_extract_edge"] > 0
    net = network_from_extract(extract)
    assert net.n_nodes > 5000


def test_walkability_rules():
    assert is_walkable({"highway": "footway"})
    assert is_walkable({"highway": "cycleway"})
    assert not is_walkable({"highway": "motorway"})
    assert not is_walkable({"highway": "trunk"})
    assert not is_walkable({"highway": "service", "access": "private"})
    assert is_walkable({"highway": "service", "access": "private", "foot": "yes"})
    assert not is_walkable({"highway": "path", "foot": "no"})


def test_projection_choice():
    assert metric_crs_for((5.0, 52.0, 5.2, 52.2)) == RD_CRS  # Utrecht
    assert metric_crs_for((24.9, 60.1, 25.0, 60.2)) == "EPSG:32635"


def test_missing_and_corrupt_files_name_the_file(tmp_path, helsinki_pbf):
    with pytest.raises(InputError, match="kaart.osm.pbf.*niet gevonden"):
        read_osm(tmp_path / "kaart.osm.pbf")
    broken = tmp_path / "afgebroken.osm.pbf"
    data = helsinki_pbf.read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="afgebroken.osm.pbf.*download"):
        read_osm(broken)
    wrong = tmp_path / "kaart.txt"
    shutil.copy(helsinki_pbf, wrong)
    with pytest.raises(InputError, match="kaart.txt.*\\.osm\\.pbf"):
        read_osm(wrong)
