"""Address points and residential land use, on the real Delft files; counts are checked against
plain pandas/geopandas reads of the raw files and the figures in the data README."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo.addresses import address_amenities, is_address_file, read_addresses
from geo.errors import InputError
from geo.facilities import read_facility_list
from geo.landuse import is_landuse_layer, read_landuse
from geo.population import is_population_table
from layers.places import places_from_osm
from layers.taxonomy import load_taxonomy
from tests.conftest import find_files
from tests.realdata import need

ADDRESSES = "delft/Full_Delft_walk_addresses.csv"
BUILDINGS = "delft/Full_Delft_walk_building_addresses.csv"
LANDUSE = "delft/delft_landuse_residential.gpkg"


@pytest.fixture(scope="module")
def delft() -> gpd.GeoDataFrame:
    """Gemeente Delft as the union of its CBS 2023 buurten (raw gpkg, GM0503 rows)."""
    raw = gpd.read_file(need("delft/delft_buurten_proj.gpkg"))
    return raw[raw["gemeentecode"] == "GM0503"][["buurtcode", "geometry"]].to_crs(4326)


def _inside(points: gpd.GeoDataFrame, delft: gpd.GeoDataFrame) -> pd.Series:
    hit = gpd.sjoin(points, delft, predicate="within", how="inner")
    return pd.Series(points.index.isin(hit.index), index=points.index)


def test_sniff_addresses_but_not_other_tables(shared_data_dir: Path, tmp_path: Path) -> None:
    address_files = {need(ADDRESSES), need(BUILDINGS)}
    for f in find_files(shared_data_dir, ("*.csv", "*.xlsx", "*.parquet", "*.geojson")):
        assert is_address_file(f) == (f in address_files), f
        if f in address_files:
            assert not is_population_table(f)
    # a list of meeting places has a name column: it belongs to geo.facilities, not here
    own = tmp_path / "plekken.csv"
    own.write_text("naam;latitude;longitude\nBuurthuis;52,0116;4,3571\n", encoding="utf-8")
    assert len(read_facility_list(own)[0]) == 1
    assert not is_address_file(own)


def test_address_points_inside_delft(delft: gpd.GeoDataFrame) -> None:
    path = need(ADDRESSES)
    raw = pd.read_csv(path, index_col=0)
    pts = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["longitude"], raw["latitude"]),
                           crs=4326).reset_index(drop=True)
    a = read_addresses(path)
    assert a.crs.to_epsg() == 4326 and list(a.columns) == ["amenity", "weight", "geometry"]
    assert len(a) == len(raw) == 75_913 and (a["weight"] == 1).all()
    assert a.attrs["problems"] == []
    assert int(_inside(a, delft).sum()) == int(_inside(pts, delft).sum()) == 59_511  # README
    assert int(a["amenity"].notna().sum()) == int(raw["amenity"].notna().sum())
    empty = a["amenity"].isna()
    assert a.loc[empty, "amenity"].map(lambda v: v is None).all()  # None, not "" or NaN


def test_building_table_weights_are_address_counts() -> None:
    path = need(BUILDINGS)
    raw = pd.read_csv(path, index_col=0)
    b = read_addresses(path)
    assert len(b) == len(raw) == 14_205
    assert b["weight"].sum() == raw["addr"].sum() == 75_913
    assert b.attrs["per_building"]
    assert b["amenity"].isna().sum() == (raw["amenity"] == "[]").sum()  # "[]" is no amenity


def test_address_amenities_become_meeting_places(delft: gpd.GeoDataFrame) -> None:
    path = need(ADDRESSES)
    raw = pd.read_csv(path, index_col=0)
    raw = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["longitude"], raw["latitude"]),
                           crs=4326).reset_index(drop=True)
    raw = raw[_inside(raw, delft)]
    a = read_addresses(path)
    feats = address_amenities(a[_inside(a, delft)])
    assert list(feats.columns) == ["osm_type", "osm_id", "tags", "geometry"]
    assert (feats["osm_type"] == "node").all() and feats["osm_id"].isna().all()
    got = feats["tags"].map(lambda t: t["amenity"]).value_counts()
    assert got.to_dict() == raw["amenity"].value_counts().to_dict()
    assert got["community_centre"] == 16 and got["library"] == 3  # README, inside Delft
    tax = load_taxonomy()
    places = places_from_osm(feats, tax, "EPSG:28992")
    expected = {tax.classify({"amenity": k}) for k in got.index} - {None}
    assert {"buurthuis", "bibliotheek"} <= set(places["categorie"]) == expected
    assert places["osm_id"].isna().all()  # no made-up OSM ids


def test_bad_address_files_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "adressen.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="adressen.csv"):
        read_addresses(empty)
    no_coords = tmp_path / "zonder.csv"
    no_coords.write_text("straat,huisnummer\nMarkt,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="latitude"):
        read_addresses(no_coords)
    assert not is_address_file(no_coords)
    messy = tmp_path / "adressen_nl.csv"
    messy.write_text("latitude;longitude;addr\n52,0116;4,3571;2\n52.01;4.35;-99997\n;4.3;1\n"
                     "4.36;52.02;1\n", encoding="utf-8")
    m = read_addresses(messy)  # decimal comma kept, secret count and empty latitude dropped
    assert list(m["weight"]) == [2.0] and m.geometry.iloc[0].y == pytest.approx(52.0116)
    assert len(m.attrs["problems"]) == 2


def test_residential_landuse(shared_data_dir: Path) -> None:
    path = need(LANDUSE)
    raw = gpd.read_file(path)
    lu = read_landuse(path)
    assert lu.crs.to_epsg() == 4326 and len(lu) == (raw["landuse"] == "residential").sum()
    assert set(lu.geom_type) <= {"Polygon", "MultiPolygon"}
    area = lu.to_crs(28992).area.sum()
    assert area == pytest.approx(raw.area.sum(), rel=1e-6)
    assert area / 1e6 == pytest.approx(23.7, abs=0.05)  # README
    assert lu["osm_id"].str.match(r"^[nwr]\d+$").all()
    files = find_files(shared_data_dir, ("*.gpkg", "*.geojson"))
    layers = [f for f in files if is_landuse_layer(f)]
    assert layers == [path]  # not the parks (a few landuse=grass) nor the boundaries
