"""Render a JSON report again, anywhere: ``python -m conformance.report REPORT.json --html OUT``.

The same pages the run writes (``--conformance-html``, ``--conformance-markdown``,
``--conformance-badge``), from the JSON report alone: a report from another machine renders the
same.  The report is validated against ``schemas/report.schema.json`` first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance._pages import write_page
from conformance._render import ReportError, load_report

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.report", description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a JSON report written with --conformance-report")
    parser.add_argument("--html", type=Path, help="write the self-contained HTML report")
    parser.add_argument("--markdown", type=Path, help="write the Markdown summary")
    parser.add_argument("--badge", type=Path, help="write the SVG badge")
    parser.add_argument("--spec-url", help="URL of the spec folder: requirements link there")
    args = parser.parse_args(argv)
    pages = {"html": args.html, "markdown": args.markdown, "badge": args.badge}
    if not any(pages.values()):
        parser.error("give at least one of --html, --markdown, --badge")
    try:
        report = load_report(args.report)
    except ReportError as exc:
        sys.stderr.write(f"conformance.report: {exc}\n")
        return 2
    for kind, path in pages.items():
        if path is not None:
            write_page(kind, report, path, spec_url=args.spec_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
