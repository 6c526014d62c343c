"""Feature-layer reader on the real QuickOSM export of Delft's parks."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo.errors import InputError
from geo.features import feature_keys_of, is_feature_layer, is_landuse_layer, read_feature_layer
from geo.osm import read_osm
from tests.realdata import need

PARKS = "delft/delft_parks.gpkg"


@pytest.fixture(scope="module")
def parks():
    return read_feature_layer(need(PARKS))


def test_sniff():
    assert is_feature_layer(need(PARKS))
    landuse = need("delft/delft_landuse_residential.gpkg")
    assert feature_keys_of(landuse) == ["landuse"]
    assert not is_feature_layer(landuse) and is_landuse_layer(landuse)
    for other in ("delft/delft_buurten_proj.gpkg", "delft/delft_osm_roads_proj.gpkg",
                  "utrecht/utrecht_osm_gemeente_boundary_rel419203.geojson",
                  "amsterdam/buurten.geojson"):
        assert not is_feature_layer(need(other)), other


def test_shape_ids_and_tags_against_geopandas(parks):
    ref = gpd.read_file(need(PARKS))
    assert len(parks) == len(ref) == 156
    assert parks.crs == "EPSG:4326"
    letters = ref["full_id"].str[0].map({"w": "way", "r": "relation", "n": "node"})
    assert parks["osm_type"].tolist() == letters.tolist()
    assert parks["osm_id"].tolist() == ref["full_id"].str[1:].astype(int).tolist()
    leisure = parks["tags"].map(lambda t: t.get("leisure"))
    assert (leisure == "park").sum() == (ref["leisure"] == "park").sum() == 152  # README
    assert parks.to_crs(28992).area.sum() == pytest.approx(ref.area.sum(), rel=1e-6)
    # tags: only the non-empty columns, ids and osm_type left out
    assert all("full_id" not in t and "osm_id" not in t for t in parks["tags"])
    named = parks["tags"].map(lambda t: "name" in t).sum()
    assert named == ref["name"].notna().sum()


def test_same_parks_as_the_raw_extract(parks):
    """Parks in both the layer and tudelft.osm.pbf (read by pyosmium) are the same objects."""
    raw = read_osm(need("delft/tudelft.osm.pbf"), feature_keys=("leisure",), buildings=False)
    raw_parks = raw.features[raw.features["tags"].map(lambda t: t.get("leisure") == "park")]
    both = raw_parks.merge(parks, on=["osm_type", "osm_id"], suffixes=("_raw", "_layer"))
    assert len(both) >= 2
    a = gpd.GeoSeries(both["geometry_raw"], crs=4326).to_crs(28992).area.to_numpy()
    b = gpd.GeoSeries(both["geometry_layer"], crs=4326).to_crs(28992).area.to_numpy()
    assert (abs(a / b - 1) < 1e-3).sum() >= 2  # edits between the two dates aside


def test_not_a_feature_layer():
    with pytest.raises(InputError, match="osm_id"):
        read_feature_layer(need("delft/delft_buurten_proj.gpkg"))
