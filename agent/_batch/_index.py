"""``index.html`` of a batch: pass rate, each task's status, attempts, steps, time, tokens.

The run report's visual language (its stylesheet is inlined, the same dark
header, status pills and cards), one self-contained file with no script at all
(Content-Security-Policy ``default-src 'none'``). Every string from the summary
-- task texts, answers, check details, ids -- is HTML-escaped; a link is made
only from a relative path, percent-encoded.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent._record._report_actions import esc, meta_html
from agent._record._report_assets import report_css

__all__ = ["INDEX_FILENAME", "render_index", "write_index"]

INDEX_FILENAME = "index.html"

_CSS = """
.batch main { padding: 18px 28px 64px; }
.bar { display: flex; height: 12px; border-radius: 6px; overflow: hidden; background: #2a3142;
  max-width: 760px; margin-top: 14px; }
.bar span { display: block; height: 100%; }
.bar .ok { background: #16a34a; } .bar .bad { background: #dc2626; }
.bar .none { background: #64748b; }
table.tasks { width: 100%; border-collapse: collapse; background: #fff; border-radius: 10px;
  overflow: hidden; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.08); }
.tasks th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: 0.8px;
  color: #8b93a7; padding: 10px 12px; border-bottom: 1px solid #eceef3; }
.tasks td { padding: 9px 12px; border-top: 1px solid #eceef3; vertical-align: top; }
.tasks td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tasks .tid { font-weight: bold; white-space: nowrap; }
.tasks .text { color: #4a5368; max-width: 420px; }
.att { display: inline-flex; align-items: center; gap: 4px; margin: 0 6px 4px 0; padding: 2px 8px;
  border-radius: 999px; font-size: 12px; text-decoration: none; white-space: nowrap; }
.att.pass { background: #dcfce7; color: #14532d; }
.att.fail { background: #fee2e2; color: #7f1d1d; }
.att.none { background: #e2e8f0; color: #334155; }
.why { display: block; color: #5b6478; font-size: 12px; }
.st-passed { background: #16a34a; color: #fff; } .st-failed { background: #dc2626; color: #fff; }
.st-flaky { background: #f59e0b; color: #1c2230; }
.st-incomplete { background: #64748b; color: #fff; }
"""


def _href(path: object) -> str | None:
    """A relative link to `path`, or None when it is not a plain relative path."""
    if not isinstance(path, str) or not path or path.startswith(("/", "\\")):
        return None
    parts = path.split("/")
    if any(":" in p or "\\" in p for p in parts):
        return None
    return "/".join(urllib.parse.quote(p) for p in parts)


def _secs(value: object) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return f"{v:.1f} s" if v < 600 else f"{v / 60:.1f} min"


def _pct(value: object) -> str:
    return f"{float(value) * 100:.0f}%" if isinstance(value, (int, float)) else "-"


def _attempt(a: Mapping[str, Any]) -> str:
    finished, passed = a.get("finished") is True, a.get("passed") is True
    css = "pass" if passed else "fail" if finished else "none"
    mark = "✓" if passed else "✗" if finished else "…"
    label = (
        f"{mark} #{esc(a.get('attempt', '?'))} {esc(str(a.get('status', '?')).replace('_', ' '))}"
    )
    failed = [c for c in a.get("checks") or [] if isinstance(c, dict) and not c.get("ok")]
    title = "; ".join(str(c.get("detail", "")) for c in failed) or "passed"
    href = _href(a.get("report"))
    tag = f'<a class="att {css}" href="{esc(href)}"' if href else f'<span class="att {css}"'
    close = "</a>" if href else "</span>"
    return f'{tag} title="{esc(title)}">{label}{close}'


def _row(t: Mapping[str, Any]) -> str:
    attempts = [a for a in t.get("attempts") or [] if isinstance(a, dict)]
    finished = [a for a in attempts if a.get("finished") is True]
    status = str(t.get("status", "incomplete"))
    css = status if status in ("passed", "failed", "flaky", "incomplete") else "incomplete"
    steps = sum(int(a.get("steps") or 0) for a in finished)
    tokens = sum(int(a.get("tokens") or 0) for a in finished)
    seconds = sum(float(a.get("time_s") or 0) for a in finished)
    why = ""
    for a in attempts:
        failed = [c for c in a.get("checks") or [] if isinstance(c, dict) and not c.get("ok")]
        if a.get("finished") is True and failed:
            why = (
                f'<span class="why">#{esc(a.get("attempt"))}: {esc(failed[0].get("detail"))}</span>'
            )
            break
    return (
        f'<tr id="task-{esc(t.get("id"))}"><td class="tid">{esc(t.get("id"))}</td>'
        f'<td><span class="status st-{css}">{esc(status)}</span></td>'
        f'<td class="num">{esc(t.get("passed", 0))}/{esc(t.get("attempts_planned", 0))}'
        f" ({_pct(t.get('pass_rate'))})</td>"
        f'<td class="text">{esc(t.get("task", ""))}{why}</td>'
        f"<td>{''.join(_attempt(a) for a in attempts) or '-'}</td>"
        f'<td class="num">{steps}</td><td class="num">{_secs(seconds)}</td>'
        f'<td class="num">{tokens}</td></tr>'
    )


def render_index(summary: Mapping[str, Any]) -> str:
    """The HTML of a batch summary."""
    totals = summary.get("totals") or {}
    tasks = [t for t in summary.get("tasks") or [] if isinstance(t, dict)]
    planned = max(int(totals.get("attempts") or 0), 1)
    ok, bad = int(totals.get("passed") or 0), int(totals.get("failed") or 0)
    none = max(planned - ok - bad, 0)
    status = "passed" if summary.get("passed") else "incomplete"
    if summary.get("complete") and not summary.get("passed"):
        status = "failed"
    shards = summary.get("shards") or []
    shard_text = ", ".join(
        f"{s.get('index')}/{s.get('count')}" for s in shards if isinstance(s, dict)
    )
    meta = [
        ("Pass rate", f"{_pct(totals.get('pass_rate'))} ({ok} of {ok + bad} finished attempts)"),
        (
            "Tasks",
            f"{totals.get('tasks_passed', 0)} passed · {totals.get('tasks_failed', 0)} "
            f"failed · {totals.get('tasks_flaky', 0)} flaky · {totals.get('tasks_incomplete', 0)} "
            "incomplete",
        ),
        ("Attempts", f"{totals.get('finished', 0)} of {totals.get('attempts', 0)} finished"),
        ("Steps", totals.get("steps")),
        ("Tokens", totals.get("tokens")),
        ("Time (sum)", _secs(totals.get("time_s"))),
        ("Shards", shard_text),
        ("Task file", summary.get("task_file")),
        ("Generated", summary.get("generated_at")),
    ]
    header = (
        '<header class="run"><div class="brandrow"><span>screenloop batch</span></div>'
        f'<div class="titlerow"><h1>{esc(summary.get("task_file", "batch"))}</h1>'
        f'<span class="status st-{status}" id="status">{esc(status)}</span></div>'
        + meta_html(meta)
        + f'<div class="bar"><span class="ok" style="width: {ok * 100 / planned:.3f}%"></span>'
        f'<span class="bad" style="width: {bad * 100 / planned:.3f}%"></span>'
        f'<span class="none" style="width: {none * 100 / planned:.3f}%"></span></div></header>'
    )
    head_row = "".join(
        f"<th>{h}</th>"
        for h in ("task", "status", "passed", "what", "attempts", "steps", "time", "tokens")
    )
    table = (
        f'<table class="tasks"><thead><tr>{head_row}</tr></thead><tbody>'
        + "".join(_row(t) for t in tasks)
        + "</tbody></table>"
    )
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'"
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>screenloop batch · {esc(summary.get('task_file', ''))}</title>\n"
        f'<style>{report_css()}{_CSS}</style>\n</head>\n<body class="batch">\n'
        f"{header}\n<main>{table}</main>\n</body>\n</html>\n"
    )


def write_index(out: Path, summary: Mapping[str, Any]) -> Path:
    """Write ``index.html`` of `summary` into `out`; its path."""
    path = out / INDEX_FILENAME
    text = render_index(summary)
    tmp = out / f".{INDEX_FILENAME}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
