"""OsmExtract.extent: the area an OSM file says it covers, not how far its ways reach."""

from __future__ import annotations

import gzip

import pytest

from geo.osm import osm_extent, read_osm
from tests.realdata import need


def test_xml_bounds_of_amsterdam():
    # <bounds minlat="52.36568" minlon="4.89063" maxlat="52.37372" maxlon="4.90368"/>
    p = need("amsterdam/amsterdam.osm.gz")
    with gzip.open(p, "rt", encoding="utf-8") as f:
        assert 'minlon="4.8906300"' in f.read(2000)
    ext = read_osm(p, buildings=False)
    assert ext.extent.bounds == pytest.approx((4.89063, 52.36568, 4.90368, 52.37372), abs=1e-7)
    # the ways reach well beyond it (nodes of crossing ways)
    assert ext.bounds[0] < 4.89063 and ext.bounds[3] > 52.37372


def test_tudelft_core_box_although_relations_reach_far():
    # cut with `osmium extract -b 4.355,51.995,4.386,52.005` (data README); no header bbox
    ext = osm_extent(need("delft/tudelft.osm.pbf"))
    assert ext.bounds == pytest.approx((4.355, 51.995, 4.386, 52.005), abs=5e-4)


def test_pbf_header_box():
    # header bbox 5.0874–5.1865 E, 52.0664–52.1115 N (data README)
    ext = osm_extent(need("utrecht/utrecht_osm_bike_drive_2026-07.osm.pbf"))
    assert ext.bounds == pytest.approx((5.0874, 52.0664, 5.1865, 52.1115), abs=1e-4)
