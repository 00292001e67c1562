"""A Tk window that logs every input event it receives as JSON lines.

Usage: python tk_events.py LOG_FILE [--title T] [--geometry WxH+X+Y]
[--redraw-delay-ms LO-HI]

The window fills the screen (or has the given geometry, as an ordinary window
the window manager decorates): a Text widget on top (where typed text lands) and
a canvas below. Each line of LOG_FILE is one JSON object with a ``type``:
``ready`` (window mapped and focused; ``every_motion`` says whether Tk's
motion compression is off), ``ButtonPress``/``ButtonRelease``
(``num``, ``x_root``, ``y_root``, ``state``), ``KeyPress``/``KeyRelease``
(``keysym``, ``keycode``, ``state``, ``char``), ``Motion`` (only while a
button is held), ``MouseWheel`` (``delta``, ``state``), ``Double``/``Triple``
(a multi-click of button 1), and ``text`` (the Text widget's whole content
after each key release). The file is flushed after every event, so a test can
read it while the app runs. Escape clears the Text widget (a test's reset).

With ``--redraw-delay-ms LO-HI`` the app behaves like a slow toolkit: every
KeyPress bumps a counter, and LO-HI ms later (random) the canvas is filled with
a colour for that counter and a ``drawn`` event (``n``, ``color``) is logged
once the fill is on the screen. A test compares a screenshot with the colour of
the latest ``drawn`` event to find stale screenshots.

`state` is X's modifier mask: Shift 1, Lock 2, Control 4, Mod1 (Alt) 8,
Mod4 (Super) 64, Button1 256, Button2 512, Button3 1024.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import random
import time
import tkinter as tk


def keep_every_motion(root: tk.Tk) -> bool:
    """Turn off Tk's motion compression; returns whether that worked.

    Tk merges motion events that queue up before it reads them into the last one,
    so on a busy machine a drag through four points can log only two of them. A
    test of the path needs every motion the X server delivered. Tk 8.6 offers the
    switch only in C (`Tk_CollapseMotionEvents`), reached here through ctypes.
    """
    try:
        name = ctypes.util.find_library(f"tk{tk.TkVersion}") or f"libtk{tk.TkVersion}.so"
        libtk = ctypes.CDLL(name)
        libtk.Tk_MainWindow.restype = ctypes.c_void_p
        libtk.Tk_MainWindow.argtypes = [ctypes.c_void_p]
        libtk.Tk_CollapseMotionEvents.argtypes = [ctypes.c_void_p, ctypes.c_int]
        tkwin = libtk.Tk_MainWindow(root.tk.interpaddr())
        if not tkwin:
            return False
        # Despite its `Display *` parameter, Tk 8.6 treats the argument as Tk's own
        # TkDisplay: the second field of a TkWindow (`dispPtr`), not Tk_Display().
        tk_display = ctypes.cast(tkwin, ctypes.POINTER(ctypes.c_void_p))[1]
        if not tk_display:
            return False
        libtk.Tk_CollapseMotionEvents(tk_display, 0)
    except (OSError, AttributeError):
        return False
    return True


def color_for(n: int) -> str:
    """The canvas colour after `n` key presses (distinct for neighbouring n)."""
    return f"#{(n * 53) % 200 + 28:02x}{(n * 97) % 200 + 28:02x}{(n * 31) % 200 + 28:02x}"


def main(log_path: str, title: str, geometry: str | None, delay: tuple[int, int] | None) -> None:
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the app

    def emit(kind: str, **fields: object) -> None:
        fields["type"] = kind
        fields["t"] = time.monotonic()
        log.write(json.dumps(fields, ensure_ascii=False) + "\n")
        log.flush()

    root = tk.Tk()
    root.title(title)
    every_motion = keep_every_motion(root)
    if geometry is None:
        width, height = root.winfo_screenwidth(), root.winfo_screenheight()
        root.geometry(f"{width}x{height}+0+0")
        root.attributes("-fullscreen", True)
    else:
        root.geometry(geometry)
        width, height = (int(v) for v in geometry.split("+")[0].split("x"))

    text = tk.Text(root, height=6, font=("DejaVu Sans", 14), undo=False)
    text.pack(side="top", fill="x")
    canvas = tk.Canvas(root, background="white", highlightthickness=0)
    canvas.pack(side="top", fill="both", expand=True)

    def on_button(event: tk.Event, kind: str) -> None:
        emit(
            kind,
            num=event.num,
            x_root=event.x_root,
            y_root=event.y_root,
            state=event.state,
            widget=str(event.widget),
        )

    presses = 0

    def redraw(n: int) -> None:
        color = color_for(n)
        canvas.configure(background=color)
        canvas.update_idletasks()  # drawn now, not at the next idle moment
        emit("drawn", n=n, color=color)

    def on_key(event: tk.Event, kind: str) -> None:
        nonlocal presses
        emit(kind, keysym=event.keysym, keycode=event.keycode, state=event.state, char=event.char)
        if kind == "KeyPress" and delay is not None:
            presses += 1
            root.after(random.randint(*delay), redraw, presses)
        if kind == "KeyPress" and event.keysym == "Escape":
            text.delete("1.0", "end")
        if kind == "KeyRelease":
            emit("text", text=text.get("1.0", "end-1c"))

    def on_motion(event: tk.Event) -> None:
        if int(event.state) & (0x100 | 0x200 | 0x400):  # a button is held
            emit("Motion", x_root=event.x_root, y_root=event.y_root, state=event.state)

    def on_wheel(event: tk.Event) -> None:
        emit(
            "MouseWheel",
            delta=event.delta,
            state=event.state,
            x_root=event.x_root,
            y_root=event.y_root,
        )

    # Raw events go to the "log" tag, multi-clicks to the "multi" tag: within one
    # tag Tk runs only the most specific binding, so <Double-1> would hide the
    # second ButtonPress if both lived on the same tag.
    for widget in (root, text, canvas):
        widget.bindtags((*widget.bindtags(), "log", "multi"))
    root.bind_class("log", "<ButtonPress>", lambda e: on_button(e, "ButtonPress"))
    root.bind_class("log", "<ButtonRelease>", lambda e: on_button(e, "ButtonRelease"))
    root.bind_class("log", "<KeyPress>", lambda e: on_key(e, "KeyPress"))
    root.bind_class("log", "<KeyRelease>", lambda e: on_key(e, "KeyRelease"))
    root.bind_class("log", "<Motion>", on_motion)
    root.bind_class("log", "<MouseWheel>", on_wheel)
    root.bind_class(
        "multi",
        "<Double-ButtonPress-1>",
        lambda e: emit("Double", x_root=e.x_root, y_root=e.y_root),
    )
    root.bind_class(
        "multi",
        "<Triple-ButtonPress-1>",
        lambda e: emit("Triple", x_root=e.x_root, y_root=e.y_root),
    )

    ready = False

    def announce() -> None:
        nonlocal ready
        if ready:
            return
        root.update_idletasks()
        if root.winfo_viewable() and root.focus_get() is not None:
            ready = True
            emit(
                "ready",
                width=width,
                height=height,
                x=root.winfo_rootx(),
                y=root.winfo_rooty(),
                text_height=text.winfo_height(),
                every_motion=every_motion,
            )
        else:
            text.focus_force()
            root.after(20, announce)

    text.focus_force()
    root.after(20, announce)
    root.mainloop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--title", default="tk_events")
    parser.add_argument("--geometry")
    parser.add_argument("--redraw-delay-ms")
    args = parser.parse_args()
    lo_hi = None
    if args.redraw_delay_ms:
        lo, hi = (int(v) for v in args.redraw_delay_ms.split("-"))
        lo_hi = (lo, hi)
    main(args.log, args.title, args.geometry, lo_hi)
