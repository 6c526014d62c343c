"""Before/after comparisons on real data: a closed place in the TU Delft extract (scenario), two
facility lists of real Utrecht places on Utrecht's street network, and two OSM extracts (the
real TU Delft extract and a copy made at test time without one real place and without the
buildings, so the homes differ). The PDF is rendered with poppler and looked at."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import osmium
import pytest
import shapely
from PIL import Image

import cli
from geo.settings import default_data_dir
from layers.analysis import prepare, run
from layers.compare import (
    compare,
    gained_lost_areas,
    map_png,
    scenario_from_json,
    scenario_to_json,
)
from layers.compare_report import GAINED, write_comparison_pdf
from layers.fmt import fmt_int
from layers.scenario import AddedPlace, Scenario
from tests.layers.real_data import UTRECHT_PLACES, delft_tu, need, utrecht_core


@pytest.fixture(scope="module")
def delft_prep():
    return prepare(delft_tu())


@pytest.fixture(scope="module")
def closing(delft_prep, older):
    """The real place of the TU Delft extract whose closure loses the most 65+ reach."""
    base = run(delft_prep, older)
    best = None
    for pid in base.places["place_id"]:
        c = compare(base, run(delft_prep, older, scenario=Scenario(removed=(pid,))))
        lost = c.totals()["verloren"]
        if best is None or lost > best[0]:
            best = (lost, pid, c)
    return best


@pytest.fixture(scope="module")
def lists(tmp_path_factory, older):
    one = utrecht_core(tmp_path_factory.mktemp("l1"), ["Bibliotheek Neude"])
    two = utrecht_core(tmp_path_factory.mktemp("l2"), ["Bibliotheek Neude", "Griftpark"])
    return compare(run(prepare(one), older), run(prepare(two), older),
                   labels=("alleen de bibliotheek", "bibliotheek en Griftpark"))


def test_closing_a_place_loses_reach_per_home(closing):
    lost, pid, c = closing
    assert lost > 0 and c.per_home
    t = c.table.dropna(subset=["verschil"])
    assert (t["gewonnen"] == 0).all()  # closing never brings anyone within reach
    # per buurt the homes lost equal the drop in 65+ within reach (whole persons)
    assert (t["verloren"] == -t["verschil"]).all()
    tot = c.totals()
    assert tot["binnen_bereik_voor"] - tot["binnen_bereik_na"] == pytest.approx(lost, abs=3)
    gained, lost_area = gained_lost_areas(c)
    assert gained.is_empty and lost_area.area > 0
    # the closed place lies in (or at the edge of) the reach that was lost
    place = c.before.places.set_index("place_id").geometry[pid]
    assert lost_area.distance(place) < 100


def test_a_second_list_gains_reach_around_its_place(lists):
    c = lists
    tot = c.totals()
    assert c.per_home and tot["gewonnen"] > 0 and tot["verloren"] == 0
    t = c.table.dropna(subset=["verschil"])
    assert (t["gewonnen"] - t["verloren"] == t["verschil"]).all()
    gained, lost = gained_lost_areas(c)
    assert lost.is_empty
    _, lat, lon = UTRECHT_PLACES["Griftpark"]
    x, y = _rd(lon, lat)
    assert gained.distance(shapely.Point(x, y)) < 200
    # the buurten that gained are the buurten whose homes lie in the gained reach
    up = set(t.loc[t["gewonnen"] > 0, "buurtcode"])
    geoms = c.after.table.set_index("buurtcode").geometry
    assert all(geoms[code].intersects(gained) for code in up)


def _rd(lon: float, lat: float) -> tuple[float, float]:
    import pyproj

    return pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992",
                                       always_xy=True).transform(lon, lat)


def extract_without(source, target, drop_name: str):
    """A copy of a real OSM extract without the objects named ``drop_name`` and without any
    buildings (test-time only; stands in for a later extract of the same area)."""
    with osmium.SimpleWriter(str(target)) as out:
        for obj in osmium.FileProcessor(str(source)):
            if obj.tags.get("name") == drop_name or (obj.is_way() and "building" in obj.tags):
                continue
            out.add(obj)
    return target


def test_two_extracts_with_different_homes_are_netted_per_buurt(tmp_path, older, delft_prep):
    pbf = need(default_data_dir() / "delft" / "tudelft.osm.pbf")
    later = extract_without(pbf, tmp_path / "later.osm.pbf", "TU Delft Library")
    import dataclasses

    after = prepare(dataclasses.replace(delft_tu(), osm=[later]))
    assert "TU Delft Library" not in set(after.places["naam"])
    c = compare(run(delft_prep, older), run(after, older), labels=("2025", "later"))
    assert not c.per_home and c.notes
    t = c.table.dropna(subset=["verschil"])
    assert np.array_equal(t["gewonnen"], t["verschil"].clip(lower=0))
    assert np.array_equal(t["verloren"], (-t["verschil"]).clip(lower=0))
    assert (t["verschil"] != 0).any()
    png = map_png(c, dpi=60)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_buurten_stay_nan(closing):
    c = closing[2]
    t = c.table.set_index("buurtcode")
    unknown = c.after.table.loc[c.after.table["aandeel_binnen_bereik"].isna(), "buurtcode"]
    assert len(unknown)
    assert t.loc[unknown, ["gewonnen", "verloren", "verschil"]].isna().all().all()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_page_renders_with_the_change(lists, tmp_path):
    pdf = write_comparison_pdf(lists, tmp_path / "v.pdf")
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "v")], check=True)
    img = np.asarray(Image.open(tmp_path / "v.png").convert("RGB")).astype(int)
    h, w, _ = img.shape
    assert abs(h / w - 297 / 210) < 0.02  # one A4 page, portrait
    assert (img.sum(axis=2) < 600).mean() > 0.03  # a page with content, not blank
    green = np.array([int(GAINED[i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(img - green).sum(axis=2) < 60).sum() > 20  # gained reach is drawn
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    tot = lists.totals()
    assert f"+{fmt_int(tot['gewonnen'])}" in text
    assert "Wittevrouwen" in text  # the buurt that gains most is listed


def test_scenario_json_round_trip(delft_prep, older):
    base = run(delft_prep, older)
    pid = base.places["place_id"].iloc[0]
    home = delft_prep.origins.iloc[len(delft_prep.origins) // 2]
    sc = Scenario(added=(AddedPlace(float(home["x"]), float(home["y"]), naam="Buurtkamer"),),
                  removed=(pid,))
    text = scenario_to_json(sc, delft_prep.net.crs, delft_prep.places)
    back = scenario_from_json(text, delft_prep.net.crs, delft_prep.places)
    assert back.removed == (pid,)
    assert back.added[0].naam == "Buurtkamer"
    assert np.hypot(back.added[0].x - sc.added[0].x, back.added[0].y - sc.added[0].y) < 0.05
    doc = json.loads(text)
    doc["gesloten"][0]["place_id"] = "P99999"  # ids shift: the name still finds the place
    assert scenario_from_json(json.dumps(doc), delft_prep.net.crs,
                              delft_prep.places).removed == (pid,)


def test_cli_vergelijk_scenario_on_the_demo(helsinki_prep, older, tmp_path, capsys):
    base = run(helsinki_prep, older)
    pid = max(base.places["place_id"], key=lambda p: compare(base, run(
        helsinki_prep, older, scenario=Scenario(removed=(p,)))).totals()["verloren"])
    sc = tmp_path / "scenario.json"
    sc.write_text(scenario_to_json(Scenario(removed=(pid,)), helsinki_prep.net.crs,
                                   helsinki_prep.places), encoding="utf-8")
    code = cli.main(["vergelijk", "demo-helsinki", "--scenario", str(sc), "--out",
                     str(tmp_path / "uit"), "--json", "--quiet"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    direct = compare(base, run(helsinki_prep, older, scenario=Scenario(removed=(pid,))))
    assert data["verloren"] == direct.totals()["verloren"] > 0
    for f in data["bestanden"]:
        assert (tmp_path / "uit").joinpath(f.split("/")[-1]).stat().st_size > 0


def test_cli_vergelijk_refuses_two_equal_sides(capsys):
    code = cli.main(["vergelijk", "demo-helsinki", "--quiet"])
    assert code == 2
    assert "niets te vergelijken" in capsys.readouterr().err


def test_cli_vergelijk_two_extracts(tmp_path, capsys):
    """`ontmoet vergelijk delft --voor-osm A --na-osm B`: the real TU Delft extract against the
    test-time copy without the TU Delft Library and the buildings; same numbers as compare()."""
    data_dir = default_data_dir()
    pbf = need(data_dir / "delft" / "tudelft.osm.pbf")
    later = extract_without(pbf, tmp_path / "later.osm.pbf", "TU Delft Library")
    code = cli.main(["--data-dir", str(data_dir), "vergelijk", "delft", "--voor-osm", str(pbf),
                     "--na-osm", str(later), "--out", str(tmp_path / "uit"), "--json",
                     "--quiet"])
    assert code == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert (data["voor"], data["na"]) == ("tudelft.osm.pbf", "later.osm.pbf")
    assert data["per_woning"] is False
    rows = {r["buurtcode"]: r for r in data["buurten"]}
    assert all(r["gewonnen"] - r["verloren"] == r["verschil"] for r in rows.values()
               if r["verschil"] is not None)
    assert sum(r["verschil"] or 0 for r in rows.values()) == (
        data["binnen_bereik_na"] - data["binnen_bereik_voor"])
    assert {p.split("/")[-1] for p in data["bestanden"]} == {
        "vergelijking.csv", "vergelijking.pdf", "vergelijking.png"}


def test_closing_a_library_in_delft_costs_real_choice(older):
    """Whole-city Delft: parks are near nearly everyone, so closing a library costs little
    reach, but the homes that had the library as their only institutional place lose their
    real choice; per buurt, real choice never grows when a place closes."""
    from layers import choice as ch
    from tests.layers.real_data import delft_city

    prep = prepare(delft_city())
    base = run(prep, older)
    libs = base.places.loc[base.places["categorie"] == "bibliotheek", "place_id"]
    assert len(libs)
    best = None
    for pid in libs:
        c = compare(base, run(prep, older, scenario=Scenario(removed=(pid,))))
        drop = c.totals()["echte_keuze_voor"] - c.totals()["echte_keuze_na"]
        if best is None or drop > best[0]:
            best = (drop, c)
    drop, c = best
    assert drop > 0
    t = c.table.dropna(subset=["echte_keuze_voor"])
    assert (t["echte_keuze_na"] <= t["echte_keuze_voor"]).all()
    # the homes drawn as 'echte keuze kwijt' hold the 65+ who lost it (rounded per buurt)
    from layers.compare import choice_homes

    won, gone = choice_homes(c)
    assert won.empty and abs(gone["w_demand"].sum() - drop) <= (t["echte_keuze_voor"] > 0).sum()
    # the totals agree with the choice layer of each run (known buurten only)
    assert c.totals()["echte_keuze_voor"] == ch.headline(base)["echte_keuze"]
    assert c.totals()["echte_keuze_na"] == ch.headline(c.after)["echte_keuze"]


@pytest.mark.parametrize("sub", ["vergrijzing", "vergelijk"])
def test_new_subcommands_have_help(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([sub, "--help"])
    assert exc.value.code == 0
    assert f"usage: ontmoet {sub}" in capsys.readouterr().out
