"""Native ``<select>`` lists the model can click.

Chromium draws the open list of a native ``<select>`` into screenshots, but in
headless mode a click on a drawn option reaches the element underneath (only
the keyboard works): the model sees a list it cannot use. This init script
(every page, every frame) opens an in-page list instead, drawn where Chromium
draws its own (below the select, or above it when there is more room there),
whose options take real clicks: the option is selected, ``input`` and
``change`` fire on the select, the list closes. A click anywhere else, a
scroll, a key or a second click on the select closes it; the keyboard works on
the focused select as before. The list lives in a closed shadow root so the
page's own styles and queries do not reach it.

Geometry (CSS pixels, used by the tests): options `OPTION_HEIGHT` high, the
list one border pixel around them, at most `MAX_VISIBLE` options before it
scrolls.
"""

from __future__ import annotations

__all__ = ["MAX_VISIBLE", "OPTION_HEIGHT", "SELECT_INIT_SCRIPT"]

OPTION_HEIGHT = 22
MAX_VISIBLE = 12

SELECT_INIT_SCRIPT = """
(() => {
  if (window.__screenloopSelect) return;
  window.__screenloopSelect = true;
  const ITEM = __ITEM__, MAX = __MAX__;
  let open = null;  // {host, select}
  const close = () => { if (open) { open.host.remove(); open = null; } };
  const show = (select) => {
    close();
    const r = select.getBoundingClientRect();
    const options = Array.from(select.options);
    const height = Math.min(options.length, MAX) * ITEM + 2;
    const below = innerHeight - r.bottom, above = r.top;
    const top = (below >= height || below >= above) ? r.bottom : Math.max(0, r.top - height);
    const host = document.createElement('screenloop-select');
    const root = host.attachShadow({mode: 'closed'});
    const list = document.createElement('div');
    list.style.cssText = `position:fixed;left:${r.left}px;top:${top}px;` +
      `min-width:${r.width}px;max-height:${height}px;overflow-y:auto;box-sizing:border-box;` +
      'background:#fff;border:1px solid #767676;z-index:2147483647;margin:0;padding:0;' +
      'font:13px Arial, sans-serif;color:#000;box-shadow:0 2px 6px rgba(0,0,0,.3);' +
      'text-align:left;cursor:default;user-select:none';
    options.forEach((option, index) => {
      const item = document.createElement('div');
      item.textContent = option.label || option.text;
      const chosen = index === select.selectedIndex;
      item.style.cssText = `height:${ITEM}px;line-height:${ITEM}px;padding:0 8px;` +
        'white-space:pre;overflow:hidden;' +
        (option.disabled ? 'color:#999;' : '') +
        (chosen ? 'background:#1967d2;color:#fff;' : '');
      item.addEventListener('mousedown', e => e.preventDefault());
      item.addEventListener('click', e => {
        e.stopPropagation();
        if (option.disabled) return;
        close();
        if (select.selectedIndex !== index) {
          select.selectedIndex = index;
          select.dispatchEvent(new Event('input', {bubbles: true, composed: true}));
          select.dispatchEvent(new Event('change', {bubbles: true}));
        }
      });
      list.appendChild(item);
    });
    root.appendChild(list);
    (document.body || document.documentElement).appendChild(host);
    const chosen = list.children[select.selectedIndex];
    if (chosen) list.scrollTop = Math.max(0, chosen.offsetTop - height + ITEM * 2);
    open = {host, select};
  };
  addEventListener('mousedown', e => {
    if (open && e.composedPath().includes(open.host)) return;
    const target = e.composedPath()[0];
    const select = target instanceof Element ? target.closest('select') : null;
    if (e.button === 0 && select && !select.multiple && select.size <= 1 && !select.disabled) {
      e.preventDefault();  // no native list: it would take no clicks
      select.focus();
      if (open && open.select === select) close(); else show(select);
      return;
    }
    close();
  }, true);
  addEventListener('keydown', close, true);
  addEventListener('scroll', e => {
    if (open && !e.composedPath().includes(open.host)) close();
  }, true);
  addEventListener('blur', close);
})();
""".replace("__ITEM__", str(OPTION_HEIGHT)).replace("__MAX__", str(MAX_VISIBLE))
