"""The dashboard's one page, as HTML rendered on the server.

Every section is rendered here, whole on the first load (so the page shows everything
without JavaScript) and again as a fragment the page's small script fetches to refresh
it (`/fragments/<section>`). One renderer, so the two never disagree. Everything from a
log or a trace goes through `html.escape`; the page has no inline script or style (its
Content-Security-Policy forbids both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from devstack.dashboard.logs import LEVELS, LogFilter, LogLine
from devstack.dashboard.resources import Resource
from devstack.dashboard.traces import RecentTraces, trace_link


def e(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class LogView:
    """The logs section: which part (`""`: all), the filter, and what matched."""

    part: str
    parts: Sequence[str]
    wanted: LogFilter
    lines: Sequence[LogLine]
    limit: int
    zipkin: str
    problem: str = ""

    @property
    def view(self) -> str:
        return "structured" if self.wanted.structured_only else "console"


def logs_query(
    *,
    part: str = "",
    view: str = "structured",
    level: str = "",
    q: str = "",
    trace: str = "",
    probes: bool = False,
) -> str:
    """The page's query string for a log view (empty values left out)."""
    params = {"part": part, "view": view, "level": level, "q": q, "trace": trace}
    if probes:
        params["probes"] = "show"
    if params["view"] == "structured":
        del params["view"]
    return urlencode({k: v for k, v in params.items() if v})


# ---- resources -------------------------------------------------------------------------


def resources_section(resources: Sequence[Resource], taken: datetime) -> str:
    healthy = sum(1 for r in resources if r.state == "running" and r.healthy)
    rows = "\n".join(_resource_row(r) for r in resources)
    when = f'<time datetime="{e(taken.isoformat())}">{e(taken.strftime("%H:%M:%S"))}</time>'
    return f"""<p class="summary" data-testid="resources-summary">{healthy} of {len(resources)}
 parts healthy · read at {when}</p>
<table class="resources" data-testid="resources">
<caption class="visually-hidden">Every part of the local system</caption>
<thead><tr><th scope="col">Part</th><th scope="col">Kind</th><th scope="col">State</th>
<th scope="col">Health</th><th scope="col" class="num">PID</th>
<th scope="col" class="num">Memory</th><th scope="col" class="num">CPU</th>
<th scope="col">URL</th><th scope="col"><span class="visually-hidden">Logs</span></th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""


def _resource_row(r: Resource) -> str:
    if r.url.startswith("http"):
        address = f'<a href="{e(r.url)}">{e(r.url)}</a>'
    else:
        address = e(r.url if r.url != "-" else "")
    cpu = "" if r.cpu_percent is None else f"{r.cpu_percent:.1f} %"
    memory = f"{r.memory_mib:.0f} MiB" if r.pid else ""
    logs = (
        f'<a href="?{e(logs_query(part=r.name))}#logs">'
        f'logs<span class="visually-hidden"> of {e(r.name)}</span></a>'
    )
    return (
        f'<tr data-part="{e(r.name)}" data-health="{e(r.health)}">'
        f'<th scope="row">{e(r.name)}</th><td>{e(r.kind)}</td>'
        f'<td><span class="state state-{e(r.state)}">{e(r.state)}</span></td>'
        f'<td><span class="health health-{e(r.health)}" data-testid="health">'
        f"{e(r.health)}</span></td>"
        f'<td class="num">{e(r.pid or "")}</td><td class="num">{e(memory)}</td>'
        f'<td class="num">{e(cpu)}</td><td class="url">{address}</td><td>{logs}</td></tr>'
    )


# ---- logs ------------------------------------------------------------------------------


def logs_form(view: LogView) -> str:
    """The filter form: a plain GET form (works without script; the script submits it
    in place and keeps it live)."""
    part_options = [f'<option value=""{_selected(view.part == "")}>all parts</option>']
    part_options += [
        f'<option value="{e(p)}"{_selected(view.part == p)}>{e(p)}</option>' for p in view.parts
    ]
    level_options = [f'<option value=""{_selected(not view.wanted.min_level)}>any</option>']
    level_options += [
        f'<option value="{e(level)}"{_selected(view.wanted.min_level == level)}>'
        f"{e(level.lower())} and above</option>"
        for level in LEVELS
    ]
    views = "".join(
        f'<label><input type="radio" name="view" value="{value}"{_checked(view.view == value)}>'
        f" {label}</label>"
        for value, label in (("structured", "structured (JSON)"), ("console", "console"))
    )
    return f"""<form class="log-filter" method="get" action="/#logs" data-testid="log-filter">
