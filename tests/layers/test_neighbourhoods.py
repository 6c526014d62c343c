"""Boundaries joined to the real CBS kerncijfers, and the polygon path end to end on real OSM."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.boundaries import read_boundaries
from geo.osm import read_osm
from geo.population import is_kerncijfers_file, read_kerncijfers, read_population_table
from geo.profiles import load_profiles
from layers.analysis import prepare, run, use_buurten
from layers.datasets import AreaData
from layers.demand import residential_buildings
from layers.neighbourhoods import demand_unit, join_population
from tests.realdata import need


@pytest.fixture(scope="module")
def kerncijfers(shared_data_dir):
    tables = [p for p in sorted(shared_data_dir.rglob("*.xlsx")) if is_kerncijfers_file(p)]
    if not tables:
        pytest.skip("no CBS kerncijfers table in the shared data")
    return read_kerncijfers(tables[-1])


def _boundaries_for(codes, gemeente):
    """The join needs codes only; geometry is irrelevant to it, so none is made up."""
    return gpd.GeoDataFrame({"buurtcode": codes, "buurtnaam": codes, "wijkcode": None,
                             "gemeentecode": gemeente}, geometry=[None] * len(codes),
                            crs="EPSG:28992")


def test_join_keeps_every_buurt_once_and_conserves_65plus(kerncijfers):
    bu = kerncijfers[kerncijfers["niveau"] == "Buurt"]
    gm = bu["gemeentecode"].iloc[0]
    joined, notes = join_population(_boundaries_for(list(bu["code"]), gm), kerncijfers)
    assert joined["code"].is_unique and len(joined) == len(bu)
    assert joined["inwoners_65plus"].sum() == bu["inwoners_65plus"].sum()
    assert not joined["inwoners_65plus_geschat"].any()  # Utrecht's kerncijfers are counts
    assert demand_unit(joined) == "inwoners_65plus"
    assert notes == []


def test_join_reports_what_does_not_match(kerncijfers):
    bu = kerncijfers[kerncijfers["niveau"] == "Buurt"]
    gm = bu["gemeentecode"].iloc[0]
    codes = list(bu["code"])
    dropped, extra = codes[0], f"BU{gm[2:]}9999"
    joined, notes = join_population(_boundaries_for(codes[1:] + [extra], gm), kerncijfers)
    text = " ".join(notes)
    assert dropped in text and "geen grens" in text
    assert extra in text and "geen cijfers" in text
    assert np.isnan(joined.set_index("code").at[extra, "inwoners_65plus"])


def test_buurt_polygons_end_to_end_on_real_osm(helsinki_pbf, tmp_path):
    """Until Dutch buurt polygons arrive, the polygon path runs on real OSM city-block polygons
    of Helsinki (the codes are placeholders; without CBS figures the tool counts buildings)."""
    blocks = read_osm(helsinki_pbf, feature_keys=("place",),
                      feature_filter=lambda t: t.get("place") == "city_block", buildings=False)
    polys = blocks.features[blocks.features.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert len(polys) >= 20
    codes = [f"BU9999{i:04d}" for i in range(len(polys))]
    gdf = gpd.GeoDataFrame({"buurtcode": codes,
                            "buurtnaam": polys["tags"].map(lambda t: t.get("name")).to_numpy(),
                            "wijkcode": None, "gemeentecode": "GM9999"},
                           geometry=polys.geometry.to_numpy(), crs=4326)
    area = AreaData(id="blokken", name="Helsinki blokken", folder=tmp_path, osm=[helsinki_pbf])
    prep = prepare(area)
    use_buurten(prep, gdf)  # geo.boundaries only accepts Dutch coordinates
    assert prep.area_kind == "buurt" and prep.demand == "woongebouwen"
    r = run(prep, load_profiles()[0]["older"])
    t = r.table
    assert sorted(t["buurtcode"]) == sorted(codes)  # every polygon exactly once
    assert (t["binnen_bereik_woongebouwen"] + t["buiten_bereik_woongebouwen"]
            == t["woongebouwen"]).all()
    # buildings per block equal a plain spatial join of the residential buildings
    homes = residential_buildings(read_osm(helsinki_pbf).buildings, prep.net.crs)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(homes["x"], homes["y"]),
                           crs=prep.net.crs)
    hit = gpd.sjoin(pts, prep.areas[["code", "geometry"]], predicate="within")
    hit = hit[~hit.index.duplicated()]
    expected = hit.groupby("code").size()
    got = t.set_index("buurtcode")["woongebouwen"]
    assert (got.reindex(expected.index) == expected).all()
    assert (got.drop(expected.index) == 0).all()  # blocks without homes count none


def test_amsterdam_estimate_flag_reaches_the_buurten():
    """Amsterdam's alphanumeric buurtcodes join one to one, and the 65+ estimated from the CBS
    percentage stays flagged; secret percentages stay unknown (the data README: 67)."""
    b = read_boundaries(need("amsterdam/buurten.geojson"))
    pop = read_population_table(need(
        "amsterdam/cbs_wijkenbuurten_2023_amsterdam_buurten_population.csv"))
    joined, notes = join_population(b, pop)
    assert len(joined) == 519 and joined["code"].is_unique
    assert (joined["wijkcode"] == "WK" + joined["code"].str[2:8]).all()
    assert joined["inwoners"].sum() == 917_890
    unknown = joined["inwoners_65plus"].isna()
    assert int(unknown.sum()) == 67
    flag = joined["inwoners_65plus_geschat"]
    assert flag.dtype == bool and (flag == ~unknown).all()
    assert not any("geen grens" in n or "geen cijfers" in n for n in notes)
