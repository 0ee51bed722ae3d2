"""The HTML report of one run (``--conformance-html``): one file, no external assets.

Rendered from the JSON report alone.  Top: the verdict, the counts, and a list of what failed.
Then a filter (by outcome, and by text), and per area every requirement with its level, title
and normative sentence; a failure shows each failing test's kind, its text (expected and got;
for a model test, every distinct failure with its program) and the command that reruns it.
Known (baselined) failures are marked apart.  Works offline and without JavaScript (everything
is shown; the filter is the only script).
"""

from __future__ import annotations

import html
import re
from typing import Any

from conformance._render import (
    OUTCOMES,
    failing_tests,
    in_scope,
    must_score,
    portable,
    rerun_command,
    spec_link,
    statement,
    transport,
)

__all__ = ["CSS", "esc", "page", "render", "sentence_html"]

FAILING = ("failed", "not-testable")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def sentence_html(text: str) -> str:
    """A normative sentence, its Markdown (`code`, **MUST**) shown as such; everything else escaped."""
    out = esc(" ".join(text.split()))
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--pass:#1a7f37;--fail:#cf222e;
--warn:#9a6700;--skip:#6e7781;--known:#8250df;--link:#0969da;--hi:#fff8c5}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--panel:#161b22;--line:#30363d;
--pass:#3fb950;--fail:#f85149;--warn:#d29922;--skip:#8b949e;--known:#a371f7;--link:#58a6ff;--hi:#3b2e00}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:80rem;padding:1rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--link)}
h1{font-size:1.5rem;margin:.2rem 0}
h2{font-size:1.2rem;margin:1.6rem 0 .4rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem;margin:.3rem 0;
white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%}
.verdict{display:inline-block;font-weight:700;font-size:1.1rem;padding:.2rem .7rem;border-radius:2rem;color:#fff;
margin:.2rem 0}
.v-conformant{background:var(--pass)}.v-not-conformant{background:var(--fail)}.v-incomplete{background:var(--warn)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.6rem 0;color:var(--muted)}
.meta dt{font-weight:600}.meta dd{margin:0}
.counts{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;padding:0;margin:.6rem 0}
.counts li{border:1px solid var(--line);border-radius:6px;padding:.2rem .6rem;background:var(--panel)}
.counts b{font-size:1.1rem}
.chip{display:inline-block;font-size:.8rem;font-weight:600;padding:0 .45rem;border-radius:1rem;color:#fff;
white-space:nowrap}
.o-passed{--c:var(--pass)}.o-failed,.o-not-testable{--c:var(--fail)}.o-skipped{--c:var(--skip)}
.o-not-tested{--c:var(--warn)}.o-known{--c:var(--known)}
.chip{background:var(--c,var(--skip))}.counts li{border-left:4px solid var(--c,var(--line))}
.filter{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:.35rem;align-items:center;padding:.5rem 0;
background:var(--bg);border-bottom:1px solid var(--line)}
.filter button{font:inherit;font-size:.9rem;padding:.25rem .6rem;border:1px solid var(--line);border-radius:6px;
background:var(--panel);color:var(--fg);cursor:pointer}
.filter button[aria-pressed=true]{background:var(--fg);color:var(--bg)}
.filter input{font:inherit;flex:1 1 12rem;min-width:0;padding:.25rem .5rem;border:1px solid var(--line);
border-radius:6px;background:var(--bg);color:var(--fg)}
.shown{color:var(--muted);font-size:.85rem}
.req{border:1px solid var(--line);border-left:4px solid var(--c,var(--line));border-radius:6px;margin:.35rem 0;
background:var(--bg)}
.req>details>summary{cursor:pointer;padding:.35rem .6rem;list-style-position:inside}
.req .body{padding:0 .8rem .6rem}
.req.known{border-left-color:var(--known)}
.level{font-size:.8rem;font-weight:600;color:var(--muted)}
.statement{margin:.3rem 0;padding:.2rem .8rem;border-left:3px solid var(--line);color:var(--fg)}
.small{font-size:.85rem;color:var(--muted)}
.failure{margin:.6rem 0;padding-top:.3rem;border-top:1px dashed var(--line)}
.failure h4{margin:.2rem 0;font-size:.9rem;font-weight:600}
.rerun{display:flex;gap:.4rem;align-items:flex-start}
.rerun pre{flex:1;min-width:0;user-select:all;-webkit-user-select:all;cursor:text}
.rerun button{font:inherit;font-size:.8rem;padding:.2rem .5rem;margin-top:.3rem;border:1px solid var(--line);
border-radius:6px;background:var(--panel);color:var(--fg);cursor:pointer}
.knownbox{border:1px solid var(--known);border-radius:6px;padding:.3rem .6rem;margin:.4rem 0}
.tests ul{margin:.2rem 0;padding-left:1.2rem}
.failing-list{margin:.4rem 0;padding-left:1.2rem}
[hidden]{display:none!important}
.table-wrap{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;font-size:.9rem;overflow-wrap:normal}
#columns th,#columns td,.verdict{white-space:nowrap}
#matrix thead th{min-width:8rem}
th,td{border-bottom:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:var(--panel)}
th.rid{position:sticky;left:0;background:var(--bg);min-width:9rem;max-width:18rem;font-weight:400}
tr.differs>*{background:var(--hi)}
tr.area-row th{background:var(--panel);font-weight:700}
@media (max-width:600px){body{padding:.6rem;font-size:14px}.meta{grid-template-columns:1fr}.meta dd{margin-bottom:.3rem}
th.rid{min-width:6.5rem;max-width:9rem}}
"""

#: The filter: buttons by outcome, a text box; areas with nothing shown are hidden.  No console output.
SCRIPT = """
(function(){
  var items=[].slice.call(document.querySelectorAll('[data-outcome]'));
  var groups=[].slice.call(document.querySelectorAll('[data-group]'));
  var buttons=[].slice.call(document.querySelectorAll('[data-filter]'));
  var search=document.getElementById('search'), shown=document.getElementById('shown');
  var mode='all';
  function match(el){
    var o=el.getAttribute('data-outcome'), known=el.getAttribute('data-known')==='1';
    var ok = mode==='all' || (mode==='failing' && (o==='failed'||o==='not-testable')) ||
      (mode==='known' && known) || (mode==='differs' && el.getAttribute('data-differs')==='1') || mode===o;
    var q=(search&&search.value||'').trim().toLowerCase();
    return ok && (!q || (el.getAttribute('data-text')||'').indexOf(q)>=0);
  }
  function apply(){
    var n=0;
    items.forEach(function(el){var m=match(el); el.hidden=!m; if(m){n++;}});
    groups.forEach(function(g){
      var any=false;
      if(g.tagName==='TR'){
        for(var s=g.nextElementSibling; s && !s.hasAttribute('data-group'); s=s.nextElementSibling){
          if(!s.hidden){any=true;break;}
        }
      } else { any=!!g.querySelector('[data-outcome]:not([hidden])'); }
      g.hidden=!any;
    });
    if(shown){shown.textContent=n+' of '+items.length+' shown';}
  }
  buttons.forEach(function(b){b.addEventListener('click',function(){
    mode=b.getAttribute('data-filter');
    buttons.forEach(function(x){x.setAttribute('aria-pressed', x===b?'true':'false');});
    apply();
  });});
  if(search){search.addEventListener('input',apply);}
  [].slice.call(document.querySelectorAll('button.copy')).forEach(function(b){
    b.addEventListener('click',function(){
      var pre=document.getElementById(b.getAttribute('data-for'));
      var range=document.createRange(); range.selectNodeContents(pre);
      var sel=window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      // Selected at once (the selection is made); Copied once the clipboard, if any, has taken it.
      b.textContent='Selected';
      try{
        if(navigator.clipboard&&window.isSecureContext){
          navigator.clipboard.writeText(pre.textContent).then(function(){b.textContent='Copied';},function(){});
        }
      }catch(e){}
    });
  });
  apply();
})();
"""


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        '<link rel="icon" href="data:,">'  # no favicon request, so no 404 in the console
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n"
        f"<script>{SCRIPT}</script>\n</body></html>\n"
    )


def filter_bar(buttons: list[tuple[str, str, int]], placeholder: str) -> str:
    parts = [
        f'<button type="button" data-filter="{esc(key)}" aria-pressed="{"true" if i == 0 else "false"}">'
        f"{esc(label)} ({count})</button>"
        for i, (key, label, count) in enumerate(buttons)
    ]
    return (
        '<nav class="filter" aria-label="Filter">'
        + "".join(parts)
        + f'<input type="search" id="search" placeholder="{esc(placeholder)}" aria-label="{esc(placeholder)}">'
        + '<span class="shown" id="shown" aria-live="polite"></span></nav>'
    )


def chip(outcome: str, *, known: bool = False) -> str:
    label = f"{outcome} · known" if known else outcome
    cls = "o-known" if known else f"o-{outcome}"
    return f'<span class="chip {cls}">{esc(label)}</span>'


def failure_block(report: dict[str, Any], row: dict[str, Any], test: dict[str, Any], anchor: str) -> str:
    kind = test.get("failure_kind", test["outcome"])
    known = " · known (baseline)" if test.get("known") else ""
    parts = [
        (
            f'<div class="failure"><h4><code>{esc(portable(test["nodeid"]))}</code> '
            f'<span class="small">{esc(kind)}{known}</span></h4>'
        )
    ]
    if test.get("message"):
        parts.append(f'<pre class="message">{esc(portable(test["message"]))}</pre>')
    command = rerun_command(report, row, test)
    parts.append(
        f'<div class="rerun"><pre class="rerun-cmd" id="{esc(anchor)}" title="rerun this test">{esc(command)}</pre>'
        f'<button type="button" class="copy" data-for="{esc(anchor)}">Copy</button></div></div>'
    )
    return "".join(parts)


def _meta(report: dict[str, Any]) -> str:
    impl, run = report["implementation"], report["run"]
    items = [
        ("spec", f"{report['spec_version']} (the implementation targets {impl['spec_version']})"),
        ("kit", f"{report['kit']['name']} {report['kit']['version']}"),
        ("implementation", f"--impl={portable(impl['target'])}"),
        ("transport", transport(report)),
        ("claims", ", ".join(impl["claims"])),
        ("seed", f"--hypothesis-seed={run['hypothesis_seed']}"),
        ("run", f"started {run['started_at']}, {run['duration_s']:g} s, strict {'on' if run['strict'] else 'off'}"),
    ]
    if run.get("depth"):
        items.append(("depth", str(run["depth"])))
    if run.get("selected") is not None:
        items.append(("selected", f"{len(run['selected'])} requirement(s): {', '.join(run['selected'])}"))
    return '<dl class="meta">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items) + "</dl>"


def _requirement(report: dict[str, Any], row: dict[str, Any], spec_url: str | None) -> str:
    outcome, rid = row["outcome"], row["id"]
    known = "known_failure" in row
    failing = outcome in FAILING
    kinds = f" ({', '.join(row['failure_kinds'])})" if row.get("failure_kinds") else ""
    search = f"{rid} {row['title']} {row['level']} {row['capability']}".lower()
    head = (
        f"<summary>{chip(outcome, known=known)} <code>{esc(rid)}</code> "
        f'<span class="level">{esc(row["level"])}</span> {esc(row["title"])}'
        f'<span class="small">{esc(kinds)}</span></summary>'
    )
    body = []
    sentence = statement(row)
    if sentence:
        body.append(f'<blockquote class="statement">{sentence_html(sentence)}</blockquote>')
    since = f"introduced {row['introduced']}" if row.get("introduced") else ""
    if row.get("changed"):
        since += f", changed {row['changed']}"
    link = spec_link(row, spec_url)
    where = f' · <a href="{esc(link)}">spec</a>' if link else f" · {esc(row['anchor'])}"
    body.append(f'<p class="small">capability {esc(row["capability"])}{" · " + esc(since) if since else ""}{where}</p>')
    if row.get("reason"):
        body.append(f'<p class="small">{esc(outcome)}: {esc(portable(row["reason"]))}</p>')
    if known:
        entry = row["known_failure"]
        more = f' — <a href="{esc(entry["link"])}">{esc(entry["link"])}</a>' if entry.get("link") else ""
        body.append(f'<p class="knownbox">Known failure (baseline): {esc(portable(entry["reason"]))}{more}</p>')
    for n, test in enumerate(failing_tests(row)):
        body.append(failure_block(report, row, test, f"rerun-{rid}-{n}"))
    others = [t for t in row["tests"] if t["outcome"] not in FAILING]
    if others:
        lines = "".join(
            f"<li>{esc(t['outcome'])} <code>{esc(portable(t['nodeid']))}</code> "
            f'<span class="small">{t["duration_s"]:.3f} s</span></li>'
            for t in others
        )
        summary = f'<summary class="small">{len(others)} other test(s)</summary>'
        body.append(f'<details class="tests">{summary}<ul>{lines}</ul></details>')
    return (
        f'<article class="req o-{esc(outcome)}{" known" if known else ""}" id="{esc(rid)}" '
        f'data-outcome="{esc(outcome)}" data-known="{"1" if known else "0"}" data-text="{esc(search)}">'
        f'<details{" open" if failing else ""}>{head}<div class="body">{"".join(body)}</div></details></article>'
    )


def render(report: dict[str, Any], *, spec_url: str | None = None) -> str:
    impl, summary, rows, run = report["implementation"], report["summary"], report["requirements"], report["run"]
    verdict = summary["verdict"]
    passed, total = must_score(report)
    counts = "".join(f'<li class="o-{o}"><b>{summary[o]}</b> {esc(o)}</li>' for o in OUTCOMES)
    counts += f"<li><b>{passed}/{total}</b> MUST passed</li>"
    header = [
        "<header>",
        f"<h1>{esc(impl['name'])} {esc(impl['version'])}</h1>",
        f'<p id="verdict" class="verdict v-{esc(verdict)}">{esc(verdict.replace("-", " "))}</p>',
        f'<ul class="counts" id="counts">{counts}</ul>',
        _meta(report),
    ]
    if "baseline" in summary:
        base = summary["baseline"]
        header.append(
            f'<p class="knownbox">Baseline <code>{esc(portable(base["path"]))}</code>: {len(base["known"])} known, '
            f"{len(base['new'])} new ({esc(', '.join(base['new']) or 'none')}), {len(base['stale'])} stale "
            f"({esc(', '.join(base['stale']) or 'none')}).</p>"
        )
    if run.get("internal_error"):
        header.append(
            "<p><strong>pytest or the kit crashed during the run</strong>; the outcomes cover what ran before:</p>"
            f"<pre>{esc(portable(run['internal_error']))}</pre>"
        )
    failing = [r for r in rows if r["outcome"] in FAILING]
    if failing:
        items = "".join(
            f'<li><a href="#{esc(r["id"])}">{esc(r["id"])}</a> ({esc(r["level"])}) {esc(r["title"])}'
            f"{' — known (baseline)' if 'known_failure' in r else ''}</li>"
            for r in failing
        )
        header.append(
            f'<section id="failures"><h2>Failed ({len(failing)})</h2><ul class="failing-list">{items}</ul></section>'
        )
    # A run with --requirement lists its selection; the rest of the index was never its question.
    rows = [r for r in rows if in_scope(report, r)]
    if len(rows) < len(report["requirements"]):
        left_out = len(report["requirements"]) - len(rows)
        header.append(
            f'<p class="small">{left_out} requirement(s) outside the selection (--requirement) are not listed.</p>'
        )
    header.append("</header>")
    known = sum("known_failure" in r for r in rows)
    tally = {o: sum(r["outcome"] == o for r in rows) for o in OUTCOMES}
    buttons = [("all", "All", len(rows)), ("failing", "Failed", len(failing))]
    if tally["not-testable"]:
        buttons.append(("not-testable", "Not testable", tally["not-testable"]))
    if known:
        buttons.append(("known", "Known", known))
    buttons += [(o, o.capitalize().replace("-", " "), tally[o]) for o in OUTCOMES if o not in FAILING]
    sections = []
    for area in sorted({r["area"] for r in rows}, key=lambda a: min(r["id"] for r in rows if r["area"] == a)):
        area_rows = [r for r in rows if r["area"] == area]
        counted = ", ".join(f"{n} {o}" for o in OUTCOMES if (n := sum(r["outcome"] == o for r in area_rows)))
        sections.append(
            f'<section class="area" data-group id="area-{esc(area)}"><h2>{esc(area.upper())} '
            f'<span class="small">{esc(counted)}</span></h2>'
            + "".join(_requirement(report, r, spec_url) for r in area_rows)
            + "</section>"
        )
    title = f"Conformance: {impl['name']} {impl['version']} — {verdict}"
    body = "\n".join(header) + filter_bar(buttons, "Filter by id or title") + "<main>" + "\n".join(sections) + "</main>"
    footer = (
        f'<footer class="small"><p>Rendered from the JSON report (schemas/report.schema.json, report version '
        f"{esc(report['report_version'])}) by agent-session-conformance.</p></footer>"
    )
    return page(title, body + footer)
