"""Many municipalities at once on Dask: prepare + coverage per area, one national table.

Each area runs as one task on a ``dask.distributed`` cluster (a :class:`LocalCluster` of worker
processes by default, or an existing scheduler). A task never raises: a failure comes back as a
record (area, step, error message), so one broken municipality does not stop the others. Every
finished area leaves ``<out>/gebieden/<id>.parquet`` (its buurt rows) and ``<id>.json`` (its
summary, written last, atomically); a re-run skips areas whose two files are present.

Output in ``<out>``: ``buurten.parquet``/``.csv`` (one row per buurt of every finished area),
``gemeenten.parquet``/``.csv`` (one row per area) and ``mislukt.csv``/``.json`` (what failed).

:func:`run_national` does the same from local national files: one big OSM extract (or way
layer) and a CBS boundary file with many gemeenten, one task per gemeente cut from the extract
with a border (see there); it writes one national GeoPackage and CSVs per buurt, wijk and
gemeente.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
import traceback
from collections.abc import Collection
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError, ServiceUnavailableError
from geo.export import write_csv
from geo.io import atomic_path

FAILURE_COLUMNS = ["gebied", "stap", "fout"]


def _area_dir(out: Path) -> Path:
    return Path(out) / "gebieden"


def is_done(out: Path, aid: str) -> bool:
    d = _area_dir(out)
    return (d / f"{aid}.parquet").is_file() and (d / f"{aid}.json").is_file()


def _safe_id(name: str) -> str:
    from layers.bundle import area_id

    try:
        return area_id(name)
    except InputError:
        return "gebied"


def _resolve(name: str, data_dir: Path | None, cache_dir: Path):
    """A discovered area by id or name; otherwise a gemeente fetched online (cached)."""
    from layers.bundle import area_online
    from layers.datasets import discover

    k = name.strip().lower()
    for a in discover(data_dir, include_demo=False, cache_dir=cache_dir):
        if k in (a.id.lower(), a.name.lower()):
            return a
    return area_online(name, cache_dir=cache_dir, data_dir=data_dir)[0]


def run_area(name: str, *, out: Path, data_dir: Path | None, cache_dir: Path, profile,
             categories: Collection[str] | None = None,
             spheres: Collection[str] | None = None) -> dict:
    """prepare + coverage for one area on a worker; returns a summary or a failure record."""
    from layers.analysis import prepare, run

    step = "gegevens zoeken"
    aid = _safe_id(name)
    t0 = time.perf_counter()
    try:
        area = _resolve(name, data_dir, cache_dir)
        aid = area.id
        step = "voorbereiden"
        t1 = time.perf_counter()
        prep = prepare(area)
        t2 = time.perf_counter()
        step = "bereik berekenen"
        result = run(prep, profile, categories=categories, spheres=spheres)
        t3 = time.perf_counter()
        step = "resultaat schrijven"
        table = pd.DataFrame(result.table.drop(columns=result.table.geometry.name))
        table.insert(0, "gebied", aid)
        summary = {"gebied": aid, "naam": area.name, "status": "ok",
                   **{k: (None if isinstance(v, float) and v != v else v)
                      for k, v in result.headline.items()},
                   "profiel": profile.id, "max_afstand_m": round(profile.max_distance_m, 1),
                   "seconden_gegevens": round(t1 - t0, 3),
                   "seconden_voorbereiden": round(t2 - t1, 3),
                   "seconden_bereik": round(t3 - t2, 3),
                   "piekgeheugen_worker_mb": _peak_mb()}
        _write_task(_area_dir(out), aid, table, summary)
        return summary
    except Exception as exc:  # a broken file can raise anything; report it, go on
        return _failed({"gebied": aid}, step, exc)


def _peak_mb() -> float:
    """This worker process's peak memory so far (MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _write_task(d: Path, name: str, table: pd.DataFrame, summary: dict) -> None:
    """A finished task's table and summary, each written atomically; the summary last: it marks
    the task as done (a re-run skips it)."""
    with atomic_path(d / f"{name}.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    with atomic_path(d / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str),
                       encoding="utf-8")


def _failed(who: dict, step: str, exc: Exception) -> dict:
    """The record of a task that failed at ``step``: a problem with the input by its own
    message (it names the fix), anything else by its exception's last line."""
    text = str(exc) if isinstance(exc, (InputError, ServiceUnavailableError)) else (
        traceback.format_exception_only(type(exc), exc)[-1].strip())
    return {**who, "status": "mislukt", "stap": step, "fout": text}


