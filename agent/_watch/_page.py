"""The watch page: one HTML document, its style and script inlined with a nonce.

The look is the report's (``report.css`` first, then ``watch.css``); the
script (``watch.js``) follows the run's log over server-sent events and sends
the controls; with more than one run registered (a batch), it lists them
(``/runs``) with a link to each one's page. Nothing of a run is in the HTML but
its id and task (escaped); the rest arrives as JSON and is shown with
``textContent``.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources

from agent._record._report_assets import report_css

__all__ = ["watch_page"]


@cache
def _asset(name: str) -> str:
    return resources.files("agent").joinpath("watch_assets").joinpath(name).read_text("utf-8")


def watch_page(nonce: str, run_id: str | None, task: str) -> str:
    """The page for run `run_id` (None: no run yet)."""
    title = task if len(task) <= 80 else task[:79] + "…"
    run_attr = f' data-run="{escape(run_id)}"' if run_id else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>screenloop · watch · {escape(title)}</title>
<style nonce="{nonce}">{report_css()}
{_asset("watch.css")}</style>
</head>
<body{run_attr}>
<header class="run">
  <div class="brandrow"><span class="dot off" id="live" title="live"></span>
    <span>screenloop · watch</span><span class="hint flash" id="flash"></span></div>
  <div class="titlerow"><h1 id="task">{escape(task) or "waiting for a run"}</h1>
    <span class="status st-running" id="status">running</span></div>
  <dl class="meta">
    <div><dt>Step</dt><dd id="stepno">–</dd></div>
    <div><dt>Elapsed</dt><dd id="elapsed">–</dd></div>
    <div><dt>Model</dt><dd id="model">–</dd></div>
    <div><dt>Safety</dt><dd id="safety">–</dd></div>
  </dl>
  <div class="controls">
    <button type="button" id="pause" title="Hold the run after the current step">Pause</button>
    <button type="button" id="resume" hidden>Resume</button>
    <button type="button" id="stop" class="danger" title="End the run as cancelled">Stop</button>
    <form class="say" id="say" autocomplete="off">
      <input id="text" maxlength="4000" aria-label="Message to the model"
        placeholder="A message to the model, sent with the next request">
      <button type="submit" id="sendbtn">Send</button>
    </form>
  </div>
  <div class="answer" id="final" hidden></div>
</header>
<div class="watch">
  <div id="approvals"></div>
  <section class="screen">
    <figure class="shot live" id="shot">
      <img id="img" class="none" alt="The latest screenshot">
      <div class="markers" id="markers"></div>
      <div class="captions"><span class="chip" id="doing" hidden></span></div>
    </figure>
    <p class="shotmeta" id="shotmeta">waiting for the first screenshot</p>
  </section>
  <aside class="side">
    <nav class="runs" id="runsnav" aria-label="Runs" hidden><h2>Runs</h2>
      <ol class="runlist" id="runs"></ol></nav>
    <h2>Steps</h2>
    <ol class="timeline" id="timeline"><li class="empty" id="nosteps">No step yet.</li></ol>
  </aside>
</div>
<script nonce="{nonce}">{_asset("watch.js")}</script>
</body>
</html>
"""
