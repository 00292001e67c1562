"""``report.html``: one self-contained page a person would rather read than logs.

Built from a run directory (docs/run-directory.md, schema version 1): status
and final answer at the top, then a timeline with one card per step: the
screenshot the model saw with its actions drawn on it (click markers labelled
with the button, drag paths, scroll arrows, typed text and key chords),
reasoning summaries, messages, safety decisions, function calls, events,
per-phase timings and token usage. ``j``/``k`` or the arrow keys move between
steps; clicking a screenshot enlarges it.

Design decisions:

- **Images are embedded** as ``data:`` URLs so the file can be mailed, attached
  to a CI run or opened from anywhere. Each screenshot file is embedded once
  (a step shows the screenshot it *observed*; the last one appears as the final
  screen). Files up to `EMBED_AS_IS_BYTES` are embedded in their recorded
  format; larger ones are re-encoded as JPEG (quality 85, at most 1600 px wide)
  to keep long runs small.
- **Markers are placed in percentages** of the display size from run.json
  (screen pixels, the space of each action's ``screen`` field), so they stay on
  target at any zoom; drag paths and scroll arrows are SVG in a
  ``viewBox`` of the display size.
- **Model text is never trusted**: every string is HTML-escaped, the page's
  Content-Security-Policy allows only its own nonce-tagged script and
  ``data:`` images, and no model text is ever placed inside a script.
- Secrets are already ``{{secret:NAME}}`` placeholders in the record; they are
  shown as a masked chip naming the secret, never a value.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from agent._actions._recorded import describe_action, pt, short, to_float
from agent._errors import RunDirectoryError
from agent._record._report_actions import (
    Overlay,
    draw_action,
    esc,
    figure_html,
    meta_html,
    text_html,
)
from agent._record._report_assets import PHASE_COLORS, report_css, report_js
from agent._record._report_run import (
    EMBED_AS_IS_BYTES,
    Images,
    ReportRun,
    display_size,
    load_run,
)
from executors._computer import Size

__all__ = ["EMBED_AS_IS_BYTES", "REPORT_FILENAME", "build_report"]

logger = logging.getLogger(__name__)

REPORT_FILENAME = "report.html"


def _secs(value: object) -> str:
    v = to_float(value)
    if v < 0.01:
        return f"{v * 1000:.1f} ms"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _phase_bar(timings: Mapping[str, Any], legend: Literal["all", "top"]) -> str:
    phases = [(k, to_float(v)) for k, v in timings.items() if k.endswith("_s") and k != "total_s"]
    phases = [(k, v) for k, v in phases if v > 0]
    phases.sort(key=lambda kv: list(PHASE_COLORS).index(kv[0]) if kv[0] in PHASE_COLORS else 99)
    total = sum(v for _, v in phases)
    if total <= 0:
        return ""
    spans = "".join(
        f'<span style="width: {v * 100 / total:.3f}%; background: {PHASE_COLORS.get(k, "#cbd5e1")}"'
        f' title="{esc(k[:-2])} {_secs(v)}"></span>'
        for k, v in phases
    )
    out = f'<div class="phasebar">{spans}</div>'
    if legend:
        shown = phases if legend == "all" else sorted(phases, key=lambda kv: -kv[1])[:4]
        items = "".join(
            f'<span><i style="background: {PHASE_COLORS.get(k, "#cbd5e1")}"></i>'
            f"{esc(k[:-2].replace('_', ' '))} {_secs(v)}</span>"
            for k, v in phases
            if (k, v) in shown
        )
        out += f'<div class="legend">{items}</div>'
    return out


def _tokens(usage: object) -> str:
    if not isinstance(usage, dict):
        return ""
    i, o = int(to_float(usage.get("input_tokens"))), int(to_float(usage.get("output_tokens")))
    t = int(to_float(usage.get("total_tokens"))) or i + o
    if not t:  # scripted models report no usage; "0 tokens" on every step is noise
        return ""
    return f"{t:,} tokens ({i:,} in, {o:,} out)"


def _block(title: str, inner: str, css: str = "") -> str:
    return f'<div class="block {css}"><h3>{esc(title)}</h3>{inner}</div>' if inner else ""


def _list_of(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _action_rows(step: Mapping[str, Any], run: ReportRun) -> str:
    rows = []
    space = run.summary.get("coordinate_space", "")
    for action in _list_of(step.get("actions")):
        if not isinstance(action, dict):
            continue
        raw = _dict(action.get("raw"))
        bits = [f'<span class="kind">{text_html(describe_action(action))}</span>']
        coords = []
        if "x" in raw and "y" in raw:
            coords.append(f"model {pt(raw['x'], raw['y'])} {esc(space)}")
        timings = _dict(action.get("timings"))
        if timings:
            coords.append(" + ".join(f"{esc(k[:-2])} {_secs(v)}" for k, v in timings.items()))
        if coords:
            bits.append(f'<div class="coords">{" · ".join(coords)}</div>')
        if action.get("clamped"):
            bits.append('<div class="warn">clamped onto the screen</div>')
        if action.get("error"):
            bits.append(f'<div class="errtext">{text_html(_err(action["error"]))}</div>')
        rows.append("<li>" + "".join(bits) + "</li>")
    return f"<ol>{''.join(rows)}</ol>" if rows else ""


def _err(error: object) -> str:
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('message', '')}"
    return str(error)


def _safety_html(step: Mapping[str, Any]) -> str:
    out = []
    for check in _list_of(step.get("safety")):
        if not isinstance(check, dict):
            continue
        decision = str(check.get("decision", "unknown"))
        css = "acknowledged" if decision == "acknowledged" else "denied"
        out.append(
            f'<div class="safety {css}"><b>Safety check {esc(decision)}'
            f" by {esc(check.get('decided_by', '?'))}</b>"
            f'<span class="mono">{esc(check.get("code", ""))}</span> '
            f"{text_html(check.get('message', ''))}"
            f'<div class="why">check {esc(check.get("id", ""))} on {esc(check.get("call_id", ""))}'
            "</div></div>"
        )
    return "".join(out)


def _step_html(
    step: Mapping[str, Any], position: int, run: ReportRun, images: Images, size: Size
) -> str:
    number = step.get("step", position + 1)
    actions = [a for a in _list_of(step.get("actions")) if isinstance(a, dict)]
    overlay = Overlay()
    for index, action in enumerate(actions):
        draw_action(action, index, len(actions), run, size, overlay)
    for check in _list_of(step.get("safety")):
        if isinstance(check, dict):
            ok = check.get("decision") == "acknowledged"
            overlay.captions.append(
                f'<span class="chip {"safety-ack" if ok else "safety-deny"}">safety check'
                f" {esc(check.get('code', ''))} {esc(check.get('decision', ''))}</span>"
            )
    what = "; ".join(describe_action(a) for a in actions) or (
        "answer" if step.get("messages") else "no action"
    )
    timings = _dict(step.get("timings"))
    duration = sum(to_float(v) for k, v in timings.items() if k.endswith("_s"))
    head = (
        f'<div class="step-head"><span class="num">Step {esc(number)}</span>'
        f'<span class="what">{text_html(what)}</span>'
        + (f'<span class="url">{esc(step["url"])}</span>' if step.get("url") else "")
        + (f'<span class="dur">{_secs(duration)}</span>' if duration else "")
        + "</div>"
    )
    details = [
        _block(
            "Reasoning",
            "".join(f"<p>{text_html(t)}</p>" for t in _list_of(step.get("reasoning"))),
            "reasoning",
        ),
        _block(
            "Message",
            "".join(f"<p>{text_html(t)}</p>" for t in _list_of(step.get("messages"))),
            "msg",
        ),
        _block("Actions", _action_rows(step, run), "actions"),
        _block("Safety", _safety_html(step)),
        _block(
            "Function calls",
            "".join(
                f'<p class="fn"><span class="mono">{esc(fc.get("name", "?"))}'
                f"({text_html(fc.get('arguments', ''))})</span> → "
                + (
                    f'<span class="errtext">{text_html(_err(fc["error"]))}</span>'
                    if fc.get("error")
                    else text_html(short(str(fc.get("output", "")), 300))
                )
                + "</p>"
                for fc in _list_of(step.get("function_calls"))
                if isinstance(fc, dict)
            ),
        ),
        _block(
            "Told the model",
            "".join(f'<p class="notice">{text_html(t)}</p>' for t in _list_of(step.get("notices"))),
            "notices",
        ),
        _block(
            "Events",
            "".join(
                f'<p class="ev"><span class="mono">{esc(ev.get("kind", "?"))}</span> '
                f"{text_html(ev.get('message', ''))}</p>"
                for ev in _list_of(step.get("events"))
                if isinstance(ev, dict)
            ),
        ),
    ]
    meta = [_phase_bar(timings, legend="top"), esc(_tokens(step.get("usage")))]
    if step.get("response_id"):
        meta.append(f'<span class="mono">{esc(step["response_id"])}</span>')
    details.append('<div class="stepmeta">' + "".join(m for m in meta if m) + "</div>")
    figure = figure_html(
        images.data_url(step.get("observed")),
        size,
        overlay,
        f"The screen the model saw before step {number}",
    )
    return (
        f'<section class="step" id="step-{esc(number)}" data-step="{esc(number)}">{head}'
        f'<div class="step-body">{figure}<div class="details">{"".join(details)}</div></div>'
        "</section>"
    )


def _toc(steps: Sequence[Mapping[str, Any]]) -> str:
    items = []
    for position, step in enumerate(steps):
        number = step.get("step", position + 1)
        actions = [a for a in _list_of(step.get("actions")) if isinstance(a, dict)]
        what = (
            describe_action(actions[0])
            if actions
            else ("answer" if step.get("messages") else "no action")
        )
        if len(actions) > 1:
            what += f" +{len(actions) - 1}"
        flags = ""
        if step.get("safety"):
            flags = " flag"
        if any(a.get("error") for a in actions):
            flags = " flag bad"
        items.append(
            f'<li><a href="#step-{esc(number)}" class="{flags.strip()}">'
            f'<span class="n">{esc(number)}</span><span class="w">{text_html(what)}</span></a></li>'
        )
    return '<nav class="toc" aria-label="Steps"><ol>' + "".join(items) + "</ol></nav>"


def _header(run: ReportRun) -> str:
    s = run.summary
    status = str(s.get("status") or "unknown")
    known = {
        *("completed", "error", "safety_denied", "max_steps", "timeout", "cancelled"),
        *("running", "stuck"),
    }
    css = status if status in known else "unknown"
    parts = [
        '<header class="run">',
        '<div class="brandrow"><span>screenloop run report</span>'
        '<span class="hint"><kbd>j</kbd> <kbd>k</kbd> or <kbd>←</kbd> <kbd>→</kbd>'
        " move between steps · click a screenshot to enlarge it</span></div>",
        f'<div class="titlerow"><h1>{text_html(s.get("task", "(no task recorded)"))}</h1>'
        f'<span class="status st-{css}" id="status">{esc(status.replace("_", " "))}</span></div>',
    ]
    if s.get("final_output"):
        parts.append(
            '<div class="answer" id="final-output"><span class="label">Final answer</span>'
            f"{text_html(s['final_output'])}</div>"
        )
    if s.get("output") is not None:
        schema = _dict(s.get("output_schema")).get("name", "")
        shown = json.dumps(s["output"], indent=2, ensure_ascii=False)
        parts.append(
            '<div class="answer" id="structured-output"><span class="label">Structured output'
            f" {esc(schema)}</span><pre>{esc(shown)}</pre></div>"
        )
    if s.get("error"):
        parts.append(
            '<div class="answer err" id="run-error"><span class="label">Error</span>'
            f"{text_html(_err(s['error']))}</div>"
        )
    if status == "running":
        parts.append(
            '<div class="answer err"><span class="label">Unfinished</span>'
            "The run had not finished when this report was built.</div>"
        )
    executor = _dict(s.get("executor"))
    display = _dict(s.get("display"))
    timings = _dict(s.get("timings"))
    meta = [
        ("Model", s.get("model")),
        ("Provider", s.get("provider")),
        ("Executor", executor.get("kind")),
        ("Start URL", executor.get("start_url")),
        ("Launch", " ; ".join(map(str, executor.get("launch") or [])) or None),
        ("Display", f"{display.get('width')}×{display.get('height')}" if display else None),
        ("Coordinates", s.get("coordinate_space")),
        ("History", s.get("history")),
        ("Safety", s.get("safety_mode")),
        ("Steps", s.get("steps", len(run.steps))),
        ("Tokens", _tokens(s.get("usage"))),
        (
            "Time",
            (
                f"{_secs(timings.get('total_s'))} (model {_secs(timings.get('model_s'))}, "
                f"runtime {_secs(timings.get('runtime_s'))})"
            )
            if timings
            else None,
        ),
        ("Started", s.get("started_at")),
    ]
    parts.append(meta_html(meta))
    downloads = [d for d in _list_of(s.get("downloads")) if isinstance(d, dict)]
    if downloads:
        parts.append(
            '<div class="answer" id="downloads"><span class="label">Downloads</span>'
            + "".join(
                f'<p><a href="{esc(d.get("path", ""))}">{esc(d.get("name", "?"))}</a> '
                f"({esc(d.get('size', '?'))} bytes) from "
                f'<span class="mono">{esc(d.get("url", ""))}</span></p>'
                for d in downloads
            )
            + "</div>"
        )
    totals: dict[str, float] = {}
    for step in run.steps:
        for k, v in (step.get("timings") or {}).items():
            if isinstance(k, str) and k.endswith("_s"):
                totals[k] = totals.get(k, 0.0) + to_float(v)
    bar = _phase_bar(totals, legend="all")
    if bar:
        parts.append(f'<div class="phases">{bar}</div>')
    parts.append("</header>")
    return "".join(parts)


def _render(run: ReportRun) -> str:
    size = display_size(run)
    images = Images(run.root)
    nonce = secrets.token_urlsafe(16)
    steps_html = "".join(
        _step_html(step, position, run, images, size) for position, step in enumerate(run.steps)
    )
    last: object = run.summary.get("initial_screenshot")
    for step in run.steps:
        last = step.get("screenshot") or last
    # the final screen gets its own card unless the last step (an answer) already shows it
    shown = run.steps[-1].get("observed") if run.steps else None
    final = (
        '<section class="step final" id="final"><h2>Final screen</h2>'
        + figure_html(images.data_url(last), size, None, "The screen at the end of the run")
        + "</section>"
        if last and last != shown
        else ""
    )
    notes = "".join(f'<p class="notes">{esc(n)}</p>' for n in run.notes)
    defs = (
        '<svg width="0" height="0" style="position: absolute" aria-hidden="true"><defs>'
        + "".join(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="6" refY="5" markerWidth="5"'
            f' markerHeight="5" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
            f' fill="{color}"></path></marker>'
            for name, color in (("drag", "#ea580c"), ("scroll", "#7c3aed"))
        )
        + "</defs></svg>"
    )
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
    )
    title = short(str(run.summary.get("task") or "run"), 80)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>screenloop · {esc(title)}</title>\n"
        f"<style>{report_css()}</style>\n</head>\n<body>\n"
        f'{defs}{_header(run)}\n<div class="layout">{_toc(run.steps)}<main>{notes}'
        f"{steps_html}{final}</main></div>\n"
        f'<script nonce="{nonce}">{report_js()}</script>\n</body>\n</html>\n'
    )


def build_report(
    run_dir: str | os.PathLike[str], output: str | os.PathLike[str] | None = None
) -> Path:
    """Write ``report.html`` for a run directory and return its path.

    `output` defaults to ``<run_dir>/report.html``; the file is replaced
    atomically. Works on unfinished runs (status ``running``) and skips a torn
    last line of steps.jsonl. Raises `RunDirectoryError` when `run_dir` is not a
    readable schema-1 run directory.
    """
    root = Path(run_dir)
    run = load_run(root)
    try:
        page = _render(run)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        # a run directory is untrusted input: a field of the wrong shape is its fault
        raise RunDirectoryError(f"{root} holds a malformed record: {exc!r:.200}") from None
    target = Path(output) if output is not None else root / REPORT_FILENAME
    fd, tmp = tempfile.mkstemp(prefix=".report.", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("report written to %s (%d steps, %d bytes)", target, len(run.steps), len(page))
    return target
