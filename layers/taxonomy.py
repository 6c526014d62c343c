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


#: Keys of data/taxonomy.toml: required and optional, per level (as geopandas' Options refuses
#: unknown option names, a typo here is refused instead of silently ignored).
Keys = tuple[set[str], set[str]]  # (required, optional)
TOP_KEYS: Keys = ({"spheres", "categories"}, set())
SPHERE_KEYS: Keys = ({"label"}, set())
CATEGORY_KEYS: Keys = (
    {"id", "label", "sphere", "rules"}, {"colour", "exclude", "local_words", "access"},
)
ACCESS_VALUES = ("point", "edge")


def _check_keys(table: object, keys: Keys, *, where: str, path: Path) -> dict:
    """``table`` as a dict; InputError naming the unknown or missing key and the allowed keys."""
    required, optional = keys
    allowed = ", ".join(sorted(required | optional))
    if not isinstance(table, dict):
        raise InputError(f"{where} is geen tabel maar {type(table).__name__}", path=path,
                         fix=f"schrijf {where} als TOML-tabel met de sleutels {allowed}")
    for key in table:
        if key not in required | optional:
            raise InputError(f"onbekende sleutel {key!r} in {where}", path=path,
                             fix=f"toegestane sleutels: {allowed}")
    for key in sorted(required):
        if key not in table:
            raise InputError(f"sleutel {key!r} ontbreekt in {where}", path=path,
                             fix=f"vul {key!r} in; verplichte sleutels: "
                                 f"{', '.join(sorted(required))}; toegestane sleutels: {allowed}")
    return table


def _check_rules(rules: object, *, where: str, path: Path) -> tuple[dict, ...]:
    """Rules: a list of tables of tag = value, "*" or a list of values."""
    fix = 'schrijf regels als [ { tag = "waarde" }, { tag = ["a", "b"] }, { tag = "*" } ]'
    if not isinstance(rules, list):
        raise InputError(f"{where} is geen lijst", path=path, fix=fix)
    for rule in rules:
        if not isinstance(rule, dict) or not rule:
            raise InputError(f"{where} bevat {rule!r}: geen tabel van tag = waarde", path=path,
                             fix=fix)
        for tag, want in rule.items():
            values = want if isinstance(want, list) else [want]
            if not values or not all(isinstance(v, str) for v in values):
                raise InputError(f"{where}: tag {tag!r} heeft waarde {want!r}", path=path,
                                 fix=fix)
    return tuple(rules)


def _check_words(words: object, *, where: str, path: Path) -> tuple[str, ...]:
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise InputError(f"{where} is geen lijst van woorden", path=path,
                         fix='schrijf local_words = ["woord", "ander woord"]')
    return tuple(w.lower() for w in words)


def load_taxonomy(path: str | Path = TAXONOMY_FILE) -> Taxonomy:
    """The taxonomy in ``path``, validated.

    Unknown keys (a typo such as ``local_word``), missing keys, unknown spheres, an ``access``
    other than "point"/"edge", malformed rules and repeated category ids raise ``InputError``
    naming the key, the allowed keys and the file. The result is cached per file content, so an
    edited file is read anew.
    """
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns, path.stat().st_size
    except OSError:
        stamp = (0, 0)  # read_toml below names the file and the problem
    return _load_taxonomy(path, stamp)


@lru_cache(maxsize=8)
def _load_taxonomy(path: Path, _stamp: tuple[int, int]) -> Taxonomy:
    raw = read_toml(
        path, what="taxonomie", fix="herstel de TOML-syntax of haal data/taxonomy.toml uit git"
    )
    _check_keys(raw, TOP_KEYS, where="het bestand", path=path)
    if not isinstance(raw["spheres"], dict) or not raw["spheres"]:
        raise InputError("[spheres] ontbreekt of is leeg", path=path,
                         fix='geef elke sfeer een tabel: [spheres.naam] met label = "..."')
    spheres: dict[str, str] = {}
    for sid, table in raw["spheres"].items():
        sphere = _check_keys(table, SPHERE_KEYS, where=f"[spheres.{sid}]", path=path)
        spheres[sid] = str(sphere["label"])
    if not isinstance(raw["categories"], list) or not raw["categories"]:
        raise InputError("[[categories]] ontbreekt of is leeg", path=path,
                         fix="geef minstens één [[categories]]-blok met id, label, sphere, rules")
    cats: list[Category] = []
    for i, table in enumerate(raw["categories"], start=1):
        where = f"categorie {table.get('id', i)!r}" if isinstance(table, dict) else f"categorie {i}"
        c = _check_keys(table, CATEGORY_KEYS, where=where, path=path)
        if c["sphere"] not in spheres:
            raise InputError(f"{where} heeft onbekende sfeer {c['sphere']!r}", path=path,
                             fix=f"kies een van {', '.join(sorted(spheres))}")
        access = c.get("access", "point")
        if access not in ACCESS_VALUES:
            raise InputError(f"{where} heeft access = {access!r}", path=path,
                             fix=f"kies een van {', '.join(ACCESS_VALUES)}")
        if any(c["id"] == other.id for other in cats) or c["id"] == OTHER:
            raise InputError(f"categorie-id {c['id']!r} komt twee keer voor", path=path,
                             fix=f"geef elke categorie een eigen id (niet {OTHER!r})")
        cats.append(Category(
            id=str(c["id"]), label=str(c["label"]), sphere=c["sphere"],
            colour=str(c.get("colour", "#444444")),
            rules=_check_rules(c["rules"], where=f"{where}: rules", path=path),
            exclude=_check_rules(c.get("exclude", []), where=f"{where}: exclude", path=path),
            local_words=_check_words(c.get("local_words", []), where=f"{where}: local_words",
                                     path=path),
            access=access,
        ))
    return Taxonomy(tuple(cats), spheres)
