"""End to end on the real Dutch areas in ../shared/data: every network source prepares, buurten
outside the data get no figures, covered buurten add up to the CBS figures, residents near a
border reach places across it, and two overlapping sources agree.

References are computed here from the raw files with pandas/shapely, not from the code under
test. The expected covered buurten come from the extracts' own stated boxes (the TU Delft cut
``osmium extract -b 4.355,51.995,4.386,52.005`` per the data README, and the ``<bounds>`` of
the Amsterdam file), not from our extent computation.
"""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.export import write_geojson
from geo.profiles import load_profiles
from geo.routing import distances_at, nearest_sources
from layers.analysis import (
    STATUS_EDGE,
    STATUS_FULL,
    STATUS_OUT,
    _base_field,
    _use_mask,
    prepare,
    run,
)
from layers.datasets import discover
from tests.realdata import need

PROFILE = load_profiles()[0]["older"]


@pytest.fixture(scope="module")
def areas() -> dict:
    need("delft/tudelft.osm.pbf")
    need("amsterdam/amsterdam.osm.gz")
    need("utrecht/cbs_buurten_2024_utrecht.geojson")
    return {a.id: a for a in discover(include_demo=False)}


@pytest.fixture(scope="module")
def prepared(areas) -> dict:
    return {aid: prepare(a) for aid, a in areas.items()}


@pytest.fixture(scope="module")
def results(prepared) -> dict:
    return {aid: run(p, PROFILE) for aid, p in prepared.items() if len(p.places)}


def _by_folder(d: dict, folder: str, kind: str):
    def area(v):
        return v.area if hasattr(v, "area") else v.prepared.area

    return next(v for v in d.values()
                if area(v).folder.name == folder and area(v).network_kind == kind)


def test_every_network_source_in_every_folder_prepares(areas, prepared):
    kinds = {(a.folder.name, a.network_kind) for a in areas.values()}
    assert {("delft", "osm"), ("delft", "graphml"), ("delft", "way-layer"),
            ("amsterdam", "osm"), ("utrecht", "osm")} <= kinds
    for aid, prep in prepared.items():
        assert prep.ready, aid
        assert prep.net.n_nodes > 1000, aid


def _buurten_inside(boundaries: gpd.GeoDataFrame, box_lonlat, tol_m: float = 25.0):
    box = gpd.GeoSeries([shapely.box(*box_lonlat)], crs=4326).to_crs(28992).iloc[0]
    b = boundaries.to_crs(28992)
    whole = b.geometry.within(box.buffer(tol_m))
    share = b.geometry.intersection(box).area / b.geometry.area
    return set(b.loc[whole, "buurtcode"]), set(b.loc[share < 0.5, "buurtcode"])


def test_statuses_follow_the_extracts_own_boxes(results):
    """Buurten wholly inside a cut are counted; buurten mostly outside it have no figures."""
    delft = gpd.read_file(need("delft/delft_buurten_proj.gpkg"))
    delft = delft[delft["gemeentecode"] == "GM0503"]
    tu = _by_folder(results, "delft", "osm").table.set_index("buurtcode")
    whole, outside = _buurten_inside(delft, (4.355, 51.995, 4.386, 52.005))
    assert whole and whole <= set(tu.index[tu["status"] != STATUS_OUT])
    assert (tu.loc[sorted(outside), "status"] == STATUS_OUT).all()
    assert tu["status"].value_counts()[STATUS_OUT] >= 80  # a 2.4 km² cut of a 24 km² city

    r = osmium.io.Reader(str(need("amsterdam/amsterdam.osm.gz")))
    bl, tr = r.header().box().bottom_left, r.header().box().top_right
    r.close()
    ams = gpd.read_file(need("amsterdam/buurten.geojson")).rename(columns={"code": "buurtcode"})
    t = _by_folder(results, "amsterdam", "osm").table.set_index("buurtcode")
    whole, outside = _buurten_inside(ams, (bl.lon, bl.lat, tr.lon, tr.lat))
    assert whole == set(t.index[t["status"] != STATUS_OUT])
    assert (t.loc[sorted(outside), "status"] == STATUS_OUT).all()


def test_buurten_outside_the_data_have_no_figures_and_totals_count_covered_ones(results):
    for aid, r in results.items():
        t = r.table
        out = t["status"] == STATUS_OUT
        for col in ("binnen_bereik_65plus", "buiten_bereik_65plus", "aandeel_binnen_bereik",
                    "mediaan_afstand_m"):
            assert t.loc[out, col].isna().all(), (aid, col)
        counted = t[~out & t["inwoners_65plus"].notna()]
        assert (counted["binnen_bereik_65plus"] + counted["buiten_bereik_65plus"]
                == counted["inwoners_65plus"].round()).all(), aid
        h = r.headline
        assert h["totaal"] == pytest.approx(counted["inwoners_65plus"].round().sum()), aid
        assert h["gebieden_buiten"] == int(out.sum())
        assert set(t["status"]) <= {STATUS_FULL, STATUS_EDGE, STATUS_OUT}


