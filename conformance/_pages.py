"""Writes the pages of one report: the HTML report, the Markdown summary, the badge.

Apart from :mod:`conformance._render`, which the page modules import, so that no import circle forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["write_page"]


def write_page(kind: str, report: dict[str, Any], path: Path, *, spec_url: str | None = None) -> None:
    """Render ``report`` as ``kind`` (markdown, html or badge) into ``path``."""
    if kind == "markdown":
        from conformance._markdown import render
    elif kind == "html":
        from conformance._html import render
    elif kind == "badge":
        from conformance._badge import render
    else:
        msg = f"no page of kind {kind!r}: markdown, html or badge"
        raise ValueError(msg)
    text = render(report, spec_url=spec_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
