"""Downloads behind an on-disk cache: retries with backoff, atomic files, source and date on
record, and an older copy used (with its date) when a fresh download fails.

A cached item is ``<cache>/<key>`` plus ``<key>.meta.json`` (``source``, ``url``,
``downloaded`` as ISO date-time UTC, ``bytes``). Both are written through
:func:`geo.io.atomic_path`, the data first, so a crash never leaves a partial file that looks
complete. Network access goes through ``requests`` (a ``session`` can be passed, e.g. in tests).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from geo.errors import ServiceUnavailableError
from geo.io import atomic_path

#: HTTP statuses worth retrying: the service is busy or briefly down.
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "ontmoetingskaart/0.1 (+https://github.com; open-source, CLI)"


@dataclass(frozen=True)
class Cached:
    """A cached download: its file, its record, and whether it is an older copy."""

    path: Path
    meta: dict
    stale: bool = False

    @property
    def date(self) -> str:
        """Download date as ``YYYY-MM-DD``."""
        return str(self.meta.get("downloaded", ""))[:10]

    @property
    def notice(self) -> str | None:
        """Dutch notice for the user when an older copy stands in for a failed download."""
        if not self.stale:
            return None
        return (f"{self.meta.get('source', 'bron')}: nieuwe download mislukt, gegevens van "
                f"{self.date} uit de cache gebruikt")


class RetryableError(Exception):
    """A failure a retry may cure (connection problem, timeout, HTTP 429/5xx)."""


def http_get(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    service: str,
    offline_fix: str,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """GET ``url``; retry up to ``retries`` times on connection errors, timeouts and 429/5xx,
    waiting ``backoff_s``, 2×, 4×, ... in between. Raises :class:`ServiceUnavailableError`
    naming ``service`` and ``offline_fix`` when every attempt failed or the answer is a
    non-retryable HTTP error."""
    http = session or requests.Session()
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            resp = http.get(url, params=params, timeout=timeout_s,
                            headers={"User-Agent": USER_AGENT})
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = f"geen verbinding ({type(exc).__name__})"
            continue
        if resp.status_code in RETRY_STATUS:
            last = f"HTTP {resp.status_code}"
            continue
        if resp.status_code != 200:
            last = f"HTTP {resp.status_code}"
            break
        return resp.content
    raise ServiceUnavailableError(
        f"{service} niet bereikbaar na {attempt + 1} poging(en): {last} ({url}) — "
        f"{offline_fix}")


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def read_meta(path: Path) -> dict | None:
    """The record of a cached file, or None when the file or its record is absent/broken."""
    mp = _meta_path(path)
    if not (path.is_file() and mp.is_file()):
        return None
    try:
        return json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _age_days(meta: dict) -> float:
    try:
        when = dt.datetime.fromisoformat(meta["downloaded"])
    except (KeyError, ValueError):
        return float("inf")
    return (dt.datetime.now(dt.UTC) - when).total_seconds() / 86400.0


def cached(
    cache_dir: str | Path,
    key: str,
    produce: Callable[[], bytes],
    *,
    source: str,
    url: str = "",
    max_age_days: float | None = None,
    refresh: bool = False,
) -> Cached:
    """Return the cached item ``key``, calling ``produce`` (which downloads) only when it is
    absent, older than ``max_age_days`` or ``refresh`` is set.

    When ``produce`` raises :class:`ServiceUnavailableError` and an older copy exists, that copy
    is returned with ``stale=True`` (see :attr:`Cached.notice`); without one the error
    propagates and the cache is unchanged.
    """
    path = Path(cache_dir) / key
    meta = read_meta(path)
    fresh = meta is not None and not refresh and (
        max_age_days is None or _age_days(meta) <= max_age_days)
    if fresh and meta is not None:
        return Cached(path, meta)
    try:
        data = produce()
    except ServiceUnavailableError:
        if meta is not None:
            return Cached(path, meta, stale=True)
        raise
    new_meta = {"source": source, "url": url, "bytes": len(data),
                "downloaded": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    with atomic_path(_meta_path(path)) as tmp:
        tmp.write_text(json.dumps(new_meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return Cached(path, new_meta)
