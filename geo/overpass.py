"""Read Overpass API JSON, as osmnx caches it, into an :class:`OsmExtract`.

osmnx stores every Overpass and Nominatim answer in ``cache/<sha1 of the URL>.json``; an analyst
who ran ``graph_from_place``/``features_from_place`` therefore holds real OSM data in files with
meaningless names. They are recognised by content (:func:`overpass_kind`).
"""

from __future__ import annotations

import re
from pathlib import Path

#: JSON files larger than this are not sniffed (osmnx cache files stay well below it)
_SNIFF_MAX_BYTES = 256 * 2**20
_WAY = re.compile(rb'\{\s*"type"\s*:\s*"way"\s*,\s*"id"')
_RELATION = re.compile(rb'\{\s*"type"\s*:\s*"relation"\s*,\s*"id"')
_HIGHWAY = re.compile(rb'"highway"\s*:')
_ELEMENT = re.compile(rb'\{\s*"type"\s*:\s*"(?:node|way|relation)"\s*,\s*"id"')
#: share of ways with a highway tag above which a response is a street network
NETWORK_SHARE = 0.9


def overpass_kind(path: str | Path) -> str | None:
    """``"network"``, ``"features"``, ``"geocode"`` or ``None``, by content only.

    An Overpass response (``{"version": 0.6, ..., "elements": [...]}``) is a *network* when it
    holds ways, no relations, and at least :data:`NETWORK_SHARE` of its ways carry ``highway``
    (Overpass prints nodes, then ways, then relations, so the ``highway`` keys after the first
    way are way tags); any other non-empty response is *features*. A Nominatim search answer
    (a JSON list of results with ``place_id``) is *geocode*. Works on the raw bytes with
    regular expressions: about ten times faster than parsing the JSON.
    """
    p = Path(path)
    try:
        if p.suffix.lower() != ".json" or p.stat().st_size > _SNIFF_MAX_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    head = data[:2048].lstrip()
    if head.startswith(b"[") and b'"place_id"' in head:
        return "geocode"
    if not (head.startswith(b"{") and b'"elements"' in data[:4096]
            and b'"version"' in head):
        return None
    if not _ELEMENT.search(data):
        return None
    first_way = _WAY.search(data)
    relation = _RELATION.search(data)
    if first_way is None or relation is not None:
        return "features"
    n_ways = len(_WAY.findall(data, first_way.start()))
    n_highway = len(_HIGHWAY.findall(data, first_way.start()))
    return "network" if n_highway >= NETWORK_SHARE * n_ways else "features"
