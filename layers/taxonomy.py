"""The meeting-place taxonomy (``data/taxonomy.toml``): OSM tags and local words -> category."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from geo.errors import InputError
from geo.io import read_toml
from geo.settings import REPO_ROOT

TAXONOMY_FILE = REPO_ROOT / "data" / "taxonomy.toml"
OTHER = "overig"


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    sphere: str
    colour: str
    rules: tuple[dict, ...]
    exclude: tuple[dict, ...] = ()
    local_words: tuple[str, ...] = ()
    access: str = "point"  # "edge": reached at its edge (parks)


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    spheres: dict[str, str] = field(default_factory=dict)  # id -> label

    def by_id(self, cat_id: str) -> Category:
        for c in self.categories:
            if c.id == cat_id:
                return c
        raise KeyError(cat_id)

    @property
    def osm_keys(self) -> tuple[str, ...]:
        """Tag keys that pre-select OSM candidates (first key of every rule)."""
        keys = {next(iter(r)) for c in self.categories for r in c.rules if r}
        return tuple(sorted(keys))

    def classify(self, tags: dict[str, str]) -> str | None:
        """The category id for an OSM object, or None when it is no meeting place."""
        for c in self.categories:
            if any(_matches(r, tags) for r in c.rules):
                if any(_matches(r, tags) for r in c.exclude):
                    return None
                return c.id
        return None

    def classify_local(self, text: str | None) -> str:
        """Category id for a category word from a municipality's list ("overig" if unknown)."""
        t = (text or "").strip().lower()
        if not t:
            return OTHER
        for c in self.categories:
            if t == c.id or t == c.label.lower():
                return c.id
        for c in self.categories:
            if any(w in t for w in c.local_words):
                return c.id
        return OTHER

    def label(self, cat_id: str) -> str:
        if cat_id == OTHER:
            return "Overige ontmoetingsplek (lokale lijst)"
        return self.by_id(cat_id).label

    def sphere_of(self, cat_id: str) -> str:
        if cat_id == OTHER:
            return "gemeenschappelijk"
        return self.by_id(cat_id).sphere

    def colour(self, cat_id: str) -> str:
        if cat_id == OTHER:
            return "#444444"
        return self.by_id(cat_id).colour


def _matches(rule: dict, tags: dict[str, str]) -> bool:
    for key, want in rule.items():
        have = tags.get(key)
        if have is None:
            return False
        if want == "*":
            continue
        options = want if isinstance(want, list) else [want]
        if "*" in options:
            continue
        values = {v.strip() for v in have.split(";")}
        if not values.intersection(options):
            return False
    return True


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    raw = read_toml(
        path, what="taxonomie", fix="herstel de TOML-syntax of haal data/taxonomy.toml uit git"
    )
    spheres = {k: v.get("label", k) for k, v in raw.get("spheres", {}).items()}
    cats = []
    for c in raw.get("categories", []):
        if c.get("sphere") not in spheres:
            raise InputError(f"categorie {c.get('id')!r} heeft onbekende sfeer {c.get('sphere')!r}",
                             path=path, fix=f"kies een van {sorted(spheres)}")
        cats.append(Category(
            id=c["id"], label=c["label"], sphere=c["sphere"], colour=c.get("colour", "#444444"),
            rules=tuple(c.get("rules", [])), exclude=tuple(c.get("exclude", [])),
            local_words=tuple(w.lower() for w in c.get("local_words", [])),
            access=c.get("access", "point"),
        ))
    return Taxonomy(tuple(cats), spheres)
