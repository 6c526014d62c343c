"""The national batch on real multi-gemeente data, on a real distributed Dask cluster.

Data: the Delft whole-city way layer (a 10 x 10 km box) and ``delft_buurten_proj.gpkg`` (91 Delft
buurten plus 14 slivers of four neighbouring gemeenten). The cluster is started with
distributed's own command-line tools (``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1, random free ports) and always stopped. The reference is a single-area run of Delft
(``prepare`` + ``run`` on the discovered area); gemeente counts come from the boundary file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest

from geo.boundaries import read_boundaries
from geo.cut import cut_osm
from geo.profiles import load_profiles
from geo.settings import REPO_ROOT
from layers.analysis import prepare, run
from layers.batch import GEMEENTE_DIR, run_national
from layers.datasets import discover
from layers.statuses import STATUS_FULL, STATUS_OUT
from tests.realdata import need

COMPARED = ["status", "inwoners", "inwoners_65plus", "binnen_bereik_65plus",
            "buiten_bereik_65plus", "aandeel_binnen_bereik"]


def _area(kind: str):
    need("delft/delft_buurten_proj.gpkg")
    return next(a for a in discover() if a.gemeente == "GM0503" and a.network_kind == kind)


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """Address of a scheduler with two workers, all three started by distributed's CLI."""
    d = tmp_path_factory.mktemp("dask")
    dask = str(Path(sys.executable).with_name("dask"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    log = open(d / "cluster.log", "w")  # noqa: SIM115 - closed in the teardown
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(d / "scheduler.json")], env=env, stdout=log, stderr=log))
        deadline = time.monotonic() + 120
        while not (d / "scheduler.json").is_file():
            assert time.monotonic() < deadline and procs[0].poll() is None, "no scheduler"
            time.sleep(0.2)
        time.sleep(0.2)
        address = json.loads((d / "scheduler.json").read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            procs.append(subprocess.Popen(
                [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                 "--no-dashboard", "--memory-limit", "3GiB", "--name", f"w{i}",
                 "--local-directory", str(d / f"w{i}")], env=env, stdout=log, stderr=log,
                cwd=REPO_ROOT))
        from dask.distributed import Client

        with Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def test_national_batch_on_a_dask_cluster_equals_a_single_area_run(dask_scheduler, tmp_path):
    area = _area("way-layer")
    profile = load_profiles()[0]["older"]
    out = tmp_path / "nl"
    kw = dict(out=out, profile=profile, kerncijfers=area.population[0], places=area.places,
              addresses=area.addresses, landuse=area.landuse, scheduler=dask_scheduler)
    report = run_national(area.osm[0], area.boundaries[0], **kw)
    grenzen = read_boundaries(area.boundaries[0])
    per_gm = grenzen.groupby("gemeentecode").size()
    assert report["gemeenten"] == len(per_gm) == 5
    assert report["klaar"] == 5 and report["mislukt"] == 0, report

    layers = {k: gpd.read_file(out / "ontmoetingskaart.gpkg", layer=k)
              for k in ("buurten", "wijken", "gemeenten")}
    bu = layers["buurten"]
    # every buurt of the boundary file once, under its own gemeente
    assert bu.groupby("gemeentecode").size().sort_index().tolist() == per_gm.sort_index().tolist()
    assert set(bu["buurtcode"]) == set(grenzen["buurtcode"])

    # Delft's figures equal a single-area run of Delft on the whole way layer
    direct = run(prepare(area), profile).table.set_index("buurtcode")
    delft = bu[bu["gemeentecode"] == "GM0503"].set_index("buurtcode").loc[direct.index]
    assert len(delft) == 91
    for col in COMPARED:
        a, b = delft[col].to_numpy(), direct[col].to_numpy()
        if col == "status":
            assert (a == b).all()
        else:
            a, b = a.astype(float), b.astype(float)
            assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(
                a[~np.isnan(a)], b[~np.isnan(b)]), col
    assert np.nansum(delft["binnen_bereik_65plus"]) > 1000

    # the partial gemeenten get statuses instead of numbers
    gm = layers["gemeenten"].set_index("gemeentecode")
    others = gm.drop(index="GM0503")
    assert (others["status"] != STATUS_FULL).all()
    assert others["binnen_bereik_65plus"].isna().all()
    assert others["aandeel_binnen_bereik"].isna().all()
    assert (others["buurten"] == per_gm.drop(index="GM0503")).all()
    outside = bu[bu["status"] == STATUS_OUT]
    assert len(outside) and outside["binnen_bereik_65plus"].isna().all()
    assert gm.loc["GM0518", "status"] == STATUS_OUT  # none of its buurten is in the data
    for level in ("buurten", "wijken", "gemeenten"):
        csv = (out / f"{level}.csv").read_bytes()
        assert csv.startswith(b"\xef\xbb\xbf") and csv.count(b"\n") == len(layers[level]) + 1

    # resume: finished gemeenten are skipped; a lost result file is made again, alone
    done = out / GEMEENTE_DIR / "GM1842.json"
    before = done.stat().st_mtime_ns
    (out / GEMEENTE_DIR / "GM0603.json").unlink()
    again = run_national(area.osm[0], area.boundaries[0], **kw)
    assert again["overgeslagen"] == 4 and again["klaar"] == 1 and again["mislukt"] == 0
    assert done.stat().st_mtime_ns == before
    assert len(gpd.read_file(out / "ontmoetingskaart.gpkg", layer="buurten")) == len(bu)


def test_osm_cut_keeps_the_box_and_clips_ways_at_it(tmp_path):
    src = need("delft/tudelft.osm.pbf")
    box = (4.365, 51.995, 4.38, 52.005)
    dst = cut_osm(src, tmp_path / "cut.osm.pbf", box, tool=False)
    inside, ways = set(), {}
    for obj in osmium.FileProcessor(str(src)):
        if obj.is_node() and box[0] <= obj.location.lon <= box[2] and (
                box[1] <= obj.location.lat <= box[3]):
            inside.add(obj.id)
        elif obj.is_way():
            ways[obj.id] = [n.ref for n in obj.nodes]
    got_nodes, got_ways = set(), {}
    for obj in osmium.FileProcessor(str(dst)):
        if obj.is_node():
            got_nodes.add(obj.id)
        elif obj.is_way():
            got_ways[obj.id] = [n.ref for n in obj.nodes]
    assert got_nodes == inside and len(inside) > 1000
    expected = {w: [n for n in refs if n in inside] for w, refs in ways.items()}
    expected = {w: refs for w, refs in expected.items() if len(refs) >= 2}
    assert got_ways == expected


def test_national_batch_from_a_pbf_on_a_local_cluster_equals_a_single_area_run(tmp_path):
    """The PBF path on the default LocalCluster: Delft cut from the TU Delft extract (which lies
    inside Delft's border strip, so the cut holds all of it) equals the TU area's own run."""
    area = _area("osm")
    profile = load_profiles()[0]["older"]
    report = run_national(area.osm[0], area.boundaries[0], out=tmp_path / "nl", profile=profile,
                          kerncijfers=area.population[0], places=area.places,
                          addresses=area.addresses, landuse=area.landuse,
                          gemeenten=["GM0503"], workers=1)
    assert report["klaar"] == 1 and report["mislukt"] == 0, report
    bu = gpd.read_file(tmp_path / "nl" / "ontmoetingskaart.gpkg", layer="buurten")
    direct = run(prepare(area), profile).table.set_index("buurtcode")
    got = bu.set_index("buurtcode").loc[direct.index]
    assert (got["status"].to_numpy() == direct["status"].to_numpy()).all()
    a = got["binnen_bereik_65plus"].to_numpy(dtype=float)
    b = direct["binnen_bereik_65plus"].to_numpy(dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)],
                                                                      b[~np.isnan(b)])
    # the TU extract covers a few buurten (Wippolder, the campus); the rest are outside it
    assert 0 < (got["status"] != STATUS_OUT).sum() < 91 and np.nansum(a) > 0