def test_covered_buurten_and_the_gemeente_total_match_cbs(results):
    """65+ of the gemeente and of the covered buurten against the CBS file read directly."""
    raw = pd.read_csv(need("delft/cbs_wijkenbuurten_2023_delft_buurten_population.csv"))
    raw = raw[raw["gemeentecode"] == "GM0503"].set_index("buurtcode")
    # whole persons, half up (as the README states for estimates from percentages)
    est = np.floor(raw["aantalInwoners"] * raw["percentagePersonen65JaarEnOuder"] / 100 + 0.5)
    for kind in ("way-layer", "osm", "graphml"):
        r = _by_folder(results, "delft", kind)
        t = r.table.set_index("buurtcode")
        assert set(t.index) == set(raw.index)  # the 14 slivers of other gemeenten left out
        assert r.headline["totaal_gebied"] == pytest.approx(est.sum())
        counted = t.index[t["status"] != STATUS_OUT]
        assert t.loc[counted, "inwoners_65plus"].sum() == pytest.approx(est[counted].sum())
        assert t["inwoners"].sum() == raw["aantalInwoners"].sum()


def test_whole_city_ways_cover_most_of_delft(results):
    r = _by_folder(results, "delft", "way-layer")
    t = r.table
    assert (t["status"] != STATUS_OUT).sum() >= 0.8 * len(t)
    assert r.headline["totaal"] >= 0.9 * r.headline["totaal_gebied"]


def test_a_delft_home_reaches_a_park_across_the_border(prepared):
    """The parks layer holds parks around Delft; homes in Delft buurten next to Rijswijk and
    Den Haag have one of them as their nearest place within reach."""
    prep = _by_folder(prepared, "delft", "way-layer")
    r = run(prep, PROFILE, categories=["park"])
    gm = gpd.read_file(need("delft/delft_municipality_boundary.gpkg")).to_crs(prep.net.crs)
    outside = ~r.places.geometry.representative_point().within(gm.geometry.iloc[0])
    across = set(r.places.loc[outside, "row"])
    o = r.origins
    hit = o[o["place_row"].isin(across) & (o["dist_m"] <= PROFILE.max_distance_m)
            & (o["w_demand"] > 0)]
    assert len(hit) > 0
    assert set(hit["area"]) <= set(prep.areas["code"])  # all of them Delft buurten


def _park_distance(prep, x, y) -> np.ndarray:
    state = prep.routing_state(PROFILE)
    keep, _ = _use_mask(prep, ["park"], None, None)
    field = _base_field(prep, state, keep[prep._access[2]])
    dist, _ = distances_at(prep.net, field, state["index"].snap(x, y, max_dist=250))
    return dist


def test_two_sources_give_nearly_the_same_park_distance(prepared):
    """Homes of the TU Delft raw extract, routed to the parks on that extract and on the whole
    city's way layer. Compared only where the route on the extract is shorter than the home's
    distance to the extract's edge (nothing outside could change it). Tolerance: the two files
    differ in date (2025-08 cut vs a 2026 export) and in tags (the way layer has no foot/access
    tags, so a few private paths count there), which moves single routes by tens of metres; the
    median and the within/beyond answer must agree closely."""
    tu, city = _by_folder(prepared, "delft", "osm"), _by_folder(prepared, "delft", "way-layer")
    x, y = tu.homes["x"].to_numpy(), tu.homes["y"].to_numpy()
    a, b = _park_distance(tu, x, y), _park_distance(city, x, y)
    ok = np.isfinite(a) & np.isfinite(b) & (a < tu.extent.edge_distance(x, y))
    assert ok.sum() >= 200
    assert np.median(np.abs(a - b)[ok]) < 15.0
    limit = PROFILE.max_distance_m
    assert np.mean((a[ok] <= limit) == (b[ok] <= limit)) >= 0.95


def test_network_distances_equal_networkx(prepared):
    prep = _by_folder(prepared, "amsterdam", "osm")
    state = prep.routing_state(PROFILE)
    acc = state["access"]
    field = nearest_sources(prep.net, acc, adjacency=state["adjacency"])
    g = prep.net.to_networkx()
    ok = np.nonzero(acc.ok)[0]
    for i in ok:
        e = acc.edge[i]
        along = acc.t[i] * prep.net.edge_len[e]
        g.add_edge(("s", i), int(prep.net.edge_u[e]), length=acc.dist[i] + along)
        g.add_edge(("s", i), int(prep.net.edge_v[e]),
                   length=acc.dist[i] + prep.net.edge_len[e] - along)
    ref = nx.multi_source_dijkstra_path_length(g, [("s", i) for i in ok], weight="length")
    expected = np.array([ref.get(n, np.inf) for n in range(prep.net.n_nodes)])
    fin = np.isfinite(expected)
    assert np.array_equal(fin, np.isfinite(field.dist))
    assert np.max(np.abs(expected[fin] - field.dist[fin])) < 0.5


def test_utrecht_without_places_gives_no_figures(prepared):
    from geo.errors import MissingDataError

    prep = _by_folder(prepared, "utrecht", "osm")
    assert prep.ready and not len(prep.places)
    with pytest.raises(MissingDataError):
        run(prep, PROFILE)


def test_geojson_download_is_valid_wgs84(results, tmp_path):
    r = _by_folder(results, "delft", "way-layer")
    path = write_geojson(r.table, tmp_path / "buurten.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    geom = doc["features"][0]["geometry"]
    ring = geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"][0][0]
    lon, lat = np.array(ring).T[:2]
    assert (lon > 3).all() and (lon < 7.5).all() and (lat > 50.5).all() and (lat < 54).all()
    assert pyogrio.read_info(path)["features"] == len(r.table)
