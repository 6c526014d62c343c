"""Many municipalities at once on Dask: prepare + coverage per area, one national table.

Each area runs as one task on a ``dask.distributed`` cluster (a :class:`LocalCluster` of worker
processes by default, or an existing scheduler). A task never raises: a failure comes back as a
record (area, step, error message), so one broken municipality does not stop the others. Every
finished area leaves ``<out>/gebieden/<id>.parquet`` (its buurt rows) and ``<id>.json`` (its
summary, written last, atomically); a re-run skips areas whose two files are present.

Output in ``<out>``: ``buurten.parquet``/``.csv`` (one row per buurt of every finished area),
``gemeenten.parquet``/``.csv`` (one row per area) and ``mislukt.csv``/``.json`` (what failed).
"""

from __future__ import annotations

import json
import resource
import time
import traceback
from collections.abc import Collection
from pathlib import Path

import pandas as pd

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
                   "piekgeheugen_worker_mb": round(
                       resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        d = _area_dir(out)
        with atomic_path(d / f"{aid}.parquet") as tmp:
            table.to_parquet(tmp, index=False)
        with atomic_path(d / f"{aid}.json") as tmp:
            tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        return summary
    except (InputError, ServiceUnavailableError) as exc:
        return {"gebied": aid, "status": "mislukt", "stap": step, "fout": str(exc)}
    except Exception as exc:  # a broken file can raise anything; report it, go on
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"gebied": aid, "status": "mislukt", "stap": step, "fout": last}


def _client(scheduler: str | None, workers: int):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


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
    from dask.distributed import as_completed
    from tqdm import tqdm

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
            bar = tqdm(total=len(futures), desc="Gemeenten", disable=quiet, delay=1.0)
            for fut in as_completed(futures):
                try:
                    records.append(fut.result())
                except Exception as exc:  # a worker died (e.g. out of memory)
                    records.append({"gebied": _safe_id(futures[fut]), "status": "mislukt",
                                    "stap": "worker", "fout": f"{type(exc).__name__}: {exc}"})
                bar.update(1)
            bar.close()
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

