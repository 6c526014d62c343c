"""CBS buurten with residents and 65+ share from PDOK's WFS "CBS Wijken en Buurten".

Service (one per year): ``https://service.pdok.nl/cbs/wijkenbuurten/<jaar>/wfs/v1_0``, WFS 2.0,
feature type ``wijkenbuurten:buurten``, ``outputFormat=application/json``. Fields used:
``buurtcode``, ``buurtnaam``, ``wijkcode``, ``gemeentecode``, ``gemeentenaam``, ``water``
(``JA``/``NEE``; the water part of a buurt is a separate feature), ``aantalInwoners`` and
``percentagePersonen65JaarEnOuder`` (whole percent; CBS secrecy codes are negative numbers such
as -99997), which :func:`geo.boundaries.read_boundaries` understands. Licence CC BY 4.0 (CBS).

The gemeente is selected with an OGC filter on ``gemeentecode`` (``GM0344``) or, for a name,
``gemeentenaam`` (case-insensitive); pages of :data:`PAGE_SIZE` features are requested until a
short page. The merged answer is cached as GeoJSON in EPSG:28992 (see :mod:`geo.cache`).
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape

import requests

from geo.cache import Cached, cached, http_get
from geo.errors import InputError, ServiceUnavailableError

WFS_URL = "https://service.pdok.nl/cbs/wijkenbuurten/{year}/wfs/v1_0"
TYPENAME = "wijkenbuurten:buurten"
DEFAULT_YEAR = 2024
PAGE_SIZE = 1000
SERVICE = "PDOK WFS CBS Wijken en Buurten"
SOURCE = "CBS Wijk- en Buurtkaart via PDOK WFS (CC BY 4.0, © CBS)"
OFFLINE_FIX = (
    "werk offline: download de CBS Wijk- en Buurtkaart (GeoPackage) van cbs.nl en geef die "
    "op met `ontmoet prepare --buurten BESTAND`, of probeer het later opnieuw"
)
_RD_CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
_CODE = re.compile(r"^GM\d{4}$", re.IGNORECASE)


def is_gemeentecode(text: str) -> bool:
    return bool(_CODE.match(text.strip()))


def gemeente_filter(gemeente: str) -> str:
    """OGC Filter Encoding 2.0 on ``gemeentecode`` (a GM code) or ``gemeentenaam``."""
    g = gemeente.strip()
    field, value, case = (("gemeentecode", g.upper(), "true") if is_gemeentecode(g)
                          else ("gemeentenaam", g, "false"))
    return ('<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">'
            f'<fes:PropertyIsEqualTo matchCase="{case}">'
            f"<fes:ValueReference>{field}</fes:ValueReference>"
            f"<fes:Literal>{escape(value)}</fes:Literal>"
            "</fes:PropertyIsEqualTo></fes:Filter>")


def getfeature_params(gemeente: str, *, start: int = 0, count: int | None = None) -> dict:
    return {"service": "WFS", "version": "2.0.0", "request": "GetFeature",
            "typeNames": TYPENAME, "outputFormat": "application/json",
            "srsName": "EPSG:28992", "count": str(count or PAGE_SIZE), "startIndex": str(start),
            "filter": gemeente_filter(gemeente)}


def _page(content: bytes, url: str) -> list[dict]:
    try:
        doc = json.loads(content)
        feats = doc["features"]
    except (ValueError, KeyError, TypeError) as exc:
        head = content[:200].decode("utf-8", errors="replace")
        raise ServiceUnavailableError(
            f"{SERVICE} gaf geen GeoJSON ({url}): {head!r} — {OFFLINE_FIX}") from exc
    if not isinstance(feats, list):
        raise ServiceUnavailableError(f"{SERVICE} gaf geen lijst met features ({url})")
    return feats


def download_buurten(
    gemeente: str,
    *,
    year: int = DEFAULT_YEAR,
    base_url: str | None = None,
    session: requests.Session | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
) -> bytes:
    """All land buurten of one gemeente as a GeoJSON FeatureCollection in EPSG:28992.

    Raises InputError when the service knows no such gemeente, ServiceUnavailableError when it
    cannot be reached or answers something else than GeoJSON.
    """
    url = base_url or WFS_URL.format(year=year)
    feats: list[dict] = []
    while True:
        content = http_get(url, params=getfeature_params(gemeente, start=len(feats),
                                                         count=PAGE_SIZE),
                           service=SERVICE, offline_fix=OFFLINE_FIX, retries=retries,
                           backoff_s=backoff_s, session=session)
        page = _page(content, url)
        feats += page
        if len(page) < PAGE_SIZE:
            break
    land = [f for f in feats if (f.get("properties") or {}).get("water", "NEE") != "JA"]
    if not land:
        raise InputError(
            f"gemeente {gemeente!r} niet gevonden in CBS Wijken en Buurten {year}",
            fix="geef de CBS-gemeentecode (bijvoorbeeld GM0344) of de officiële naam "
                "(bijvoorbeeld Utrecht, 's-Hertogenbosch)")
    out = {"type": "FeatureCollection", "crs": _RD_CRS, "features": land}
    return json.dumps(out, ensure_ascii=False).encode("utf-8")


def fetch_buurten(
    gemeente: str,
    *,
    cache_dir,
    year: int = DEFAULT_YEAR,
    base_url: str | None = None,
    session: requests.Session | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    refresh: bool = False,
    max_age_days: float | None = None,
) -> Cached:
    """:func:`download_buurten` behind the cache ``<cache>/pdok/``; a second call reuses it."""
    slug = re.sub(r"[^a-z0-9]+", "-", gemeente.strip().lower()).strip("-") or "gemeente"
    url = base_url or WFS_URL.format(year=year)
    return cached(
        cache_dir, f"pdok/buurten_{year}_{slug}.geojson",
        lambda: download_buurten(gemeente, year=year, base_url=base_url, session=session,
                                 retries=retries, backoff_s=backoff_s),
        source=f"{SOURCE}, {year}", url=url, refresh=refresh, max_age_days=max_age_days)


def gemeente_of(item: Cached) -> tuple[str, str]:
    """(gemeentecode, gemeentenaam) of a cached buurten download."""
    doc = json.loads(item.path.read_text(encoding="utf-8"))
    props = doc["features"][0]["properties"]
    return str(props.get("gemeentecode", "")), str(props.get("gemeentenaam", ""))
