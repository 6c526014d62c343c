"""Upload helpers: the size limit's sources and the file name used on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers import uploads


def test_limit_from_config_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(uploads.MAX_UPLOAD_ENV, raising=False)
    assert uploads.max_upload_mb() == 50.0  # the project's .streamlit/config.toml
    cfg = tmp_path / "config.toml"
    cfg.write_text("[server]\nmaxUploadSize = 7\n")
    assert uploads.max_upload_mb(cfg) == 7.0
    cfg.write_text("[server\nkapot")
    assert uploads.max_upload_mb(cfg) == uploads.DEFAULT_MAX_MB
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "12,5")
    assert uploads.max_upload_mb(cfg) == 12.5
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "veel")
    assert uploads.max_upload_mb() == 50.0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\gemeente\\Plekken 2024 (def).XLSX", "Plekken_2024_def.xlsx"),
        ("<script>alert(1)</script>.geojson", "script.geojson"),
        ("....", "upload"),
        ("buurten.shp.zip", "buurten_shp.zip"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert uploads.safe_name(name) == expected


def test_upload_names_the_uploaded_file_not_the_temp_copy() -> None:
    res = uploads.read_upload("../mijn plekken.csv", b"naam;adres\nDomtoren;Domplein 21\n",
                              kind="voorzieningen")
    assert res.gdf is None and res.error is not None
    text = str(res.error)
    assert text.startswith("mijn plekken.csv: ") and "ontmoet-upload" not in text
    assert "coördinaten" in text and "oplossing" in text
