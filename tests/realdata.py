"""Real data files by their path under the shared data folder: a test that needs one skips on a
laptop without it, but FAILS in CI (``CI=true``), where the data is always present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.settings import default_data_dir


def need(relative: str) -> Path:
    """The real file ``relative`` (e.g. ``"delft/Full_Delft_walk_addresses.csv"``)."""
    return need_path(default_data_dir() / relative)


def need_path(p: Path) -> Path:
    """``p`` if it exists; otherwise skip (locally) or fail (in CI, where data is present)."""
    if not p.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"real data file {p} is missing in CI")
        pytest.skip(f"real data file {p} is absent")
    return p
