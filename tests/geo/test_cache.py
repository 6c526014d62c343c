"""Cached downloads against a real local HTTP server: reuse, retry after 503, failure without a
partial file, and an older copy used (with its date) when a fresh download fails."""

from __future__ import annotations

import json

import pytest

from geo.cache import cached, http_get, read_meta
from geo.errors import ServiceUnavailableError
from tests.http_util import LocalServer

FIX = "werk offline: zet het bestand zelf in de datamap"


def getter(srv, sleeps=None):
    def produce():
        return http_get(srv.url + "/data", service="Testdienst", offline_fix=FIX, retries=2,
                        backoff_s=0.5, sleep=(sleeps.append if sleeps is not None else
                                              lambda s: None))
    return produce


def test_download_is_cached_with_source_and_date_and_reused(tmp_path):
    with LocalServer(lambda p, q: (200, b'{"ok": 1}')) as srv:
        first = cached(tmp_path, "x/data.json", getter(srv), source="Testbron", url=srv.url)
        second = cached(tmp_path, "x/data.json", getter(srv), source="Testbron", url=srv.url)
    assert len(srv.requests) == 1  # the second call reuses the cache
    assert first.path.read_bytes() == b'{"ok": 1}' and second.path == first.path
    meta = read_meta(first.path)
    assert meta["source"] == "Testbron" and meta["bytes"] == 9 and meta["downloaded"][:2] == "20"
    assert not second.stale and second.notice is None


def test_a_503_is_retried_with_backoff_then_succeeds(tmp_path):
    answers = iter([(503, b"busy"), (503, b"busy"), (200, b"[1]")])
    sleeps: list[float] = []
    with LocalServer(lambda p, q: next(answers)) as srv:
        item = cached(tmp_path, "d.json", getter(srv, sleeps), source="Testbron")
    assert len(srv.requests) == 3 and sleeps == [0.5, 1.0]
    assert json.loads(item.path.read_text()) == [1]


def test_permanent_failure_names_the_service_and_leaves_no_file(tmp_path):
    with LocalServer(lambda p, q: (503, b"down")) as srv, pytest.raises(
            ServiceUnavailableError, match=r"Testdienst niet bereikbaar na 3 .*HTTP 503.*offline"):
        cached(tmp_path, "sub/d.json", getter(srv), source="Testbron")
    assert len(srv.requests) == 3
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_client_error_is_not_retried(tmp_path):
    with LocalServer(lambda p, q: (404, b"nope")) as srv, pytest.raises(
            ServiceUnavailableError, match="HTTP 404"):
        cached(tmp_path, "d.json", getter(srv), source="Testbron")
    assert len(srv.requests) == 1


def test_an_older_copy_stands_in_for_a_failed_refresh_and_says_its_date(tmp_path):
    with LocalServer(lambda p, q: (200, b"old")) as srv:
        first = cached(tmp_path, "d.json", getter(srv), source="Testbron")
    with LocalServer(lambda p, q: (500, b"")) as srv:
        again = cached(tmp_path, "d.json", getter(srv), source="Testbron", refresh=True)
    assert again.stale and again.path.read_bytes() == b"old"
    assert again.notice == f"Testbron: nieuwe download mislukt, gegevens van {first.date} " \
                           "uit de cache gebruikt"


def test_a_copy_older_than_max_age_is_downloaded_again(tmp_path):
    with LocalServer(lambda p, q: (200, b"new")) as srv:
        item = cached(tmp_path, "d.json", getter(srv), source="Testbron")
        meta_path = item.path.with_name("d.json.meta.json")
        meta = json.loads(meta_path.read_text())
        meta["downloaded"] = "2020-01-01T00:00:00+00:00"
        meta_path.write_text(json.dumps(meta))
        cached(tmp_path, "d.json", getter(srv), source="Testbron", max_age_days=30)
        cached(tmp_path, "d.json", getter(srv), source="Testbron", max_age_days=30)
    assert len(srv.requests) == 2
