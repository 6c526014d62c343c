"""Real files from ../shared/data for the reader tests: skipped locally when absent, a FAILURE
under CI (``CI=true``), where the data must be present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.settings import default_data_dir


def need(relative: str) -> Path:
    """``<data dir>/<relative>``; skip (locally) or fail (CI) when it is missing."""
    p = default_data_dir() / relative
    if not p.exists():
        msg = f"real data file {p} is absent (set ONTMOET_DATA_DIR)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return p