<div class="field"><label for="log-part">Part</label>
<select id="log-part" name="part">{"".join(part_options)}</select></div>
<fieldset class="field"><legend>Lines</legend>{views}</fieldset>
<div class="field"><label for="log-level">Level</label>
<select id="log-level" name="level">{"".join(level_options)}</select></div>
<div class="field"><label for="log-text">Text</label>
<input id="log-text" name="q" type="search" value="{e(view.wanted.text)}"></div>
<div class="field"><label for="log-trace">Trace id</label>
<input id="log-trace" name="trace" type="search" value="{e(view.wanted.trace_id)}"
 spellcheck="false" autocomplete="off" pattern="[0-9a-fA-F]{{16}}([0-9a-fA-F]{{16}})?"
 title="16 or 32 hexadecimal digits"></div>
<div class="field buttons"><label class="check"><input type="checkbox" name="probes"
 value="show"{_checked(view.wanted.probes)}> health probes</label>
<button type="submit">Show</button>
<a href="/#logs">clear</a>
<label class="check"><input type="checkbox" id="log-follow" checked> follow</label></div>
</form>"""


def logs_section(view: LogView) -> str:
    """What matched: structured lines newest first, console lines as the console shows
    them (newest last)."""
    if view.problem:
        return f'<p class="problem" role="alert">{e(view.problem)}</p>'
    where = f"part {view.part}" if view.part else "all parts"
    described = _describe(view)
    head = (
        f'<p class="summary" data-testid="log-summary">{len(view.lines)} '
        f"{'line' if len(view.lines) == 1 else 'lines'} of {e(where)}{e(described)}"
        f"{' (the last ' + str(view.limit) + ')' if len(view.lines) >= view.limit else ''}</p>"
    )
    if not view.lines:
        return head
    if view.view == "console":
        body = "\n".join(
            f'<li class="level-{e(line.level)}">'
            + (f'<span class="part">{e(line.part)}</span> ' if not view.part else "")
            + f"{e(line.text)}</li>"
            for line in view.lines
        )
        return f'{head}<ol class="console" data-testid="log-lines">{body}</ol>'
    # Newest first: the table grows at the top, where the eye is.
    rows = "\n".join(_structured_row(line, view) for line in reversed(view.lines))
    part_col = '<th scope="col">Part</th>' if not view.part else ""
    return f"""{head}<table class="logs" data-testid="log-lines">
<caption class="visually-hidden">Structured log lines, newest first</caption>
<thead><tr><th scope="col">Time</th>{part_col}<th scope="col">Level</th>
<th scope="col">Logger</th><th scope="col">Message</th><th scope="col">Trace</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""


def _describe(view: LogView) -> str:
    words = []
    if view.wanted.min_level:
        words.append(f"level {view.wanted.min_level.lower()} and above")
    if view.wanted.text:
        words.append(f"containing “{view.wanted.text}”")
    if view.wanted.trace_id:
        words.append(f"in trace {view.wanted.trace_id}")
    return (", " + ", ".join(words)) if words else ""


def _structured_row(line: LogLine, view: LogView) -> str:
    # Only a time the line wrote itself (a carried-forward one is for ordering only).
    own_time = line.fields is not None and ("time" in line.fields or "timestamp" in line.fields)
    when = line.when.strftime("%H:%M:%S") if line.when and own_time else ""
    trace = line.trace_id
    trace_cell = ""
    if trace:
        filter_href = "?" + logs_query(part=view.part, trace=trace) + "#logs"
        trace_cell = (
            f'<a class="trace" href="{e(trace_link(view.zipkin, trace))}" '
            f'title="open trace {e(trace)} in Zipkin">{e(trace[:8])}…</a> '
            f'<a href="{e(filter_href)}" class="filter-trace" data-trace="{e(trace)}">'
            f'filter<span class="visually-hidden"> logs by trace {e(trace)}</span></a>'
        )
    extra = line.extra()
    details = ""
    if extra:
        items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in extra.items())
        details = f"<details><summary>fields</summary><dl>{items}</dl></details>"
    part_cell = f"<td>{e(line.part)}</td>" if not view.part else ""
    return (
        f'<tr class="level-{e(line.level)}" data-trace="{e(trace)}">'
        f"<td>{e(when)}</td>{part_cell}"
        f'<td><span class="level">{e(line.level)}</span></td><td>{e(line.logger)}</td>'
        f'<td class="message">{e(line.message)}{details}</td><td>{trace_cell}</td></tr>'
    )


