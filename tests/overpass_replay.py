"""Real recorded Overpass answers, served to osmnx through osmnx's own cache.

osmnx names a cache file by the SHA-1 of the Overpass request URL (see
``../shared/data/README.md``). The recorded files in ``../shared/data/*/osmnx_cache/`` were made
for other polygons than ours, so their names cannot match our queries. :func:`install` wraps
osmnx's request function: before osmnx looks a query up in its cache folder, the matching real
answer is written there under the name osmnx computes for *this* query, and osmnx's own code
then finds and reads it. Network access is refused (``requests.post``), so a query without a
recorded answer fails instead of reaching the internet.

Which answer a query gets: a network query (``way["highway"]…``) gets the recorded network
answers merged (elements de-duplicated by type and id; these are Overpass answers for the same
city a few minutes to weeks apart, the newest copy of an element wins); a feature query gets
the union of the recorded answers whose tag it asks for (``["leisure"="park"]`` or
``["leisure"]``), or Overpass's answer for nothing found. Nothing in an answer is made up.
"""

from __future__ import annotations

import json
import re
from hashlib import sha1
from pathlib import Path

import requests
import shapely

_TAG = re.compile(r"\['([^']+)'(?:='([^']+)')?\]\(poly:'([^']+)'\)")
_POLY = re.compile(r"\(poly:'([^']+)'\)")


def merge(answers: list[dict]) -> dict:
    """One Overpass answer holding every element of ``answers`` once (newest answer wins)."""
    answers = sorted(answers, key=lambda a: a.get("osm3s", {}).get("timestamp_osm_base", ""))
    elements: dict[tuple[str, int], dict] = {}
    for a in answers:
        for e in a["elements"]:
            elements[(e["type"], e["id"])] = e
    out = dict(answers[-1]) if answers else {"version": 0.6}
    out["elements"] = list(elements.values())
    return out


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def query_polygons(query: str) -> list[shapely.Polygon]:
    """The polygons (lon/lat) of an Overpass query's ``poly:"lat lon …"`` filters."""
    out = []
    for coords in dict.fromkeys(_POLY.findall(query)):
        v = [float(t) for t in coords.split()]
        out.append(shapely.Polygon(list(zip(v[1::2], v[0::2], strict=True))))
    return out


class OverpassReplay:
    """Recorded answers: ``network`` (list of files) and ``features`` ({(key, value): file})."""

    def __init__(self, *, network: list[Path] = (), features: dict | None = None) -> None:
        self.network = merge([load(p) for p in network]) if network else None
        self.features = {k: load(p) for k, p in (features or {}).items()}
        self.queries: list[str] = []

    def answer(self, query: str) -> dict:
        if 'way["highway"]' in query:
            if self.network is None:
                raise AssertionError("no recorded network answer for " + query[:120])
            return self.network
        asked = {(k, v or None) for k, v, _poly in _TAG.findall(query)}
        hits = [a for (k, v), a in self.features.items() if (k, v) in asked or (k, None) in asked]
        return merge(hits) if hits else {"version": 0.6, "elements": []}

    def install(self, monkeypatch) -> None:
        import osmnx._overpass as op

        original = op._overpass_request

        def seeded(data):
            query = data["data"]
            self.queries.append(query)
            url = op.settings.overpass_url.rstrip("/") + "/interpreter"
            prepared = str(requests.Request("GET", url, params=data).prepare().url)
            name = sha1(prepared.encode("utf-8")).hexdigest() + ".json"  # noqa: S324 (osmnx's)
            target = Path(op.settings.cache_folder) / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(self.answer(query)), encoding="utf-8")
            return original(data)

        def refuse(*_args, **_kwargs):
            raise AssertionError("osmnx tried to reach the internet")

        monkeypatch.setattr(op, "_overpass_request", seeded)
        monkeypatch.setattr(op.requests, "post", refuse)
