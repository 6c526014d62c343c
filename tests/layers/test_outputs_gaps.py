"""Gap areas on the whole of Delft (its OSM way layer, 59,511 real homes, CBS buurten), against
the plain shapely method they replace: buffer each home beyond reach, dissolve, cut to the
buurten, and give each home to one area."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
import shapely

from layers.analysis import prepare, run
from layers.outputs import GAP_BUFFER_M, gap_layer


@pytest.fixture(scope="module")
def delft(all_profiles):
    from tests.layers.real_data import delft_city

    prep = prepare(delft_city())
    return {pid: run(prep, all_profiles[pid]) for pid in ("rollator", "fit")}


def counting_homes(result):
    """The same result, but each home beyond reach weighs 1 instead of its 65+ (a model share
    of a person): every one of them must then be counted, exactly once."""
    o = result.origins.copy()
    w = result.prepared.weight_col
    o[w] = np.where(o[w] > 0, 1.0, 0.0)
    return dataclasses.replace(result, origins=o, cache={})


def far_homes(result):
    o = result.origins
    w = result.prepared.weight_col
    return o[(o["dist_m"] > result.profile.max_distance_m) & (o[w] > 0)]


def reference_areas(result) -> tuple[np.ndarray, np.ndarray]:
    """The naive method: 16-segment buffers, union, cut to the buurten; per home the first area
    (lowest index) that holds it."""
    far = far_homes(result)
    pts = shapely.points(far["x"].to_numpy(), far["y"].to_numpy())
    merged = shapely.union_all(shapely.buffer(pts, GAP_BUFFER_M, quad_segs=4))
    merged = shapely.intersection(merged, shapely.union_all(result.prepared.areas.geometry.values))
    parts = shapely.get_parts(merged)
    parts = parts[shapely.area(parts) > 0]
    return parts, first_holding(parts, pts)


def first_holding(geoms, pts) -> np.ndarray:
    """Per point the index of the first geometry that holds it (on its edge counts), -1 for
    none: a plain loop over the geometries, no spatial index."""
    first = np.full(len(pts), -1)
    for i, g in enumerate(geoms):
        first[(first < 0) & shapely.intersects(g, pts)] = i
    return first


def home_groups(result) -> np.ndarray:
    """Homes whose discs overlap or touch, directly or through others, share a label
    (networkx on shapely's dwithin pairs: independent of the k-d tree in geo.discs)."""
    far = far_homes(result)
    pts = shapely.points(far["x"].to_numpy(), far["y"].to_numpy())
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=2 * GAP_BUFFER_M)
    g = nx.Graph()
    g.add_nodes_from(range(len(pts)))
    g.add_edges_from(zip(a[a < b], b[a < b], strict=True))
    label = np.empty(len(pts), dtype=int)
    for i, comp in enumerate(nx.connected_components(g)):
        label[list(comp)] = i
    return label


def homes_per_area(result, gaps) -> np.ndarray:
    """Index into ``gaps`` of the area that counts each home beyond reach (the first area in
    gat_id order that holds it), -1 for none."""
    far = far_homes(result)
    pts = shapely.points(far["x"].to_numpy(), far["y"].to_numpy())
    return first_holding(gaps.geometry.to_numpy(), pts)


def check_areas(result, gaps) -> np.ndarray:
    """What holds for any demand: valid, disjoint areas; per area its counted residents (the
    homes it holds, each home once), its surface and the buurten of its homes. Returns each
    home's area (-1: none)."""
    far = far_homes(result)
    w = far[result.prepared.weight_col].to_numpy()
    assert gaps.geometry.is_valid.all() and (gaps["buiten_bereik"] > 0).all()
    geoms = gaps.geometry.to_numpy()
    assert shapely.area(geoms).sum() == pytest.approx(shapely.union_all(geoms).area, rel=1e-4)
    home = homes_per_area(result, gaps)
    counted = np.bincount(home[home >= 0], weights=w[home >= 0], minlength=len(gaps))
    assert np.array_equal(gaps["buiten_bereik"].to_numpy(), np.round(counted))
    assert np.allclose(gaps["oppervlakte_ha"], np.round(shapely.area(geoms) / 1e4, 2))
    codes = far["area"].astype(str).to_numpy()
    for i, row in gaps.iterrows():
        assert row["buurtcodes"] == ",".join(sorted(set(codes[home == i])))
    return home


@pytest.mark.parametrize("pid", ["rollator", "fit"])
def test_gap_areas_count_every_home_beyond_reach_as_the_buffer_union_does(delft, pid):
    result = counting_homes(delft[pid])
    gaps = gap_layer(result)
    far = far_homes(result)
    assert len(far) > 1000  # a real test: thousands of homes beyond reach
    home = check_areas(result, gaps)
    assert (home >= 0).all()  # every home beyond reach is counted, once
    assert gaps["buiten_bereik"].sum() == len(far)
    # the same land as the buffer union, within a few per cent (its 16-gons are 2.6 % under a
    # circle, the traced outline 2.3 %)
    ref, ref_home = reference_areas(result)
    union, ref_union = shapely.union_all(gaps.geometry.to_numpy()), shapely.union_all(ref)
    assert union.area == pytest.approx(ref_union.area, rel=0.02)
    assert shapely.symmetric_difference(union, ref_union).area < 0.03 * ref_union.area
    # each reference area overlaps a new one, and the other way round
    geoms = gaps.geometry.to_numpy()
    assert shapely.intersects(ref[:, None], geoms[None, :]).any(axis=1).all()
    assert shapely.intersects(geoms[:, None], ref[None, :]).any(axis=1).all()
    # the homes of each reference area are counted in one area, and an area never joins
    # homes whose discs do not touch (through other discs)
    for i in np.unique(ref_home):
        assert len(np.unique(home[ref_home == i])) == 1
    group = home_groups(result)
    for i in range(len(gaps)):
        assert len(np.unique(group[home == i])) == 1


@pytest.mark.parametrize("pid", ["rollator", "fit"])
def test_gap_areas_of_65plus_hold_the_counts_of_their_homes(delft, pid):
    result = delft[pid]
    gaps = gap_layer(result)
    far = far_homes(result)
    home = check_areas(result, gaps)
    # homes not counted lie in areas holding less than half a person (rounded to 0, dropped)
    w = far[result.prepared.weight_col].to_numpy()
    homes = gap_layer(counting_homes(result))
    whole = homes_per_area(result, homes)
    light = np.bincount(whole, weights=w, minlength=len(homes)) < 0.5
    assert (light[whole[home < 0]]).all()
    assert not light[whole[home >= 0]].any()
    assert abs(gaps["buiten_bereik"].sum() - w.sum()) <= 0.5 * len(homes)
