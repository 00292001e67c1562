"""Page-side pieces of the Playwright executor: the settle probe and the blocked page.

`SETTLE_INIT_SCRIPT` runs in every frame before the page's own scripts. It
records DOM mutations and short timers scheduled shortly after user input or
page load, so `settle` can wait for "a change is coming in 300 ms" without a
fixed sleep. `SETTLE_PROBE` then waits, in the page, for two consecutive
animation frames with no DOM change, no such pending timer, no running finite
animation, and a complete document.
"""

from __future__ import annotations

import html

__all__ = ["SETTLE_INIT_SCRIPT", "SETTLE_PROBE", "blocked_page_html"]

SETTLE_INIT_SCRIPT = r"""
(() => {
  if (window.__screenloop) return;
  // Timers shorter than SHORT_MS scheduled within INPUT_WINDOW_MS of the last
  // user input (or of page load) are waited for; background polling loops
  // that run long after any input are not, so settling stays bounded.
  const SHORT_MS = 1000, INPUT_WINDOW_MS = 1000;
  const state = { mutations: 0, lastInput: 0 };
  const pending = new Map();
  const nativeSetTimeout = window.setTimeout;
  const nativeClearTimeout = window.clearTimeout;
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
  window.clearTimeout = function (id) {
    pending.delete(id);
    return nativeClearTimeout(id);
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
  const probe = (maxMs) => new Promise((resolve) => {
    const start = performance.now();
    let seen = state.mutations, quiet = 0, frames = 0;
    const tick = () => {
      frames++;
      const busy = [];
      if (state.mutations !== seen) { busy.push('dom'); seen = state.mutations; }
      if (pending.size) busy.push('timers');
      if (document.readyState !== 'complete') busy.push('loading');
      if (runningAnimations()) busy.push('animations');
      quiet = busy.length ? 0 : quiet + 1;
      if (quiet >= 2) return resolve({ stable: true, frames, busy });
      if (performance.now() - start >= maxMs) return resolve({ stable: false, frames, busy });
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  Object.defineProperty(window, '__screenloop', { value: { probe, state }, enumerable: false });
})();
"""

SETTLE_PROBE = """
(maxMs) => window.__screenloop
  ? window.__screenloop.probe(maxMs)
  : new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve({
      stable: document.readyState === 'complete', frames: 2,
      busy: document.readyState === 'complete' ? [] : ['loading'], retry: true,
    }))))
"""


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