def test_cli_batch_from_national_files(tmp_path):
    """``ontmoet batch --osm ... --grenzen ...`` runs the national batch: here only
    's-Gravenhage (GM0518), whose two slivers lie outside the Delft way layer, so its gemeente
    row says buiten and carries no figures."""
    import cli

    area = _area("way-layer")
    code = cli.main(["batch", "--osm", str(area.osm[0]), "--grenzen", str(area.boundaries[0]),
                     "--gemeente", "GM0518", "--workers", "1", "--out", str(tmp_path / "nl")])
    assert code == 0
    gm = gpd.read_file(tmp_path / "nl" / "ontmoetingskaart.gpkg", layer="gemeenten")
    assert gm["gemeentecode"].tolist() == ["GM0518"]
    assert gm["status"].tolist() == [STATUS_OUT] and gm["binnen_bereik_65plus"].isna().all()
    assert cli.main(["batch", "--osm", str(area.osm[0]), "--out", str(tmp_path / "x")]) != 0


def test_many_cuts_in_one_osmium_pass_equal_one_cut_each(tmp_path):
    """With osmium-tool installed, every gemeente's cut comes from one pass over the file."""
    import shutil

    from geo.cut import cut_osm_many

    if not shutil.which("osmium"):
        pytest.skip("osmium-tool is not installed (the batch then cuts with pyosmium)")
    src = need("delft/tudelft.osm.pbf")
    boxes = [(4.365, 51.995, 4.38, 52.005), (4.36, 51.99, 4.37, 52.0)]
    cut_osm_many(src, [(tmp_path / f"{i}" / "n.osm.pbf", b) for i, b in enumerate(boxes)])

    def ids(path):
        return {(o.type_str(), o.id) for o in osmium.FileProcessor(str(path))}

    for i, b in enumerate(boxes):
        one = cut_osm(src, tmp_path / f"one{i}.osm.pbf", b)
        assert ids(tmp_path / f"{i}" / "n.osm.pbf") == ids(one) != set()
