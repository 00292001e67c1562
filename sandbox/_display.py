"""A virtual X display: Xvfb plus a window manager, owning every process it starts.

Xvfb is started with ``-displayfd`` so the server picks a free display number
itself and tells us which one (no ``:99`` guessing, no races between two
displays started at once). openbox runs on it with a configuration that binds
its decorations only: the title bar focuses, raises and moves a window, its
buttons close, maximise and iconify, the edges resize. It has no key bindings
and no bindings in client windows: openbox's key bindings and its synchronous
grab for click-to-focus hold back a click that follows typed non-ASCII text
(see ENVIRONMENT.md). Click-to-focus in client windows is done by
`DesktopComputer`, which asks the window manager to activate the window under
a press (``_NET_ACTIVE_WINDOW``), the way a pager does.

Every process the display starts (Xvfb, openbox, and whatever `launch` runs)
is put in its own process group and torn down by `close` (SIGTERM, a bounded
wait, then SIGKILL), also when the ``with`` block exits by an exception or
Ctrl-C, and as a last resort when the object is garbage-collected or the
interpreter exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shlex
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from sandbox._errors import DisplayError

__all__ = ["VirtualDisplay", "connect_xlib"]

logger = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 10.0
_TERMINATE_TIMEOUT_S = 3.0


# An openbox configuration with mouse bindings and no key bindings (see module
# docstring). No binding uses a modifier, so a click with keys held (ctrl+click)
# reaches the application unchanged. Nothing is bound in the "Client" context (a
# synchronous grab, see the module docstring) nor in "Frame" (a plain press bound
# there takes the press away from the title-bar buttons).
def _bind(button: str, event: str, *actions: str) -> str:
    inner = "".join(f'<action name="{a}"/>' for a in actions)
    return f'<mousebind button="{button}" action="{event}">{inner}</mousebind>'


def _context(name: str, *bindings: str) -> str:
    # openbox reads one context name per <context>
    return f'    <context name="{name}">{"".join(bindings)}</context>\n'


_PRESS_FOCUS = _bind("Left", "Press", "Focus", "Raise")
_MOUSE_BINDINGS = "".join(
    [
        _context(
            "Titlebar",
            _PRESS_FOCUS,
            _bind("Left", "Drag", "Move"),
            _bind("Left", "DoubleClick", "ToggleMaximize"),
        ),
        *(
            _context(edge, _PRESS_FOCUS, _bind("Left", "Drag", "Resize"))
            for edge in [
                "Top",
                "Bottom",
                "Left",
                "Right",
                "TLCorner",
                "TRCorner",
                "BLCorner",
                "BRCorner",
            ]
        ),
        *(
            _context(button, _PRESS_FOCUS, _bind("Left", "Click", action))
            for button, action in (
                ("Close", "Close"),
                ("Maximize", "ToggleMaximize"),
                ("Iconify", "Iconify"),
            )
        ),
    ]
)
_OPENBOX_RC = f"""<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <focus>
    <focusNew>yes</focusNew>
    <followMouse>no</followMouse>
  </focus>
  <placement><policy>Smart</policy></placement>
  <desktops><number>1</number></desktops>
  <theme><titleLayout>NLIMC</titleLayout></theme>
  <keyboard></keyboard>
  <mouse>
    <dragThreshold>3</dragThreshold>
    <doubleClickTime>300</doubleClickTime>
{_MOUSE_BINDINGS}  </mouse>
</openbox_config>
"""


_empty_xauthority: str | None = None


def connect_xlib(name: str) -> Any:
    """Open a python-xlib connection to display `name` (``":N"``).

    python-xlib refuses to connect at all when ``$XAUTHORITY`` is unset and
    ``~/.Xauthority`` does not exist (a fresh container, a CI runner), although
    libX11 would connect without a cookie. In exactly that case, point
    ``XAUTHORITY`` at an empty file once for this process; otherwise the
    environment is left alone. Raises `DisplayError` if the display cannot be
    reached.
    """
    global _empty_xauthority
    from Xlib import display as xdisplay
    from Xlib import error as xerror

    if "XAUTHORITY" not in os.environ and not Path("~/.Xauthority").expanduser().exists():
        if _empty_xauthority is None:
            fd, path = tempfile.mkstemp(prefix="screenloop-xauth-")
            # One entry that matches no display: python-xlib prints a warning for an
            # empty file, and a non-matching entry means "connect without a cookie".
            entry = b"".join(
                struct.pack(">H", len(f)) + f
                for f in (b"screenloop-no-such-host", b"65535", b"MIT-MAGIC-COOKIE-1", bytes(16))
            )
            os.write(fd, struct.pack(">H", 256) + entry)  # 256 = FamilyLocal
            os.close(fd)
            _empty_xauthority = path
        logger.debug("no Xauthority file; using an empty one for python-xlib")
        os.environ["XAUTHORITY"] = _empty_xauthority
    try:
        return xdisplay.Display(name)
    except (xerror.DisplayError, xerror.ConnectionClosedError, OSError) as exc:
        raise DisplayError(f"cannot connect to X display {name!r}: {exc}") from exc


def _terminate(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM the process group of `proc`, wait, then SIGKILL it."""
    if proc.poll() is not None:
        # The leader is gone; its group may still hold children.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        logger.warning("pid %d did not exit after SIGTERM; killing it", proc.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout_s)