def _client(scheduler: str | None, workers: int, memory_limit: str | None = None):
    """A client of the scheduler at ``scheduler``, else of a new LocalCluster of ``workers``
    single-threaded processes (each held to ``memory_limit``: Dask pauses and restarts a worker
    beyond it, and the task comes back as a failure)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address="127.0.0.1:0",
                           memory_limit=memory_limit or "auto")
    return Client(cluster), cluster


def gather(futures: dict, who, *, quiet: bool) -> list[dict]:
    """The records of finished Dask tasks as they complete, with a progress bar; a task whose
    worker died (e.g. out of memory) becomes a ``mislukt`` record named by ``who(key)``."""
    from dask.distributed import as_completed
    from tqdm import tqdm

    records: list[dict] = []
    with tqdm(total=len(futures), desc="Gemeenten", disable=quiet, delay=1.0) as bar:
        for fut in as_completed(futures):
            try:
                records.append(fut.result())
            except Exception as exc:  # a worker died (e.g. out of memory)
                records.append({**who(futures[fut]), "status": "mislukt", "stap": "worker",
                                "fout": f"{type(exc).__name__}: {exc}"})
            bar.update(1)
    return records


def run_batch(
    names: list[str],
    *,
    out: str | Path,
    cache_dir: Path,
    profile,
    data_dir: Path | None = None,
    categories: Collection[str] | None = None,
    spheres: Collection[str] | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    quiet: bool = True,
) -> dict:
    """Run every area of ``names`` (skipping finished ones) and write the national tables."""

    out = Path(out)
    todo = [n for n in dict.fromkeys(names) if not is_done(out, _safe_id(n))]
    skipped = len(set(names)) - len(todo)
    records: list[dict] = []
    if todo:
        client, cluster = _client(scheduler, workers)
        try:
            futures = {client.submit(run_area, n, out=out, data_dir=data_dir,
                                     cache_dir=cache_dir, profile=profile,
                                     categories=categories, spheres=spheres,
                                     key=f"gebied-{i}-{_safe_id(n)}", pure=False): n
                       for i, n in enumerate(todo)}
            records = gather(futures, lambda n: {"gebied": _safe_id(n)}, quiet=quiet)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    failures = [r for r in records if r.get("status") != "ok"]
    _write_tables(out, [_safe_id(n) for n in names], failures)
    return {"gebieden": len(set(names)), "klaar": len(records) - len(failures),
            "overgeslagen": skipped, "mislukt": len(failures),
            "mislukte_gebieden": [f["gebied"] for f in failures],
            "uitvoer": str(out)}


def _write_tables(out: Path, ids: list[str], failures: list[dict]) -> None:
    d = _area_dir(out)
    done = [a for a in dict.fromkeys(ids) if is_done(out, a)]
    buurten = pd.concat([pd.read_parquet(d / f"{a}.parquet") for a in done],
                        ignore_index=True) if done else pd.DataFrame()
    gemeenten = pd.DataFrame([json.loads((d / f"{a}.json").read_text(encoding="utf-8"))
                              for a in done])
    for name, df in (("buurten", buurten), ("gemeenten", gemeenten)):
        with atomic_path(out / f"{name}.parquet") as tmp:
            df.to_parquet(tmp, index=False)
        write_csv(df, out / f"{name}.csv")
    log = pd.DataFrame([{k: f.get(k) for k in FAILURE_COLUMNS} for f in failures],
                       columns=FAILURE_COLUMNS)
    write_csv(log, out / "mislukt.csv")
    with atomic_path(out / "mislukt.json") as tmp:
        tmp.write_text(json.dumps(log.to_dict(orient="records"), ensure_ascii=False, indent=2),
                       encoding="utf-8")



# --- a national batch from local files: one task per gemeente, cut from one big extract ------

#: Per-gemeente result files (``<code>.parquet`` + ``<code>.json``) and cut inputs (``<code>/``).
GEMEENTE_DIR, WORK_DIR = "gemeenten", "werk"
#: Extra margin around the border (m) on top of :func:`layers.bundle.border_m`.
MARGIN_M = 100.0
#: Memory limit per worker of the default LocalCluster (Dask pauses/restarts beyond it).
WORKER_MEMORY = "3GiB"
#: Figures shown only for areas whose data is complete (status volledig).
FIGURES = ["inwoners", "inwoners_65plus", "binnen_bereik_65plus", "buiten_bereik_65plus",
           "aandeel_binnen_bereik"]


def gemeente_tasks(boundaries: str | Path, *, border: float) -> gpd.GeoDataFrame:
    """One row per gemeente of a CBS boundary file: ``gemeentecode``, buurten count, its
    polygon (dissolved buurten, RD) and the lon/lat box of that polygon grown by ``border``."""
    from geo.boundaries import read_boundaries

    b = read_boundaries(boundaries).to_crs(28992)
    b = b[b["gemeentecode"].notna()]
    gm = b.dissolve(by="gemeentecode", aggfunc={"buurtcode": "count"}).rename(
        columns={"buurtcode": "buurten"}).reset_index()
    grown = gpd.GeoSeries(gm.geometry.buffer(border), crs=28992).to_crs(4326)
    gm["grens"] = grown.values
    gm["box"] = [tuple(float(v) for v in g.bounds) for g in grown]
    return gm


def _kind(path: Path) -> str:
    from geo.sniff import classify_file

    kind = classify_file(path)
    if kind not in ("osm", "way-layer"):
        raise InputError("geen landelijk of provinciaal OSM-extract of wegenlaag", path=path,
                         fix="geef een .osm.pbf (bv. van Geofabrik) of een GIS-laag met wegen "
                         "(kolom highway)")
    return kind


def run_gemeente(task: dict, *, osm: Path, kind: str, out: Path, profile,
                 population: list[Path], places: list[Path], addresses: list[Path],
                 landuse: list[Path], categories: Collection[str] | None = None,
                 spheres: Collection[str] | None = None) -> dict:
    """Cut, prepare and run one gemeente on a worker; write its result files; never raises."""
    import gc

    from geo.cut import cut_osm, cut_way_layer
    from layers.analysis import prepare, run
    from layers.datasets import AreaData

    code = task["gemeentecode"]
    work = Path(out) / WORK_DIR / code
    step = "uitsnijden"
    t0 = time.perf_counter()
    try:
        net = work / ("netwerk.osm.pbf" if kind == "osm" else "netwerk.gpkg")
        if not net.is_file():  # cut once; a crash before the rename leaves no cut
            if kind == "osm":
                cut_osm(osm, net, task["box"])
            else:
                cut_way_layer(osm, net, shapely.from_wkb(task["grens"]))
        t1 = time.perf_counter()
        step = "voorbereiden"
        area = AreaData(id=code.lower(), name=task["naam"], folder=work, osm=[net],
                        boundaries=[work / "buurten.gpkg"], population=list(population),
                        places=list(places), addresses=list(addresses),
                        landuse=list(landuse), network_kind=kind, gemeente=code)
        try:
            prep = prepare(area)
        except InputError as exc:
            if NO_OVERLAP not in str(exc):
                raise
            prep = None  # the extract holds none of this gemeente: every buurt is outside
        t2 = time.perf_counter()
        step = "bereik berekenen"
        if prep is not None:
            result = run(prep, profile, categories=categories, spheres=spheres)
            table, headline = result.table.to_crs(28992), result.headline
        else:
            table, headline = _outside(work / "buurten.gpkg"), {}
        t3 = time.perf_counter()
        step = "resultaat schrijven"
        table.insert(0, "gemeentecode", code)
        table.insert(1, "gemeentenaam", task["naam"])
        summary = {"gemeentecode": code, "gemeentenaam": task["naam"], "status": "ok",
                   **{k: (None if isinstance(v, float) and v != v else v)
                      for k, v in headline.items() if not isinstance(v, dict)},
                   "knopen": int(prep.net.n_nodes) if prep is not None and prep.net else 0,
                   "profiel": profile.id,
                   "seconden_uitsnijden": round(t1 - t0, 3),
                   "seconden_voorbereiden": round(t2 - t1, 3),
                   "seconden_bereik": round(t3 - t2, 3),
                   "piekgeheugen_worker_mb": _peak_mb()}
        _write_task(Path(out) / GEMEENTE_DIR, code, table, summary)
        del prep, table
        gc.collect()
        return summary
    except Exception as exc:  # a broken file can raise anything; report it, go on
        return _failed({"gemeentecode": code}, step, exc)


#: What :func:`layers.analysis.refuse_if_elsewhere` says when the data covers no buurt.
NO_OVERLAP = "(no overlap)"


def _outside(buurten_file: Path) -> gpd.GeoDataFrame:
    """The buurt rows of a gemeente the extract does not reach: status buiten, no figures."""
    from geo.boundaries import read_boundaries
    from layers.statuses import STATUS_OUT

    b = read_boundaries(buurten_file).to_crs(28992)
    cols = {"buurtcode": b["buurtcode"], "buurtnaam": b["buurtnaam"], "wijkcode": b["wijkcode"]}
    for c in FIGURES:
        cols[c] = b[c].astype(float) if c in ("inwoners", "inwoners_65plus") and c in b else np.nan
    return gpd.GeoDataFrame({**cols, "status": STATUS_OUT, "dekking": 0.0},
                            geometry=b.geometry.values, crs=28992)


def gemeente_done(out: Path, code: str) -> bool:
    d = Path(out) / GEMEENTE_DIR
    return (d / f"{code}.parquet").is_file() and (d / f"{code}.json").is_file()


def run_national(
    osm: str | Path,
    boundaries: str | Path,
    *,
    out: str | Path,
    profile,
    kerncijfers: str | Path | None = None,
    places: Collection[str | Path] = (),
    addresses: Collection[str | Path] = (),
    landuse: Collection[str | Path] = (),
    gemeenten: Collection[str] | None = None,
    categories: Collection[str] | None = None,
    spheres: Collection[str] | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    memory_limit: str = WORKER_MEMORY,
    border: float | None = None,
    quiet: bool = True,
) -> dict:
    """All gemeenten of ``boundaries`` from one big network source ``osm`` (national or
    provincial OSM extract, or a GIS way layer), one Dask task per gemeente.

    Each gemeente's buurten are dissolved to its polygon, grown by ``border`` (default: the
    largest profile limit plus the snapping distance, :func:`layers.bundle.border_m`) plus
    :data:`MARGIN_M`, and the network is cut from ``osm`` to that once (kept in
    ``<out>/werk/<code>/``; with osmium-tool installed every pending gemeente is cut in one pass
    over a raw OSM file before the tasks start, else each task cuts its own with pyosmium), so
    residents near a border reach places across it. Finished
    gemeenten (``<out>/gemeenten/<code>.json``, written last and atomically) are skipped on a
    re-run. ``places``/``addresses``/``landuse`` are extra layers every gemeente reads (as a
    folder's own layers). Writes ``ontmoetingskaart.gpkg`` (layers buurten, wijken, gemeenten),
    ``buurten.csv``, ``wijken.csv``, ``gemeenten.csv`` and ``mislukt.csv``.
    """

    from layers.bundle import border_m

    osm, out = Path(osm), Path(out)
    kind = _kind(osm)
    grow = (border_m() if border is None else float(border)) + MARGIN_M
    tasks = gemeente_tasks(boundaries, border=grow)
    if gemeenten:
        tasks = tasks[tasks["gemeentecode"].isin(list(gemeenten))]
    names = _gemeente_names(kerncijfers, tasks["gemeentecode"])
    todo = tasks[[not gemeente_done(out, c) for c in tasks["gemeentecode"]]]
    population = [Path(kerncijfers)] if kerncijfers else []
    records: list[dict] = []
    if len(todo):
        from geo.boundaries import read_boundaries

        b = read_boundaries(boundaries)
        for code in todo["gemeentecode"]:  # each gemeente's own buurten, for its task
            dst = out / WORK_DIR / code / "buurten.gpkg"
            if not dst.is_file():
                with atomic_path(dst) as tmp:
                    b[b["gemeentecode"] == code].to_file(tmp, driver="GPKG", layer="buurten")
        if kind == "osm" and shutil.which("osmium"):  # all cuts in one pass over the file
            from geo.cut import cut_osm_many

            cuts = [(out / WORK_DIR / c / "netwerk.osm.pbf", box)
                    for c, box in zip(todo["gemeentecode"], todo["box"], strict=True)]
            cut_osm_many(osm, [(p, box) for p, box in cuts if not p.is_file()])
        client, cluster = _client(scheduler, workers, memory_limit)
        try:
            futures = {}
            for _, row in todo.iterrows():
                code = row["gemeentecode"]
                task = {"gemeentecode": code, "naam": names.get(code, code),
                        "box": row["box"], "grens": shapely.to_wkb(row["grens"])}
                pop = population if code in names.get("_in_table", {code}) else []
                futures[client.submit(
                    run_gemeente, task, osm=osm, kind=kind, out=out, profile=profile,
                    population=pop, places=[Path(p) for p in places],
                    addresses=[Path(p) for p in addresses], landuse=[Path(p) for p in landuse],
                    categories=categories, spheres=spheres, key=f"gemeente-{code}",
                    pure=False)] = code
            records = gather(futures, lambda c: {"gemeentecode": c}, quiet=quiet)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    failures = [r for r in records if r.get("status") != "ok"]
    done = [c for c in tasks["gemeentecode"] if gemeente_done(out, c)]
    write_national(out, done, failures)
    return {"gemeenten": len(tasks), "klaar": len(records) - len(failures),
            "overgeslagen": len(tasks) - len(todo), "mislukt": len(failures),
            "mislukte_gemeenten": [f["gemeentecode"] for f in failures], "uitvoer": str(out)}


def _gemeente_names(kerncijfers, codes) -> dict:
    """gemeentecode -> name (from the kerncijfers table when given), and under ``_in_table``
    the gemeenten the table holds (only they get its figures)."""
    names: dict = {}
    if kerncijfers:
        from geo.population import read_kerncijfers

        try:
            t = read_kerncijfers(kerncijfers)
        except InputError:
            return names
        if "gemeentenaam" in t:
            names.update(t.dropna(subset=["gemeentecode"]).groupby("gemeentecode")[
                "gemeentenaam"].first().to_dict())
        names["_in_table"] = set(t["gemeentecode"].dropna())
    return names


def _rollup(buurten: gpd.GeoDataFrame, by: str) -> gpd.GeoDataFrame:
    """Wijken or gemeenten from their buurten: the status is ``volledig`` only when every buurt
    is, ``buiten`` when no buurt has data, else ``rand``; only ``volledig`` areas carry figures
    (counts summed, share from the sums), the others their buurten per status instead."""
    from layers.statuses import STATUS_EDGE, STATUS_FULL, STATUS_OUT

    b = buurten.copy()
    counted = b["status"] != STATUS_OUT
    num = ["inwoners", "inwoners_65plus", "binnen_bereik_65plus", "buiten_bereik_65plus"]
    for c in num:
        b[c] = np.where(counted, b[c], np.nan)
    agg = {**{c: "sum" for c in num}, "gemeentecode": "first", "gemeentenaam": "first",
           "buurtcode": "count",
           "status": lambda s: (STATUS_FULL if (s == STATUS_FULL).all()
                                else STATUS_OUT if (s == STATUS_OUT).all() else STATUS_EDGE)}
    agg.pop(by, None)
    g = b.dissolve(by=by, aggfunc=agg).rename(columns={"buurtcode": "buurten"}).reset_index()
    for st in (STATUS_FULL, STATUS_EDGE, STATUS_OUT):
        g[f"buurten_{st}"] = b.groupby(by)["status"].apply(lambda s, st=st: int((s == st).sum())
                                                           ).reindex(g[by]).to_numpy()
    within, beyond = g["binnen_bereik_65plus"], g["buiten_bereik_65plus"]
    with np.errstate(invalid="ignore", divide="ignore"):
        g["aandeel_binnen_bereik"] = within / (within + beyond)
    full = g["status"] == STATUS_FULL
    for c in FIGURES:
        g[c] = g[c].where(full)
    return g


def write_national(out: Path, done: list[str], failures: list[dict]) -> None:
    """The national tables from the per-gemeente result files: ``ontmoetingskaart.gpkg``
    (buurten, wijken, gemeenten) and one CSV per level, plus ``mislukt.csv``."""
    from geo.export import write_gpkg

    d = Path(out) / GEMEENTE_DIR
    if done:
        buurten = pd.concat([gpd.read_parquet(d / f"{c}.parquet") for c in done],
                            ignore_index=True)
        buurten = gpd.GeoDataFrame(buurten, geometry="geometry", crs=28992)
        for c in FIGURES:
            if c not in buurten:
                buurten[c] = np.nan
        levels = {"buurten": buurten, "wijken": _rollup(buurten, "wijkcode"),
                  "gemeenten": _rollup(buurten, "gemeentecode")}
        write_gpkg(levels, Path(out) / "ontmoetingskaart.gpkg")
        for name, df in levels.items():
            write_csv(pd.DataFrame(df.drop(columns="geometry")), Path(out) / f"{name}.csv")
    log = pd.DataFrame([{"gemeentecode": f.get("gemeentecode"), "stap": f.get("stap"),
                         "fout": f.get("fout")} for f in failures],
                       columns=["gemeentecode", "stap", "fout"])
    write_csv(log, Path(out) / "mislukt.csv")
