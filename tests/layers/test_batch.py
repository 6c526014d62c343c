"""Batch runs on a local Dask cluster of 2 workers. The areas are parts of the real Helsinki
extract (west and east halves, cut at test time and written as .osm.pbf files) plus one
deliberately broken area (a truncated .osm.pbf)."""

from __future__ import annotations

import json

import osmium
import pandas as pd
import pytest

from geo.profiles import load_profiles
from layers.analysis import prepare, run
from layers.batch import run_batch
from layers.datasets import scan_folder


def cut(src, dst, west: float, east: float) -> None:
    """The nodes of ``src`` with west <= lon < east, and the ways clipped to them."""
    inside: set[int] = set()
    with osmium.SimpleWriter(str(dst)) as w:
        for obj in osmium.FileProcessor(str(src)):
            if obj.is_node():
                if obj.location.valid() and west <= obj.location.lon < east:
                    inside.add(obj.id)
                    w.add(obj)
            elif obj.is_way():
                refs = [n.ref for n in obj.nodes if n.ref in inside]
                if len(refs) >= 2:
                    w.add(obj.replace(nodes=refs))


@pytest.fixture(scope="module")
def areas(helsinki_pbf, tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    box = osmium.io.Reader(str(helsinki_pbf)).header().box()
    mid = (box.bottom_left.lon + box.top_right.lon) / 2
    for name, (w, e) in {"helsinki-west": (box.bottom_left.lon, mid),
                         "helsinki-oost": (mid, box.top_right.lon + 1e-6)}.items():
        (root / name).mkdir()
        cut(helsinki_pbf, root / name / f"{name}.osm.pbf", w, e)
    (root / "kapot").mkdir()
    whole = (root / "helsinki-west" / "helsinki-west.osm.pbf").read_bytes()
    (root / "kapot" / "kapot.osm.pbf").write_bytes(whole[: len(whole) // 3])
    return root


def test_batch_finishes_the_good_areas_reports_the_broken_one_and_skips_on_rerun(
        areas, tmp_path):
    profile = load_profiles()[0]["older"]
    out = tmp_path / "uit"
    names = ["helsinki-west", "helsinki-oost", "kapot"]
    report = run_batch(names, out=out, data_dir=areas, cache_dir=tmp_path / "cache",
                       profile=profile, workers=2)
    assert report["klaar"] == 2 and report["mislukt"] == 1
    assert report["mislukte_gebieden"] == ["kapot"]

    log = pd.read_csv(out / "mislukt.csv", sep=";", encoding="utf-8-sig")
    assert log["gebied"].tolist() == ["kapot"]
    assert log["stap"].iloc[0] == "voorbereiden" and len(log["fout"].iloc[0]) > 5
    assert json.loads((out / "mislukt.json").read_text())[0]["gebied"] == "kapot"

    gm = pd.read_parquet(out / "gemeenten.parquet").set_index("gebied")
    assert set(gm.index) == {"helsinki-west", "helsinki-oost"}
    bu = pd.read_parquet(out / "buurten.parquet")
    # the national buurt table holds exactly what a direct run gives, area by area
    for aid in gm.index:
        direct = run(prepare(scan_folder(areas / aid)), profile)
        rows = bu[bu["gebied"] == aid]
        assert rows["buurtcode"].tolist() == direct.table["buurtcode"].tolist()
        assert rows["binnen_bereik_woongebouwen"].sum() == direct.headline["binnen"]
        assert gm.loc[aid, "totaal"] == direct.headline["totaal"] > 0
    csv = (out / "buurten.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and len(pd.read_csv(out / "buurten.csv", sep=";",
                                                               encoding="utf-8-sig")) == len(bu)

    # re-run: finished areas are skipped, the broken one is tried (and fails) again
    before = (out / "gebieden" / "helsinki-west.json").stat().st_mtime_ns
    again = run_batch(names, out=out, data_dir=areas, cache_dir=tmp_path / "cache",
                      profile=profile, workers=2)
    assert again["overgeslagen"] == 2 and again["klaar"] == 0 and again["mislukt"] == 1
    assert (out / "gebieden" / "helsinki-west.json").stat().st_mtime_ns == before
    assert len(pd.read_parquet(out / "buurten.parquet")) == len(bu)
