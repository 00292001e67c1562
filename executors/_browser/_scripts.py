"""Page-side pieces of the Playwright executor: the settle probe and the blocked page.

`SETTLE_INIT_SCRIPT` runs in every frame before the page's own scripts. It
records DOM mutations and short timers scheduled shortly after user input or
page load, so `settle` can wait for "a change is coming in 300 ms" without a
fixed sleep. `SETTLE_PROBE` then waits, in the page, for animation frames with
no DOM change, no such pending timer, no running finite animation, and a
complete document: one such frame when the page has no animation-frame
callback or interval scheduled since the last input (or page load) either,
else two in a row (a change two frames away, ``requestAnimationFrame`` inside
``requestAnimationFrame``, is then still seen).

`SETTLE_BEGIN` starts the same probe and returns at once; `SETTLE_RESULT`
waits for it. Between the two the executor can request a capture: when the
probe then reports ``changed: false`` (nothing moved since it began), that
capture, whose frame is drawn after the probe began, shows the settled screen.
"""

from __future__ import annotations

import html

__all__ = [
    "SETTLE_BEGIN",
    "SETTLE_INIT_SCRIPT",
    "SETTLE_PROBE",
    "SETTLE_RESULT",
    "blocked_page_html",
]

SETTLE_INIT_SCRIPT = r"""
(() => {
  if (window.__screenloop) return;
  // Timers shorter than SHORT_MS scheduled within INPUT_WINDOW_MS of the last
  // user input (or of page load) are waited for; background polling loops
  // that run long after any input are not, so settling stays bounded.
  // Animation-frame callbacks and intervals scheduled in that window do not
  // hold settling back, but make it wait for two quiet frames instead of one.
  const SHORT_MS = 1000, INPUT_WINDOW_MS = 1000;
  // A document about to be replaced fires beforeunload before its navigation's
  // request is even sent: until LEAVE_MS later (a download or a "stay" answer
  // leaves it in place) the probe reports it as leaving, never as settled.
  const LEAVE_MS = 2000;
  const state = { mutations: 0, lastInput: 0, leaving: -1e9 };
  window.addEventListener('beforeunload', () => { state.leaving = performance.now(); },
                          { capture: true });
  // A form submission only *plans* its navigation: Chromium runs it in a task of
  // its own, after the click that submitted has returned, and a busy renderer can
  // draw the probe's frames first -- the old page then looked settled (the example
  // UI suite's add-to-cart step, once in 60 under load). The submit event, not
  // cancelled once dispatched and aimed at this frame, counts as leaving too.
  let submitted = null;
  window.addEventListener('submit', (event) => {
    submitted = { event, at: performance.now() };
  }, { capture: true });
  const nativeSubmit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () {  // form.submit() fires no event
    submitted = { event: null, form: this, at: performance.now() };
    return nativeSubmit.call(this);
  };
  const submitLeaves = () => {
    if (!submitted || performance.now() - submitted.at >= LEAVE_MS) return false;
    const { event } = submitted;
    if (event && event.defaultPrevented) return false;
    const form = submitted.form || event.target;
    const submitter = event && event.submitter;
    const target = (submitter && submitter.getAttribute('formtarget')) || form.target || '';
    const method = (submitter && submitter.getAttribute('formmethod')) || form.method || '';
    return ['', '_self'].includes(target.toLowerCase()) && method.toLowerCase() !== 'dialog';
  };
  const pending = new Map();
  const frames = new Set();
  const intervals = new Set();
  const recent = () => performance.now() - state.lastInput <= INPUT_WINDOW_MS;
  const nativeSetTimeout = window.setTimeout;
  const nativeClearTimeout = window.clearTimeout;
  const nativeSetInterval = window.setInterval;
  const nativeClearInterval = window.clearInterval;
  const nativeRaf = window.requestAnimationFrame.bind(window);
  const nativeCancelRaf = window.cancelAnimationFrame.bind(window);
  window.setTimeout = function (fn, ms, ...args) {
    const delay = Number(ms) || 0;
    const now = performance.now();
    if (typeof fn !== 'function' || delay > SHORT_MS || now - state.lastInput > INPUT_WINDOW_MS) {
      return nativeSetTimeout(fn, ms, ...args);
    }
    let id = 0;
    id = nativeSetTimeout(function () {
      pending.delete(id);
      return fn.apply(this, args);
    }, ms);
    pending.set(id, now + delay);
    return id;
  };
  // setTimeout and setInterval share one id space; either clear works on both.
  window.clearTimeout = function (id) {
    pending.delete(id);
    intervals.delete(id);
    return nativeClearTimeout(id);
  };
  window.setInterval = function (...args) {
    const id = nativeSetInterval(...args);
    if (recent()) intervals.add(id);
    return id;
  };
  window.clearInterval = function (id) {
    pending.delete(id);
    intervals.delete(id);
    return nativeClearInterval(id);
  };
  window.requestAnimationFrame = function (fn) {
    if (typeof fn !== 'function' || !recent()) return nativeRaf(fn);
    let id = 0;
    id = nativeRaf(function (time) {
      frames.delete(id);
      return fn.call(this, time);
    });
    frames.add(id);
    return id;
  };
  window.cancelAnimationFrame = function (id) {
    frames.delete(id);
    return nativeCancelRaf(id);
  };
  for (const type of ['pointerdown', 'pointerup', 'keydown', 'keyup', 'wheel', 'input', 'click']) {
    window.addEventListener(type, () => { state.lastInput = performance.now(); },
                            { capture: true, passive: true });
  }
  new MutationObserver(() => { state.mutations++; }).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  const runningAnimations = () => {
    if (!document.getAnimations) return false;
    return document.getAnimations().some((a) => {
      if (a.playState !== 'running' || !a.effect) return false;
      return Number.isFinite(a.effect.getComputedTiming().endTime);
    });
  };
  // changed: whether anything was busy at any frame since the probe began.
  // unchangedFrames: quiet frames needed when nothing changed at all. One proves
  // a capture requested after the probe began: its frame is that first frame or
  // a later one, and the page was the same from the probe's start to that frame.
  const probe = (maxMs, unchangedFrames = 1) => new Promise((resolve) => {
    const start = performance.now();
    let seen = state.mutations, quiet = 0, count = 0, changed = false;
    const tick = () => {
      count++;
      if (performance.now() - state.leaving < LEAVE_MS || submitLeaves()) {
        return resolve({ stable: false, frames: count, busy: ['navigation'], changed: true,
                         retry: true });
      }
      const busy = [];
      if (state.mutations !== seen) { busy.push('dom'); seen = state.mutations; }
      if (pending.size) busy.push('timers');
      if (document.readyState !== 'complete') busy.push('loading');
      if (runningAnimations()) busy.push('animations');
      if (busy.length) changed = true;
      quiet = busy.length ? 0 : quiet + 1;
      const needed = frames.size || intervals.size ? 2 : (changed ? 1 : unchangedFrames);
      if (quiet >= needed) return resolve({ stable: true, frames: count, busy, changed });
      if (performance.now() - start >= maxMs) {
        return resolve({ stable: false, frames: count, busy, changed: true });
      }
      nativeRaf(tick);
    };
    nativeRaf(tick);
  });
  const running = new Map();
  let nextId = 0;
  const begin = (maxMs, unchangedFrames) => {
    nextId++;
    running.set(nextId, probe(maxMs, unchangedFrames));
    return nextId;
  };
  const result = (id) => {
    const found = running.get(id);
    running.delete(id);
    return found || Promise.resolve({ stable: false, frames: 0, busy: [], changed: true,
                                      retry: true });
  };
  Object.defineProperty(window, '__screenloop', {
    value: { probe, begin, result, state }, enumerable: false,
  });
})();
"""

