"""Dutch number formatting for everything a person reads (units always attached)."""

from __future__ import annotations

import math


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_int(v: float | None) -> str:
    """12345.4 -> '12.345'; missing -> 'onbekend'."""
    if v is None or _missing(v):
        return "onbekend"
    return f"{round(float(v)):,}".replace(",", ".")


def fmt_pct(share: float | None, digits: int = 0) -> str:
    """0.1234 -> '12 %' (share 0–1)."""
    if share is None or _missing(share):
        return "onbekend"
    return f"{100 * float(share):.{digits}f} %".replace(".", ",")


def fmt_m(v: float | None) -> str:
    """1234.5 -> '1.235 m'."""
    if _missing(v) or (isinstance(v, float) and math.isinf(v)):
        return "onbekend"
    return f"{fmt_int(v)} m"


def esc(text: object) -> str:
    """Escape untrusted text for HTML *and* for the JavaScript template literals folium emits
    (tooltips are written as `...`), so a name can never become markup or code."""
    import html

    return html.escape(str(text), quote=True).replace("`", "&#96;").replace("$", "&#36;")


def md_text(text: object) -> str:
    """Untrusted text for a Markdown label (streamlit buttons, captions): every Markdown and
    HTML special character escaped, so a name shows literally."""
    import re

    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))