def _teardown(procs: list[subprocess.Popen[bytes]], tmpdir: str | None) -> None:
    """Stop `procs` newest first (launched programs, then the WM, then Xvfb)."""
    while procs:
        proc = procs.pop()
        try:
            _terminate(proc, _TERMINATE_TIMEOUT_S)
        except Exception:  # a last-resort path: keep tearing the rest down
            logger.exception("failed to stop pid %d", proc.pid)
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


class VirtualDisplay:
    """An Xvfb display (and openbox on it) that programs can be launched into.

    Use it as a context manager (``with`` or ``async with``), or call `start`
    and `close` yourself::

        with VirtualDisplay(1280, 720) as display:
            display.launch("xterm -e top")
            ...  # DesktopComputer(display)
    """

    def __init__(
        self,
        width: int = 1280,
        height: int = 720,
        window_manager: bool = True,
        *,
        xvfb: str = "Xvfb",
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"display size must be positive, got {width}x{height}")
        self._width = width
        self._height = height
        self._window_manager = window_manager
        self._xvfb = xvfb
        self._extra_env = dict(extra_env or {})
        self._display: str | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._tmpdir: str | None = None
        self._finalizer: weakref.finalize | None = None
        self._closed = False
        self._xvfb_log = Path(os.devnull)
        self._launch_logs: dict[int, Path] = {}  # pid -> the file its stderr goes to

    # -- properties -----------------------------------------------------------------

    @property
    def display(self) -> str:
        """The X display name, ``":N"``."""
        if self._display is None:
            raise DisplayError("the virtual display is not started; call start() or use `with`")
        return self._display

    @property
    def size(self) -> tuple[int, int]:
        """The screen size ``(width, height)`` in pixels."""
        return (self._width, self._height)

    @property
    def env(self) -> dict[str, str]:
        """A copy of ``os.environ`` with ``DISPLAY`` set, for child processes."""
        env = dict(os.environ)
        env.update(self._extra_env)
        env["DISPLAY"] = self.display
        # Programs must not wander onto another display through these.
        env.pop("WAYLAND_DISPLAY", None)
        if self._tmpdir:
            env.setdefault("XDG_RUNTIME_DIR", self._tmpdir)
        return env

    @property
    def running(self) -> bool:
        """True while the X server is alive."""
        return bool(self._procs) and self._procs[0].poll() is None

    @property
    def pids(self) -> list[int]:
        """Process ids this display started and still owns (Xvfb first)."""
        return [p.pid for p in self._procs]

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> VirtualDisplay:
        """Start Xvfb (and the window manager); returns self. Idempotent."""
        if self._display is not None:
            return self
        if self._closed:
            raise DisplayError("this VirtualDisplay was closed; create a new one")
        self._tmpdir = tempfile.mkdtemp(prefix="screenloop-display-")
        # The finalizer holds the list, not self, so it can run after self is gone.
        self._finalizer = weakref.finalize(self, _teardown, self._procs, self._tmpdir)
        try:
            self._display = self._start_xvfb()
            if self._window_manager:
                self._start_openbox()
        except BaseException:
            self.close()
            raise
        logger.info("virtual display %s started (%dx%d)", self._display, self._width, self._height)
        return self

    def _start_xvfb(self) -> str:
        binary = shutil.which(self._xvfb)
        if binary is None:
            raise DisplayError(
                f"{self._xvfb!r} not found on PATH: install it (apt-get install xvfb, "
                "or `make setup`)"
            )
        assert self._tmpdir is not None
        # stderr to a file, not a pipe: xkbcomp warnings could fill a pipe and block Xvfb.
        self._xvfb_log = Path(self._tmpdir, "xvfb.log")
        read_fd, write_fd = os.pipe()
        argv = [
            binary,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{self._width}x{self._height}x24",
            "-nolisten",
            "tcp",
        ]
        try:
            with open(self._xvfb_log, "wb") as log:
                proc = subprocess.Popen(
                    argv,
                    pass_fds=(write_fd,),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,
                )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            raise DisplayError(f"could not start Xvfb ({binary}): {exc}") from exc
        self._procs.append(proc)
        os.close(write_fd)
        try:
            number = self._read_display_number(read_fd, proc)
        finally:
            os.close(read_fd)
        return f":{number}"

    def _read_display_number(self, fd: int, proc: subprocess.Popen[bytes]) -> int:
        # Xvfb writes the number and the newline separately; closing the pipe
        # before the newline arrives kills Xvfb (ENVIRONMENT.md), so read to it.
        data = b""
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DisplayError(f"Xvfb did not report its display within {_STARTUP_TIMEOUT_S}s")
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not ready:
                if proc.poll() is not None:
                    raise DisplayError(f"Xvfb exited at start: {self._stderr_of(proc)}")
                continue
            chunk = os.read(fd, 64)
            if not chunk:
                raise DisplayError(f"Xvfb exited at start: {self._stderr_of(proc)}")
            data += chunk
        try:
            return int(data.strip())
        except ValueError as exc:
            raise DisplayError(f"Xvfb reported a malformed display number {data!r}") from exc

    def _stderr_of(self, proc: subprocess.Popen[bytes]) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)
        try:
            text = self._xvfb_log.read_text(errors="replace").strip()
        except OSError:
            text = ""
        return f"status {proc.returncode}: {text[-2000:] or '(no output)'}"

    def _start_openbox(self) -> None:
        binary = shutil.which("openbox")
        if binary is None:
            raise DisplayError(
                "openbox not found on PATH: install it (apt-get install openbox, or "
                "`make setup`), or pass window_manager=False"
            )
        assert self._tmpdir is not None
        rc = Path(self._tmpdir, "openbox-rc.xml")
        rc.write_text(_OPENBOX_RC)
        env = self.env
        # Keep openbox away from the user's own config, cache and session files.
        env["XDG_CONFIG_HOME"] = str(Path(self._tmpdir, "config"))
        env["XDG_CACHE_HOME"] = str(Path(self._tmpdir, "cache"))
        env["XDG_DATA_HOME"] = str(Path(self._tmpdir, "data"))
        proc = self._popen([binary, "--config-file", str(rc)], env=env)
        self._wait_for_window_manager(proc)

    def _wait_for_window_manager(self, proc: subprocess.Popen[bytes]) -> None:
        from Xlib import X

        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        conn = connect_xlib(self.display)
        try:
            atom = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
            root = conn.screen().root
            delay = 0.005
            while True:
                prop = root.get_full_property(atom, X.AnyPropertyType)
                if prop is not None and len(prop.value) > 0:
                    return
                if proc.poll() is not None:
                    raise DisplayError(f"openbox exited at start with status {proc.returncode}")
                if time.monotonic() > deadline:
                    raise DisplayError(f"openbox did not come up within {_STARTUP_TIMEOUT_S}s")
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        finally:
            conn.close()

    def _popen(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, **kwargs: object
    ) -> subprocess.Popen[bytes]:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        proc: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
            list(argv),
            env=dict(env) if env is not None else self.env,
            start_new_session=True,  # its own process group: close() kills its children too
            **kwargs,
        )
        self._procs.append(proc)
        return proc

    def launch(self, argv: Sequence[str] | str, **popen_kwargs: object) -> subprocess.Popen[bytes]:
        """Start a program on this display; it is stopped by `close`.

        A string is split the way a shell splits words (``"xterm -e top"``); no
        shell runs. Extra keyword arguments go to `subprocess.Popen` (``env``
        replaces `env` entirely; ``stdout`` defaults to DEVNULL, ``stderr`` to a
        file `stderr_tail` reads).
        """
        if not self.running:
            raise DisplayError("the virtual display is not running")
        args = shlex.split(argv) if isinstance(argv, str) else list(argv)
        if not args:
            raise ValueError("launch() needs a program to run")
        env = popen_kwargs.pop("env", None)
        log: Path | None = None
        if "stderr" not in popen_kwargs and self._tmpdir is not None:
            # to a file, not a pipe (nobody drains it): `stderr_tail` reads it
            log = Path(self._tmpdir, f"launch-{len(self._launch_logs)}.stderr")
        try:
            with open(log, "wb") if log is not None else contextlib.nullcontext() as err:
                if err is not None:
                    popen_kwargs["stderr"] = err
                proc = self._popen(args, env=env, **popen_kwargs)  # type: ignore[arg-type]
        except OSError as exc:
            raise DisplayError(f"could not launch {args[0]!r} on {self.display}: {exc}") from exc
        if log is not None:
            self._launch_logs[proc.pid] = log
        logger.info("launched %s (pid %d) on %s", shlex.join(args), proc.pid, self.display)
        return proc

    def stderr_tail(self, proc: subprocess.Popen[bytes], max_lines: int = 20) -> str:
        """The last lines a launched program wrote to stderr ("" if none or not captured)."""
        log = self._launch_logs.get(proc.pid)
        if log is None:
            return ""
        try:
            text = log.read_bytes()[-16384:].decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-max_lines:])

    def close(self) -> None:
        """Stop every process this display started. Idempotent."""
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()  # runs _teardown once, then detaches
            self._finalizer = None
        if self._display is not None:
            logger.info("virtual display %s closed", self._display)
        self._display = None

    # -- context managers -------------------------------------------------------------

    def __enter__(self) -> VirtualDisplay:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> VirtualDisplay:
        import asyncio

        task = asyncio.ensure_future(asyncio.to_thread(self.start))
        try:
            return await asyncio.shield(task)
        except BaseException:
            # Cancelled (or failed) while starting: let the start thread finish, then
            # tear down whatever it started.
            with contextlib.suppress(BaseException):
                await task
            await asyncio.to_thread(self.close)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import asyncio

        # Teardown must complete even if this task is being cancelled.
        await asyncio.shield(asyncio.to_thread(self.close))

    def __repr__(self) -> str:
        state = self._display or ("closed" if self._closed else "not started")
        return f"VirtualDisplay({self._width}x{self._height}, {state})"
