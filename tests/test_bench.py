"""Smoke test of bench/coverage.py on the real Helsinki network with a tiny limit (no timing
asserts: speed is what the script prints, not what the tests check)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import numpy as np

from geo.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "bench" / "coverage.py"
LAST_LINE = re.compile(r"ratios: tutorial=\d+\.\d networkx=\d+\.\d scipy_pass=\d+\.\d")


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_coverage", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_script_runs_and_ends_with_the_ratio_line(helsinki_pbf):
    out = subprocess.run([sys.executable, str(SCRIPT), "--limit", "30", "--repeat", "1"],
                         capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    checks = [ln for ln in lines if ln.startswith("check ")]
    # scipy, networkx and tutorial always; pandana when it imports
    assert len(checks) >= 3 and all(ln.endswith("-> OK") for ln in checks), checks
    assert any(ln.startswith("preparation (OSM file -> ready Prepared") for ln in lines)
    assert any(ln.strip().startswith("remove one place") for ln in lines)
    assert "limit 30 m" in out.stdout
    if "gekozen: demo-helsinki" in out.stdout:
        assert "NOTE: benchmarking on the DEMO" in out.stdout


def test_distance_check_flags_a_difference_beyond_half_a_metre():
    check = _bench_module().check
    ref = np.array([0.0, 120.0, 480.0, np.inf])
    assert check("same", ref, ref.copy(), 500.0)[1]
    assert not check("off", ref, ref + np.array([0, 0.6, 0, 0]), 500.0)[1]
    # reached by one method only, well inside the limit
    assert not check("reach", ref, np.array([0.0, np.inf, 480.0, np.inf]), 500.0)[1]
    # differing reach right at the limit is float noise, not a mismatch
    assert check("edge", np.array([499.8]), np.array([np.inf]), 500.0)[1]
