"""CBS Nabijheid distances, read from the real Utrecht file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers.datasets import discover
from layers.nabijheid import TOPICS, compare_distances, read_cbs_distance


@pytest.fixture(scope="module")
def nabijheid_file(shared_data_dir):
    files = [p for a in discover(shared_data_dir, include_demo=False) for p in a.nabijheid]
    if not files:
        pytest.skip("no CBS Nabijheid file in the shared data")
    return files[0]


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_distances_per_buurt_in_metres_or_unknown(nabijheid_file, topic):
    s = read_cbs_distance(nabijheid_file, topic)
    assert len(s) > 0 and s.index.is_unique
    assert s.index.str.fullmatch(r"BU\d{4}[0-9A-Z]{4}").all()
    known = s.dropna()
    # CBS publishes km with one decimal: metres are multiples of 100 within a city's range;
    # "." (not published) must stay unknown, never become 0
    assert np.allclose(known % 100, 0) and known.between(0, 20_000).all()


def test_library_distances_are_published_and_rank_correlation_works(nabijheid_file):
    lib = read_cbs_distance(nabijheid_file, "bibliotheek")
    known = lib.dropna()
    assert len(known) > 0.8 * len(lib)
    ours = pd.Series(np.sqrt(known.to_numpy()) * 3 + 7, index=known.index)  # same order
    out = compare_distances(ours, lib)
    assert out["n"] == len(known)
    assert out["spearman"] == pytest.approx(1.0)
    reversed_ = compare_distances(-ours, lib)
    assert reversed_["spearman"] == pytest.approx(-1.0)