def _selected(yes: bool) -> str:
    return " selected" if yes else ""


def _checked(yes: bool) -> str:
    return " checked" if yes else ""


# ---- traces ----------------------------------------------------------------------------


def traces_section(recent: RecentTraces) -> str:
    if not recent.available:
        return (
            f'<p class="problem" data-testid="traces-problem">{e(recent.problem)}. '
            "Traces appear here once the traces part runs.</p>"
        )
    head = (
        f'<p class="summary">{len(recent.traces)} recent traces from '
        f'<a href="{e(recent.ui)}">Zipkin</a></p>'
    )
    if not recent.traces:
        return head
    rows = []
    for t in recent.traces:
        started = datetime.fromtimestamp(t.start_us / 1e6).strftime("%H:%M:%S")
        logs_href = "?" + logs_query(trace=t.trace_id) + "#logs"
        error = '<span class="health health-unhealthy">error</span>' if t.error else ""
        rows.append(
            f'<tr data-trace="{e(t.trace_id)}"><td>{e(started)}</td>'
            f'<td><a href="{e(t.link)}">{e(t.root_service)}: {e(t.root_name)}</a> {error}</td>'
            f'<td class="num">{t.duration_us / 1000:.1f} ms</td>'
            f'<td class="num">{t.span_count}</td><td>{e(", ".join(t.services))}</td>'
            f'<td><a href="{e(logs_href)}">logs<span class="visually-hidden"> of trace '
            f"{e(t.trace_id)}</span></a></td></tr>"
        )
    return f"""{head}<table class="traces" data-testid="traces">
<caption class="visually-hidden">Recent traces, newest first</caption>
<thead><tr><th scope="col">Start</th><th scope="col">Root span</th>
<th scope="col" class="num">Duration</th><th scope="col" class="num">Spans</th>
<th scope="col">Services</th>
<th scope="col"><span class="visually-hidden">Logs</span></th></tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>"""


# ---- the page --------------------------------------------------------------------------


def page(
    *,
    resources: str,
    logs: str,
    form: str,
    traces: str,
    charts_available: str,
    uplot_css: str,
    uplot_js: str,
) -> str:
    """The whole page around its sections. `uplot_*` are the vendored library's paths
    ("" when it is not built; `charts_available` then says why)."""
    vendor_css = f'<link rel="stylesheet" href="{e(uplot_css)}">' if uplot_css else ""
    vendor_js = f'<script src="{e(uplot_js)}" defer></script>' if uplot_js else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CoffeeShop dashboard</title>
<link rel="icon" href="data:,">
{vendor_css}
<link rel="stylesheet" href="/static/dashboard.css">
{vendor_js}
<script src="/static/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the dashboard</a>
<header>
<h1>CoffeeShop <span>dashboard</span></h1>
<nav aria-label="Sections"><ul>
<li><a href="#resources">Resources</a></li><li><a href="#logs">Logs</a></li>
<li><a href="#traces">Traces</a></li><li><a href="#metrics">Metrics</a></li>
</ul></nav>
</header>
<main id="main">
<section id="resources" aria-labelledby="resources-title">
<h2 id="resources-title">Resources</h2>
<div data-fragment="resources" data-every="5">{resources}</div>
</section>
<section id="logs" aria-labelledby="logs-title">
<h2 id="logs-title">Logs</h2>
{form}
<div data-fragment="logs" data-every="3" aria-live="off">{logs}</div>
</section>
<section id="traces" aria-labelledby="traces-title">
<h2 id="traces-title">Traces</h2>
<div data-fragment="traces" data-every="10">{traces}</div>
</section>
<section id="metrics" aria-labelledby="metrics-title">
<h2 id="metrics-title">Metrics</h2>
<p class="summary" id="metrics-status" data-testid="metrics-status">{e(charts_available)}</p>
<div class="charts" id="charts"></div>
<noscript><p>The charts need JavaScript; every other section works without it
(reload the page to refresh).</p></noscript>
</section>
</main>
</body>
</html>
"""
