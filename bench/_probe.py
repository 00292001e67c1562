"""The freshness probes: a page and a Tk app whose visible state changes a known time
after each click, and the pixel test that says which state a screenshot shows.

Both draw the same layout at any size: a large box across the top whose colour
is the number of effects so far (mod 8, from `PALETTE`), a counter, and four
buttons along the bottom. Clicking a button schedules one effect:

- ``0``: at once, in the click handler;
- ``100`` / ``300``: that many milliseconds later (a timer);
- ``fetch200``: when a loopback request that the server answers after 200 ms
  comes back.

Every effect is stamped with the wall clock (page: ``performance.timeOrigin +
now()``; app: ``time.time()`` after Tk drew it) so the bench knows when it
became visible. A screenshot is *fresh* when its box shows the colour of the
effect of the action it follows, decided on the captured pixels.
"""

from __future__ import annotations

import io

__all__ = [
    "DELAYS",
    "PALETTE",
    "PROBE_APP",
    "SLOW_PATH",
    "SLOW_S",
    "box_point",
    "button_point",
    "probe_page",
    "shown_count",
]

DELAYS = ("0", "100", "300", "fetch200")
SLOW_PATH = "/slow"
SLOW_S = 0.2

PALETTE = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
)

_BUTTON_H = 40
_BAR_H = 100  # the strip under the box with the buttons


def button_point(delay: str, width: int, height: int) -> tuple[int, int]:
    """Where to click for `delay` (the centre of its button)."""
    i = DELAYS.index(delay)
    slot = width // len(DELAYS)
    return slot * i + slot // 2, height - _BAR_H // 2


def box_point(width: int, height: int) -> tuple[int, int]:
    """A pixel inside the coloured box."""
    return width // 2, (height - _BAR_H) // 2


def shown_count(png: bytes, width: int, height: int) -> int:
    """The effect count (mod 8) the screenshot's box shows: nearest palette colour."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB").getpixel(box_point(width, height))
    assert isinstance(rgb, tuple)
    dist = [sum((a - b) ** 2 for a, b in zip(rgb, c, strict=False)) for c in PALETTE]
    return dist.index(min(dist))


def _css(rgb: tuple[int, int, int]) -> str:
    return f"'rgb({rgb[0]},{rgb[1]},{rgb[2]})'"


def probe_page(width: int, height: int) -> str:
    """The probe page for a `width` x `height` viewport."""
    slot = width // len(DELAYS)
    buttons = "".join(
        f'<button id="b{d}" style="left:{slot * i + 10}px;width:{slot - 20}px">{d}</button>'
        for i, d in enumerate(DELAYS)
    )
    top = height - _BAR_H // 2 - _BUTTON_H // 2
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>bench: freshness probe</title>
<style>body{{margin:0;font:18px sans-serif;overflow:hidden}}
#box{{position:absolute;left:0;top:0;width:{width}px;height:{height - _BAR_H}px}}
#n{{position:absolute;left:20px;top:20px;font-size:40px;color:#000}}
button{{position:absolute;top:{top}px;height:{_BUTTON_H}px}}</style></head>
<body><div id="box"></div><div id="n">0</div>{buttons}
<script>
 const pal = [{",".join(_css(c) for c in PALETTE)}];
 const box = document.getElementById('box'), n = document.getElementById('n');
 let count = 0; window.__effects = [];
 box.style.background = pal[0];
 const effect = () => {{
   count++; box.style.background = pal[count % 8]; n.textContent = String(count);
   window.__effects.push(performance.timeOrigin + performance.now());
 }};
 document.getElementById('b0').onclick = effect;
 document.getElementById('b100').onclick = () => setTimeout(effect, 100);
 document.getElementById('b300').onclick = () => setTimeout(effect, 300);
 document.getElementById('bfetch200').onclick =
   () => fetch('{SLOW_PATH}?' + Math.random()).then(r => r.text()).then(effect);
</script></body></html>
"""


# argv: slow URL, stamp file. Fills the screen; same layout as the page.
PROBE_APP = f"""
import queue, sys, threading, time, tkinter as tk, urllib.request
slow_url, stamps = sys.argv[1], open(sys.argv[2], "a", buffering=1)
pal = ["#%02x%02x%02x" % c for c in {PALETTE!r}]
delays = {DELAYS!r}
root = tk.Tk()
w, h = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"{{w}}x{{h}}+0+0")
root.attributes("-fullscreen", True)
box = tk.Frame(root, bg=pal[0], highlightthickness=0, bd=0)
box.place(x=0, y=0, width=w, height=h - {_BAR_H})
label = tk.Label(root, text="0", font=("DejaVu Sans", 28), bg="white")
label.place(x=20, y=20)
count = 0
done = queue.Queue()

def effect():
    global count
    count += 1
    box.configure(bg=pal[count % 8])
    label.configure(text=str(count))
    root.update_idletasks()
    stamps.write(f"{{time.time()}}\\n")

def fetch():
    threading.Thread(
        target=lambda: done.put(urllib.request.urlopen(slow_url).read()), daemon=True
    ).start()

def poll():
    while not done.empty():
        done.get()
        effect()
    root.after(5, poll)

actions = [effect, lambda: root.after(100, effect), lambda: root.after(300, effect), fetch]
slot = w // len(delays)
for i, (d, act) in enumerate(zip(delays, actions)):
    b = tk.Button(root, text=d, command=act)
    b.place(x=slot * i + 10, y=h - {_BAR_H // 2 + _BUTTON_H // 2}, width=slot - 20,
            height={_BUTTON_H})
root.after(5, poll)
root.mainloop()
"""
