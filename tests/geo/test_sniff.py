"""classify_file on every real file, against kinds taken from ../shared/data/README.md."""

from __future__ import annotations

import pytest

from geo.settings import default_data_dir
from geo.sniff import classifiers, classify_file
from tests.realdata import need

# what the data README says each file is (not what the function answered)
EXPECTED: dict[str, str | None] = {
    "README.md": None,
    # Amsterdam
    "amsterdam/amsterdam.osm.gz": "osm",  # raw OSM XML 0.6, gzip
    "amsterdam/buurten.geojson": "boundaries",  # CBS buurt polygons (PDOK WFS 2023)
    "amsterdam/cbs_columns.json": None,  # column dictionary
    "amsterdam/data.parquet": "population",  # one row per buurt, CBS fields (people readers)
    "amsterdam/cbs_wijkenbuurten_2023_amsterdam_buurten_population.csv": "kerncijfers",
    "amsterdam/osmnx_cache/156de24010d49d8d0867666e6279e16cfe5078fd.json": "overpass-features",
    "amsterdam/osmnx_cache/46b13f83ad74c3e4dc4b59d222d6f500e91137a5.json": "overpass-features",
    "amsterdam/osmnx_cache/419b359cb4476574b3cb66d659f50010ff747e3c.json": "geocode",
    # Delft
    "delft/Delft_center_walk.osm": "graphml",  # GraphML despite the .osm name
    "delft/tudelft.osm.pbf": "osm",
    "delft/delft_osm_roads_proj.gpkg": "way-layer",
    "delft/delft_parks.gpkg": "feature-layer",
    "delft/delft_landuse_residential.gpkg": "landuse-layer",
    "delft/delft_buurten_proj.gpkg": "boundaries",
    "delft/delft_municipality_boundary.gpkg": "boundaries",  # PDOK gemeente outline
    "delft/cbs_wijkenbuurten_2023_delft_buurten_population.csv": "kerncijfers",
    "delft/Full_Delft_walk_addresses.csv": "addresses",  # OSM address points (people readers)
    "delft/Full_Delft_walk_building_addresses.csv": "addresses",
    # Utrecht
    "utrecht/utrecht_osm_bike_drive_2026-07.osm.pbf": "osm",
    "utrecht/cbs_kwb_2023_utrecht.xlsx": "kerncijfers",
    "utrecht/cbs_kwb_2024_utrecht.xlsx": "kerncijfers",
    "utrecht/cbs_kwb_2023_utrecht_buurten.csv": "kerncijfers",
    "utrecht/cbs_kwb_2024_utrecht_buurten.csv": "kerncijfers",
    "utrecht/cbs_nabijheid_voorzieningen_buurt_2023_utrecht.csv": None,  # distances, no residents
    "utrecht/cbs_buurten_2024_utrecht.geojson": "boundaries",
    "utrecht/cbs_buurten_2024_utrecht_wgs84.geojson": "boundaries",
    "utrecht/cbs_wijken_2024_utrecht.geojson": "boundaries",
    "utrecht/cbs_wijken_2024_utrecht_wgs84.geojson": "boundaries",
    "utrecht/cbs_gemeente_2024_utrecht.geojson": "boundaries",
    "utrecht/cbs_gemeente_2024_utrecht_wgs84.geojson": "boundaries",
    "utrecht/JSONUTRECHT.geojson": None,  # TOP10NL built-up area, no codes
    "utrecht/utrecht_osm_gemeente_boundary_rel419203.geojson": None,  # OSM outline, no codes
    "utrecht/utrecht_osm_place_boundaries_2026-01.geojson": None,  # OSM places, not CBS
    "utrecht/osmnx_cache/e629b078e1edee3b31fc2ab1b062996b13db2104.json": "geocode",
    "utrecht/osmnx_cache/90bf1cd26532b1ce89045d401ff0a8a1d2c1eab5.json": "overpass-features",
    **{f"utrecht/osmnx_cache/{h}.json": "overpass-network" for h in (
        "25d4bede3e035bee81f226108e1004a8047de7d6", "11c3672c584e55993ba8f55b6293b1a098a5daac",
        "ec3af170ebfaa8826220ad9c54b847d6dad5485e", "8710a770c7f1943fedb6fdde25faaed048d82f3c",
        "4be10493d663e90f8715917b91ed3c7631565f2a", "918211c9e8e142467d5117e361878ac3b5cb37f4",
        "f426e55161468dde7ab8a5714fcd61f304a8922c")},
}


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_kind_of_each_real_file(relative):
    registered = {kind for kind, _ in classifiers()}
    expected = EXPECTED[relative]
    got = classify_file(need(relative))
    if expected is not None and expected not in registered:
        # a kind another reader adds later (addresses, population): not claimed by any other
        assert got is None, relative
    else:
        assert got == expected, relative


def test_every_file_in_the_tree_is_listed():
    root = need("README.md").parent
    found = {p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and not p.name.startswith(".")}
    assert found <= set(EXPECTED), f"new files, add them from the README: {found - set(EXPECTED)}"


def test_folders_and_missing_files_are_none(tmp_path):
    assert classify_file(default_data_dir()) is None
    assert classify_file(tmp_path / "absent.osm.pbf") is None
    empty = tmp_path / "leeg.json"
    empty.write_bytes(b"")
    assert classify_file(empty) is None


def test_read_network_source_dispatches_by_content():
    from geo.errors import InputError
    from geo.sniff import read_network_source

    walk = read_network_source(need("delft/Delft_center_walk.osm"))  # GraphML named .osm
    assert (walk.ways["node_ids"].map(lambda a: a[0]) >= 0).all()
    roads = read_network_source(need("delft/delft_osm_roads_proj.gpkg"))
    assert (roads.ways["node_ids"].map(lambda a: a.max()) < 0).all()  # synthetic ids
    ams = read_network_source(
        [need("amsterdam/osmnx_cache/156de24010d49d8d0867666e6279e16cfe5078fd.json"),
         need("amsterdam/osmnx_cache/46b13f83ad74c3e4dc4b59d222d6f500e91137a5.json")],
        feature_keys=("amenity", "leisure"))
    assert ams.ways.empty and len(ams.features) > 300
    with pytest.raises(InputError, match="netwerkbestand"):
        read_network_source(need("delft/delft_parks.gpkg"))