SETTLE_PROBE = """
(maxMs) => window.__screenloop
  ? window.__screenloop.probe(maxMs)
  : new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve({
      stable: document.readyState === 'complete', frames: 2,
      busy: document.readyState === 'complete' ? [] : ['loading'], retry: true, changed: true,
    }))))
"""

# `Runtime.evaluate` expressions (the CDP session of the page, main world).
# One quiet frame when nothing changed since the probe began and nothing is
# pending (timers, frame callbacks, intervals, animations, loading): the capture
# requested after it is then current at the first frame after the input.
SETTLE_BEGIN = "window.__screenloop ? window.__screenloop.begin({max_ms}, 1) : 0"
SETTLE_RESULT = "window.__screenloop.result({probe_id})"


def blocked_page_html(url: str, reason: str) -> str:
    """The small page shown instead of a navigation the domain policy refused."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Blocked</title>"
        "<style>body{font:18px sans-serif;margin:48px;color:#222;background:#fff}"
        "h1{font-size:28px;color:#b00020}code{word-break:break-all}</style></head><body>"
        "<h1>Blocked by screenloop policy</h1>"
        f"<p>This page was not loaded: <code>{html.escape(url)}</code></p>"
        f"<p>Reason: {html.escape(reason)}</p>"
        "<p>Go back or choose an allowed site.</p></body></html>"
    )
