"""data/taxonomy.toml is validated: a typo or a missing key is refused, naming key and file."""

from __future__ import annotations

import tomllib

import pytest

from geo.errors import InputError
from layers.taxonomy import CATEGORY_KEYS, TAXONOMY_FILE, load_taxonomy

REAL = TAXONOMY_FILE.read_text(encoding="utf-8")


def _variant(tmp_path, old: str, new: str):
    """The real taxonomy with one textual change, written to a temporary file."""
    assert old in REAL, old
    p = tmp_path / f"taxonomy_{abs(hash((old, new)))}.toml"
    p.write_text(REAL.replace(old, new, 1), encoding="utf-8")
    return p


def _refused(path, *words: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_taxonomy(path)
    text = str(info.value)
    assert str(path) in text
    for w in words:
        assert w in text, (w, text)
    return info.value


def test_real_taxonomy_loads_every_category_of_the_file():
    tax = load_taxonomy()
    raw = tomllib.loads(REAL)
    assert [c.id for c in tax.categories] == [c["id"] for c in raw["categories"]]
    assert set(tax.spheres) == set(raw["spheres"])
    park = tax.by_id("park")
    assert park.access == "edge" and park.exclude


def test_unknown_category_key_is_refused_with_the_allowed_keys(tmp_path):
    # a typo: 'local_word' would silently drop every local word of the category
    p = _variant(tmp_path, 'local_words = ["buurthuis"', 'local_word = ["buurthuis"')
    err = _refused(p, "'local_word'", "buurthuis")
    for key in CATEGORY_KEYS[0] | CATEGORY_KEYS[1]:
        assert key in err.fix


def test_missing_category_key_is_refused(tmp_path):
    p = _variant(tmp_path, 'sphere = "institutioneel"\ncolour = "#0072B2"\n',
                 'colour = "#0072B2"\n')
    _refused(p, "'sphere'", "ontbreekt", "bibliotheek")


def test_unknown_top_level_and_sphere_keys_are_refused(tmp_path):
    p = _variant(tmp_path, "[spheres.persoonlijk]", "[sferen.persoonlijk]\nlabel = 'x'\n"
                 "[spheres.persoonlijk]")
    _refused(p, "'sferen'", "categories", "spheres")
    p = _variant(tmp_path, 'label = "Persoonlijke sfeer"', 'lable = "Persoonlijke sfeer"')
    _refused(p, "'lable'", "spheres.persoonlijk", "label")


def test_bad_values_are_refused(tmp_path):
    _refused(_variant(tmp_path, 'access = "edge"\nrules', 'access = "rand"\nrules'),
             "'rand'", "edge")
    _refused(_variant(tmp_path, 'sphere = "institutioneel"', 'sphere = "institutionel"'),
             "institutionel", "gemeenschappelijk")
    _refused(_variant(tmp_path, '{ amenity = "library" }', '{ amenity = 3 }'), "amenity")
    _refused(_variant(tmp_path, 'id = "bibliotheek"', 'id = "buurthuis"'), "twee keer")
    _refused(_variant(tmp_path, 'local_words = ["park", "plantsoen"]', 'local_words = "park"'),
             "local_words")


def test_broken_toml_names_the_file(tmp_path):
    p = _variant(tmp_path, "[[categories]]", "[[categories]")
    _refused(p, "onleesbaar")
