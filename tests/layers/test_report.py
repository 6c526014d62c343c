"""The one-page PDF report, rendered with poppler (pdftoppm/pdftotext) on the Helsinki demo."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from geo.errors import InputError
from layers import report, siting
from layers.analysis import run
from layers.fmt import fmt_int

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None
                                or shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftoppm, pdftotext) is not installed")


@pytest.fixture(scope="module")
def before(libraries_only):
    return libraries_only


@pytest.fixture(scope="module")
def suggested(helsinki_prep, older, before):
    return siting.suggest(helsinki_prep, older, 3, result=before)


@pytest.fixture(scope="module")
def after(helsinki_prep, older, suggested):
    return run(helsinki_prep, older, categories=["bibliotheek"], scenario=suggested.to_scenario())


def _render(pdf, tmp_path, dpi=72):
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    return Image.open(tmp_path / "page.png").convert("L"), text


def test_report_is_one_a4_page_with_the_results_numbers(after, before, suggested, tmp_path):
    pdf = report.write_report(after, tmp_path / "rapport.pdf", scenario_before=before,
                              siting=suggested)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          timeout=60).stdout if shutil.which("pdfinfo") else "Pages: 1"
    assert "Pages:           1" in info or "Pages: 1" in info
    img, text = _render(pdf, tmp_path)
    # A4 at 72 dpi: 595 x 842 points
    assert abs(img.size[0] - 595) <= 1 and abs(img.size[1] - 842) <= 1
    h = after.headline
    for v in (h["totaal"], h["binnen"], h["buiten"]):
        assert fmt_int(v) in text
    assert f"{fmt_int(before.headline['binnen'])} → {fmt_int(h['binnen'])}" in text
    assert f"{fmt_int(before.headline['buiten'])} → {fmt_int(h['buiten'])}" in text
    assert f"+{fmt_int(suggested.total)}" in text
    assert "500 m" in text and after.profile.label in text
    assert "ODbL" in text and "Helsinki.osm.pbf" in text
    # the ranking lists the worst area first
    worst = report.ranking(after).iloc[0]
    assert worst["buurtnaam"] in text
    # the map region is drawn, not blank
    w, hgt = img.size
    a = np.asarray(img, dtype=float)
    region = a[int(hgt * (1 - 0.845)):int(hgt * (1 - 0.43)), int(w * 0.05):int(w * 0.95)]
    assert region.std() > 30
    assert (region < 100).mean() > 0.05  # dark buurten and markers, not just outlines


def test_every_page_element_reads_in_greyscale(after, tmp_path):
    """No colour is used: a black-and-white print loses nothing."""
    pdf = report.write_report(after, tmp_path / "r.pdf")
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "c")], check=True, timeout=60)
    rgb = np.asarray(Image.open(tmp_path / "c.png").convert("RGB"), dtype=int)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    assert spread.max() <= 8


def test_hostile_names_are_cleaned_and_cut(after, tmp_path):
    table = after.table.copy()
    worst = report.ranking(after).index[0]
    table.loc[worst, "buurtnaam"] = (
        "Een heel\nlange $naam$ " + "x" * 200)
    hostile = dataclasses.replace(after, table=table)
    pdf = report.write_report(hostile, tmp_path / "r.pdf")
    _, text = _render(pdf, tmp_path)
    assert "Een heel lange $naam$ x…" in text
    assert "x" * 40 not in text
    assert report.clip("a\x00b\nc", 10) == "a b c"
    assert report.clip("abcdefghijkl", 5) == "abcd…"
    assert report.clip(None) == "–"
    assert report.clip("5$") == "5\\$"


def test_wijk_subset_sums_the_raw_numbers(after):
    """Hand-made grouping for the test: the demo's hexagons carry no wijk, so half of them
    are labelled 'W1' to check the per-wijk arithmetic against the table."""
    table = after.table.copy()
    table["wijkcode"] = np.where(np.arange(len(table)) % 2 == 0, "W1", "W2")
    res = dataclasses.replace(after, table=table)
    h1, h2 = report.headline_for(res, "W1"), report.headline_for(res, "W2")
    assert h1["binnen"] + h2["binnen"] == after.headline["binnen"]
    assert h1["buiten"] + h2["buiten"] == after.headline["buiten"]
    assert h1["gebieden"] == (len(table) + 1) // 2
    assert set(report.ranking(res, "W1")["wijkcode"]) == {"W1"}


def test_unknown_wijk_is_an_input_error(after, tmp_path):
    with pytest.raises(InputError, match="geen wijken"):
        report.write_report(after, tmp_path / "r.pdf", wijk="WK034401")
    assert not (tmp_path / "r.pdf").exists()
