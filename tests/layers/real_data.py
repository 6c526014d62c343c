"""Real areas for the results tests (choice, ageing, comparison), read at run time from
../shared/data: missing data skips locally and fails in CI (``CI=true``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.settings import default_data_dir
from layers.datasets import AreaData


def need(path: Path) -> Path:
    """``path`` if it exists; otherwise skip (locally) or fail (in CI, where data is present)."""
    if path.exists():
        return path
    msg = f"real data file {path} is absent"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)


def delft_tu() -> AreaData:
    """The TU Delft / Wippolder OSM extract with the exact CBS buurten 2023 of Delft."""
    d = default_data_dir() / "delft"
    return AreaData(id="delft-tu", name="Delft (TU-wijk)", folder=None,
                    osm=[need(d / "tudelft.osm.pbf")],
                    boundaries=[need(d / "delft_buurten_proj.gpkg")],
                    population=[need(d / "cbs_wijkenbuurten_2023_delft_buurten_population.csv")])


def utrecht_years() -> tuple[Path, Path]:
    d = default_data_dir() / "utrecht"
    return need(d / "cbs_kwb_2023_utrecht.xlsx"), need(d / "cbs_kwb_2024_utrecht.xlsx")
