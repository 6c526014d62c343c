"""Where benches would help: the Helsinki demo with its real OSM benches."""

from __future__ import annotations

import numpy as np
import pytest

from geo.errors import InputError
from layers import benches
from layers.analysis import run


@pytest.fixture(scope="module")
def result(helsinki_prep, older):
    return run(helsinki_prep, older)


def test_rest_points_are_the_extracts_benches(result):
    r = benches.rest_points(result.prepared)
    assert len(r) >= 30
    assert r["osm_id"].str.match(r"^[nwr]\d+$").all()


def test_rest_aware_distance_is_never_shorter_and_sometimes_too_long(result):
    d = benches.rest_aware(result, 150.0)
    plain = result.origins["dist_m"].to_numpy()
    assert (d >= plain - 1e-6).all()
    limit = result.profile.max_distance_m
    lost = (plain <= limit) & ~(d <= limit)
    assert 0 < lost.sum() < (plain <= limit).sum()
    # a stretch as long as the whole walk changes nothing
    same = benches.rest_aware(result, limit)
    ok = plain <= limit
    assert np.allclose(same[ok], plain[ok], atol=1e-3)


def test_bench_gaps_list_the_areas_that_lose_most(result):
    gaps = benches.bench_gaps(result, 150.0)
    assert len(gaps) > 0
    assert (np.diff(gaps["zonder_rust_te_ver"].to_numpy()) <= 0).all()
    t = result.table.set_index("buurtcode")
    assert np.allclose(gaps["binnen_bereik"],
                       t.loc[gaps["buurtcode"], "binnen_bereik_woongebouwen"].to_numpy())
    d = benches.rest_aware(result, 150.0)
    limit = result.profile.max_distance_m
    o = result.origins
    lost = (o["dist_m"] <= limit) & ~(d <= limit)
    assert gaps["zonder_rust_te_ver"].sum() == pytest.approx(o.loc[lost, "w_homes"].sum())
    assert benches.bench_gaps(result, limit).empty


def test_a_non_positive_stretch_is_an_input_error(result):
    with pytest.raises(InputError, match="150 m"):
        benches.rest_aware(result, 0.0)
