"""Where residents live, on the real Delft files: OSM buildings of the TU Delft extract, then
address points, residential land use, path nodes, one inner point. Every reference is computed
here from the raw files (pandas/geopandas), not by the code under test."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.addresses import read_addresses
from geo.boundaries import read_boundaries
from geo.landuse import read_landuse
from geo.network import network_from_extract
from geo.osm import read_osm
from geo.population import read_population_table
from layers.analysis import prepare, run
from layers.datasets import AreaData
from layers.demand import KINDS, MIN_LANDUSE_M2, origins_for_areas, residential_buildings
from layers.neighbourhoods import join_population
from tests.realdata import need

D = "delft/"
TOTALS = {"w65": "inwoners_65plus", "w": "inwoners"}


@pytest.fixture(scope="module")
def delft():
    extract = read_osm(need(D + "tudelft.osm.pbf"))
    net = network_from_extract(extract)
    homes = residential_buildings(extract.buildings, net.crs)
    pop = read_population_table(need(D + "cbs_wijkenbuurten_2023_delft_buurten_population.csv"))
    areas, _ = join_population(read_boundaries(need(D + "delft_buurten_proj.gpkg")), pop)
    return {
        "net": net, "homes": homes, "areas": areas.to_crs(net.crs),
        "addresses": read_addresses(need(D + "Full_Delft_walk_addresses.csv")),
        "landuse": read_landuse(need(D + "delft_landuse_residential.gpkg")),
    }


def _raw_address_counts(areas: gpd.GeoDataFrame) -> pd.Series:
    raw = pd.read_csv(need(D + "Full_Delft_walk_addresses.csv"), index_col=0)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(raw["longitude"], raw["latitude"]),
                           crs=4326).to_crs(areas.crs)
    hit = gpd.sjoin(pts, areas[["code", "geometry"]], predicate="within")
    return hit.groupby("code").size()


def _check_conserved(origins: pd.DataFrame, areas: gpd.GeoDataFrame) -> None:
    for out_col, src in TOTALS.items():
        got = origins.groupby("area")[out_col].sum(min_count=1)
        ref = areas.set_index("code")[src]
        assert got.index.is_unique and set(got.index) == set(ref.index)  # every buurt has people
        np.testing.assert_allclose(got.reindex(ref.index), ref, rtol=0, atol=1e-6)


def test_address_counts_track_cbs_households(delft) -> None:
    """With no buildings at all, every buurt spreads over its address points; their count per
    buurt follows CBS households (Pearson r >= 0.95; the data README measured 0.977)."""
    areas = delft["areas"]
    no_homes = delft["homes"].iloc[:0]
    origins, notes = origins_for_areas(areas, no_homes, delft["net"], totals=TOTALS,
                                       addresses=delft["addresses"])
    assert set(origins["kind"]) == {"adres"}
    count = origins.groupby("area")["weight"].sum()
    raw = _raw_address_counts(areas)
    assert count.to_dict() == raw.astype(float).to_dict()
    hh = pd.read_csv(need(D + "cbs_wijkenbuurten_2023_delft_buurten_population.csv"))
    hh = hh.set_index("buurtcode")["aantalHuishoudens"].reindex(count.index)
    assert hh.notna().all()
    r = np.corrcoef(count.to_numpy(), hh.to_numpy(dtype=float))[0, 1]
    assert r >= 0.95, r
    _check_conserved(origins, areas)
    assert len(notes) == 1 and notes[0].startswith(f"{len(areas)} buurten zonder woongebouwen")


@pytest.mark.parametrize("use", [(), ("addresses",), ("landuse",), ("addresses", "landuse")])
def test_each_buurt_uses_the_best_source_and_keeps_its_totals(delft, use) -> None:
    areas, net, homes = delft["areas"], delft["net"], delft["homes"]
    kw = {k: delft[k] for k in use}
    origins, notes = origins_for_areas(areas, homes, net, totals=TOTALS, **kw)
    _check_conserved(origins, areas)
    kinds = origins.groupby("area")["kind"].agg(set)
    assert (kinds.map(len) == 1).all()  # one source per buurt
    kind = kinds.map(lambda s: next(iter(s)))
    # buurten with residential buildings (independent spatial join) use them
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(homes["x"], homes["y"]), crs=net.crs)
    with_homes = set(gpd.sjoin(pts, areas[["code", "geometry"]], predicate="within")["code"])
    assert set(kind[kind == "woongebouw"].index) == with_homes
    rest = kind.drop(index=list(with_homes))
    if "addresses" in use:
        assert set(rest) == {"adres"}  # every Delft buurt has addresses (data README)
    elif "landuse" in use:
        lu = delft["landuse"].to_crs(net.crs).union_all()
        pieces = areas.set_index("code").geometry.intersection(lu).area
        has_landuse = set(pieces[pieces >= MIN_LANDUSE_M2].index)
        assert set(rest[rest == "woongebied"].index) == has_landuse - with_homes
        o = origins[origins["kind"] == "woongebied"]
        assert gpd.points_from_xy(o["x"], o["y"]).distance(lu).max() < 1e-6
    else:
        assert set(rest) <= {"netwerkknoop", "middelpunt"}
    # grouped notes: one line per fallback kind, a count and at most 3 example codes
    detail = notes.detail
    assert list(detail.columns) == ["code", "kind", "text"]
    assert set(detail["code"]) == set(rest.index) and detail["code"].is_unique
    assert (detail.set_index("code")["kind"] == rest.reindex(detail["code"])).all()
    assert len(notes) == rest.nunique()
    for line in notes:
        n, examples = int(line.split()[0]), re.findall(r"BU\d{4}[0-9A-Z]{4}", line)
        assert 1 <= len(examples) <= 3 and n >= len(examples)
    assert set(origins["kind"]) <= set(KINDS)


def test_prepare_with_addresses_and_landuse(tmp_path, all_profiles) -> None:
    """prepare() picks up address points and land use listed on the area, the estimate flag
    reaches prep.areas, and community centres on address points become meeting places."""
    area = AreaData(id="delft", name="Delft", folder=tmp_path, osm=[need(D + "tudelft.osm.pbf")],
                    boundaries=[need(D + "delft_buurten_proj.gpkg")],
                    population=[need(D + "cbs_wijkenbuurten_2023_delft_buurten_population.csv")])
    area.addresses = [need(D + "Full_Delft_walk_addresses.csv")]
    area.landuse = [need(D + "delft_landuse_residential.gpkg")]
    prep = prepare(area)
    assert prep.addresses is not None and prep.landuse is not None
    flag = prep.areas.set_index("code")["inwoners_65plus_geschat"]
    known = prep.areas.set_index("code")["inwoners_65plus"].notna()
    assert flag.dtype == bool and (flag == known).all()  # Delft has only percentages
    assert set(prep.area_notes["kind"]) == {"adres"}
    from_addresses = prep.places[prep.places["bron"].str.contains("adrespunt")]
    assert "buurthuis" in set(from_addresses["categorie"])
    result = run(prep, all_profiles["older"])
    t = result.table.set_index("buurtcode")
    ok = t["inwoners_65plus"].notna() & (t["status"] != "buiten")
    assert (t.loc[ok, "binnen_bereik_65plus"] + t.loc[ok, "buiten_bereik_65plus"]
            == t.loc[ok, "inwoners_65plus"]).all()

