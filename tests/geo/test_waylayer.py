"""Way-layer reader on the real OSM roads of Delft (GeoPackage lines, no node ids)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.errors import InputError
from geo.network import network_from_extract
from geo.osm import is_walkable
from geo.waylayer import is_way_layer, read_way_layer
from tests.realdata import need

ROADS = "delft/delft_osm_roads_proj.gpkg"


@pytest.fixture(scope="module")
def roads():
    return read_way_layer(need(ROADS))


@pytest.fixture(scope="module")
def reference():
    """geopandas' own reading: the walkable features by the same tag rule, in RD New."""
    g = gpd.read_file(need(ROADS))
    tags = g.drop(columns="geometry").to_dict(orient="records")
    keep = [is_walkable({k: v for k, v in t.items() if isinstance(v, str)}) for t in tags]
    return g, g[keep].to_crs(28992)


def test_sniff():
    assert is_way_layer(need(ROADS))
    for other in ("delft/delft_parks.gpkg", "delft/delft_buurten_proj.gpkg",
                  "delft/delft_landuse_residential.gpkg",
                  "utrecht/cbs_buurten_2024_utrecht.geojson",
                  "delft/tudelft.osm.pbf", "delft/Delft_center_walk.osm"):
        assert not is_way_layer(need(other)), other


def test_length_equals_geopandas_in_rd(roads, reference):
    g, walk_rd = reference
    assert len(g) == 9779
    assert g.to_crs(28992).length.sum() / 1000 == pytest.approx(686.7, abs=0.05)  # README
    net = network_from_extract(roads)
    assert net.crs == "EPSG:28992"
    assert net.edge_len.sum() == pytest.approx(walk_rd.length.sum(), rel=1e-5)
    # motorway/trunk dropped by the walk rule, every walkable osm_id kept
    assert set(roads.ways["osm_id"]) == set(walk_rd["osm_id"])
    assert not roads.ways["highway"].isin(["motorway", "trunk"]).any()


def test_multilinestrings_split_into_parts(roads, reference):
    _, walk_rd = reference
    n_parts = int(walk_rd.geometry.count_geometries().sum())
    assert len(roads.ways) == n_parts
    assert roads.skipped["multilinestring_parts"] == n_parts - len(walk_rd)


def test_shared_vertices_join_the_network(roads, reference):
    _, walk_rd = reference
    # independent count of distinct vertices: RD coordinates rounded to the centimetre
    xy = walk_rd.geometry.get_coordinates().to_numpy()
    distinct = len(np.unique(np.round(xy, 2), axis=0))
    net = network_from_extract(roads)
    assert net.n_nodes == pytest.approx(distinct, rel=1e-3)
    on_ways = np.bincount(np.unique(np.concatenate(
        [np.unique(ids) for ids in roads.ways["node_ids"]]), return_counts=True)[1])
    assert on_ways[2:].sum() > 5000  # thousands of vertices shared by two or more ways
    comp = net.components[net.edge_u]
    share = net.edge_len[comp == 0].sum() / net.edge_len.sum()
    assert share > 0.9


def test_tags_and_notes(roads):
    assert {"osm_type", "name", "layer", "source", "highway", "surface", "name:en"} <= set(
        roads.ways.columns)
    note = " ".join(roads.notes)
    for tag in ("foot", "access", "sidewalk"):
        assert tag in note
    assert roads.extent is not None and roads.extent.contains(
        gpd.points_from_xy([4.3580], [52.0116])[0])  # Markt, Delft


def test_profile_tags_apply_in_any_crs(tmp_path, reference):
    g, _ = reference
    footways = g.index[g["highway"] == "footway"][:25]
    g2 = g.assign(foot=None)
    g2.loc[footways, "foot"] = "no"
    p = tmp_path / "wegen_rd.gpkg"
    g2.to_crs(28992).to_file(p, engine="pyogrio")
    ext = read_way_layer(p)
    assert not set(g.loc[footways, "osm_id"]) & set(ext.ways["osm_id"])
    assert "foot" in ext.ways.columns
    assert "de OSM-tags access, footway" in " ".join(ext.notes)  # foot no longer missing


def test_not_a_way_layer():
    with pytest.raises(InputError, match="highway"):
        read_way_layer(need("delft/delft_parks.gpkg"))
