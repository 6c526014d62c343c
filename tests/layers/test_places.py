"""Meeting places from the real Helsinki extract: taxonomy, merging, access points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.network import network_from_extract
from geo.osm import read_osm
from layers.places import (
    MERGE_RADIUS_M,
    access_points,
    merge_places,
    places_from_list,
    places_from_osm,
)
from layers.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.fixture(scope="module")
def extract(helsinki_pbf, tax):
    return read_osm(helsinki_pbf, feature_keys=tax.osm_keys,
                    feature_filter=lambda t: tax.classify(t) is not None)


@pytest.fixture(scope="module")
def net(extract):
    return network_from_extract(extract)


@pytest.fixture(scope="module")
def osm_places(extract, tax, net):
    return places_from_osm(extract.features, tax, net.crs)


def test_taxonomy_rules(tax):
    assert tax.classify({"amenity": "community_centre"}) == "buurthuis"
    assert tax.classify({"amenity": "community_centre",
                         "community_centre:for": "senior"}) == "senioren"
    assert tax.classify({"amenity": "social_facility", "social_facility": "nursing_home",
                         "social_facility:for": "senior"}) is None
    assert tax.classify({"leisure": "park", "access": "private"}) is None
    assert tax.classify({"amenity": "restaurant"}) is None
    assert tax.classify_local("Buurtkamer De Linde") == "buurtkamer"
    assert tax.classify_local("Wijkcentrum Oost") == "buurthuis"
    assert tax.classify_local("iets anders") == "overig"
    assert {c.sphere for c in tax.categories} <= {"gemeenschappelijk", "institutioneel"}


def test_real_osm_places_are_classified(osm_places):
    cats = set(osm_places["categorie"])
    assert {"park", "bibliotheek", "gebedshuis"} <= cats
    assert osm_places["sfeer"].isin(["gemeenschappelijk", "institutioneel"]).all()


def test_duplicates_within_50_m_of_the_same_category_are_merged(osm_places):
    merged = merge_places(osm_places)
    assert len(merged) < len(osm_places)
    assert merged["samengevoegd"].sum() == len(osm_places)
    pts = shapely.point_on_surface(merged.geometry.values)
    for cat in merged["categorie"].unique():
        sel = np.nonzero((merged["categorie"] == cat).to_numpy())[0]
        for i in sel:
            d = shapely.distance(pts[i], pts[sel])
            d[sel == i] = np.inf
            assert d.min() > MERGE_RADIUS_M


def test_local_list_merges_with_osm_only_for_the_same_category(osm_places, tax, net):
    """A municipality's list (as read by geo.facilities) naming a real OSM library ~11 m away
    merges with it; a buurtkamer at the same spot is a place of its own."""
    lib = osm_places[osm_places["categorie"] == "bibliotheek"].iloc[[0]]
    p = lib.geometry.iloc[0].representative_point()
    spot = shapely.Point(p.x, p.y + 11.0)
    fac = gpd.GeoDataFrame(
        {"naam": ["Bieb", "Buurtkamer om de hoek"],
         "categorie_lokaal": ["Bibliotheek", "buurtkamer"],
         "bron": "lokale lijst: voorzieningen.csv", "rij": [2, 3]},
        geometry=[spot, spot], crs=net.crs)
    local = places_from_list(fac, tax, net.crs)
    merged = merge_places(osm_places, local)
    assert len(merged) == len(merge_places(osm_places)) + 1  # only the buurtkamer is new
    row = merged[merged["bron"].str.contains("lokale lijst")
                 & (merged["categorie"] == "bibliotheek")]
    assert len(row) == 1 and "OpenStreetMap" in row["bron"].iloc[0]
    assert (merged["categorie"] == "buurtkamer").sum() == 1


def test_parks_are_reached_along_their_edge(osm_places, tax, net):
    places = merge_places(osm_places)
    x, y, owner = access_points(places, net, tax)
    assert set(np.unique(owner)) == set(range(len(places)))
    for row in np.nonzero((places["categorie"] == "park").to_numpy())[0]:
        poly = places.geometry.iloc[row]
        mine = owner == row
        d = shapely.distance(poly, shapely.points(x[mine], y[mine]))
        assert (d < 1e-6).all()  # on or inside the park
        # the whole outline is covered: no point of it is far from an access point
        outline = shapely.get_coordinates(shapely.segmentize(poly.boundary, 10))
        gaps = [np.min(np.hypot(x[mine] - a, y[mine] - b)) for a, b in outline]
        assert max(gaps) <= 50.0 / 2 + 1e-6
