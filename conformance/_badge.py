"""The SVG badge of one report (``--conformance-badge``): shields.io's flat style, written by hand.

Left: the spec version checked.  Right: MUST requirements passed out of those in scope and claimed
(a requirement skipped because its capability is not claimed does not count).  The colour is the
verdict's: green conformant, red not conformant, yellow incomplete.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from conformance._render import must_score

COLOURS = {"conformant": "#44cc11", "not-conformant": "#e05d44", "incomplete": "#dfb317"}

#: Advance widths of Verdana at 11 px (what shields.io measures with), for the characters a badge uses.
_NARROW = dict.fromkeys("ijlI.,:;!|' ", 3.5) | dict.fromkeys("frt()[]/-", 4.5)
_WIDE = dict.fromkeys("mwMW", 10.5) | dict.fromkeys("ABCDEGHKNOPQRSUVXYZ", 8.0)


def text_width(text: str) -> float:
    return sum(_NARROW.get(c, _WIDE.get(c, 7.0)) for c in text)


def render(report: dict[str, Any], *, spec_url: str | None = None) -> str:  # noqa: ARG001  # one signature for every page
    passed, total = must_score(report)
    verdict = report["summary"]["verdict"]
    label = f"conformance · spec {report['spec_version']}"
    message = f"{passed}/{total} MUST"
    colour = COLOURS[verdict]
    left = round(text_width(label) + 12)
    right = round(text_width(message) + 12)
    width = left + right
    title = f"{label}: {message} passed, {verdict.replace('-', ' ')}"

    def text(x: float, value: str) -> str:
        shadow = f'<text x="{x:g}" y="15" fill="#010101" fill-opacity=".3">{escape(value)}</text>'
        return shadow + f'<text x="{x:g}" y="14">{escape(value)}</text>'

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f"aria-label={quoteattr(title)}>"
        f"<title>{escape(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="11">'
        f"{text(left / 2, label)}{text(left + right / 2, message)}</g></svg>\n"
    )
