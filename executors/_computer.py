"""The `Computer` protocol: one async method per primitive action.

Every backend (Playwright, desktop, remote...) implements this. Coordinates
are always *screen pixels of the declared display* (the size screenshots come
back at); model-space conversion happens in the agent, device-pixel scaling
inside the backend (see `executors._geometry`). Keys are canonical key names
(see `executors._keys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, runtime_checkable

__all__ = [
    "ALL_CAPABILITIES",
    "Button",
    "Capability",
    "ChoosesFiles",
    "Computer",
    "ExecutorEvent",
    "ImageFormat",
    "Point",
    "Screenshot",
    "SettleResult",
    "Size",
]

Button = Literal["left", "right", "middle", "back", "forward"]
ImageFormat = Literal["png", "jpeg", "webp"]
Capability = Literal[
    "screenshot",
    "click",
    "double_click",
    "triple_click",
    "drag",
    "move",
    "scroll",
    "type",
    "keypress",
    "key_down",
    "key_up",
    "mouse_down",
    "mouse_up",
    "wait",
    "navigate",
    "current_url",
]
ALL_CAPABILITIES: frozenset[Capability] = frozenset(Capability.__args__)  # type: ignore[attr-defined]


class Point(NamedTuple):
    """A position in screen pixels of the declared display."""

    x: int
    y: int


class Size(NamedTuple):
    """A width and height in pixels."""

    width: int
    height: int


@dataclass(frozen=True)
class Screenshot:
    """An encoded screenshot at the declared display size."""

    data: bytes
    format: ImageFormat
    width: int
    height: int
    capture_s: float = 0.0
    encode_s: float = 0.0
    # `data` as base64 when the backend already had it (Chromium sends base64), so
    # the request's data URL is not encoded a second time; None: encode `data`
    b64: str | None = field(default=None, repr=False, compare=False)
    hosted_url: str | None = None
    """Where the remote computer serves this image (LightconeComputer with
    ``hosted_screenshots``): sent to the model instead of a data URL."""

    @property
    def media_type(self) -> str:
        """The MIME type of `data`."""
        return f"image/{self.format}"


@dataclass(frozen=True)
class SettleResult:
    """How long the backend waited for the screen to become stable.

    `window_s`, on a desktop: the response window this settle waited out after
    the input (see `executors._desktop._settle`), and `at_ceiling` whether that
    window had grown to its ceiling (the apps were seen answering, or drawing,
    as late as it allows). None / False where there is no such window.
    `working_s`: how long of the wait the screen was quiet but a program on the
    display was still runnable (it had not drawn its answer yet).
    """

    waited_s: float
    stable: bool
    reason: str = ""
    window_s: float | None = None
    at_ceiling: bool = False
    working_s: float = 0.0


@dataclass(frozen=True)
class ExecutorEvent:
    """Something the executor noticed that the agent must record.

    kinds: ``tab_opened``, ``tab_switched``, ``tab_closed``, ``navigation_blocked``,
    ``request_blocked``, ``download``, ``dialog``, ``file_chooser``, ``loading``,
    ``page_crashed``, ``warning``.

    `notice` is a short line for the model about what its next screenshot
    cannot show (a dialog in headless mode, a download, the tab it is now
    on, a page still loading), or empty when the event is for the record only.
    """

    kind: str
    message: str
    data: dict[str, object] = field(default_factory=dict)
    notice: str = ""


@runtime_checkable
class Computer(Protocol):
    """What the agent loop drives. Methods are named exactly like the actions."""

    @property
    def environment(self) -> Literal["browser", "desktop"]:
        """Which kind of computer this is."""
        ...

    @property
    def size(self) -> Size:
        """The declared display size: screenshots come back at this size."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The actions this backend supports; others raise UnsupportedActionError."""
        ...

    async def screenshot(self) -> Screenshot: ...

    async def click(
        self, x: int, y: int, button: Button = "left", keys: Sequence[str] = ()
    ) -> None: ...

    async def double_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None: ...

    async def triple_click(self, x: int, y: int, keys: Sequence[str] = ()) -> None: ...

    async def drag(
        self, path: Sequence[Point], keys: Sequence[str] = (), button: Button = "left"
    ) -> None: ...

    async def move(self, x: int, y: int, keys: Sequence[str] = ()) -> None: ...

    async def scroll(
        self, x: int, y: int, scroll_x: int, scroll_y: int, keys: Sequence[str] = ()
    ) -> None:
        """Scroll by pixel deltas with the pointer at (x, y)."""
        ...

    async def type(self, text: str) -> None: ...

    async def keypress(self, keys: Sequence[str]) -> None:
        """Press a chord: every key down in order, then up in reverse order."""
        ...

    async def key_down(self, key: str) -> None:
        """Press and hold a key until key_up or release_all."""
        ...

    async def key_up(self, key: str) -> None: ...

    async def mouse_down(self, x: int, y: int, button: Button = "left") -> None: ...

    async def mouse_up(self, x: int, y: int, button: Button = "left") -> None: ...

    async def wait(self, ms: int) -> None: ...

    async def navigate(self, url: str) -> None: ...

    async def current_url(self) -> str | None: ...

    async def settle(self, max_wait_s: float) -> SettleResult:
        """Wait until the screen is stable (bounded), not a fixed sleep."""
        ...

    def drain_events(self) -> list[ExecutorEvent]:
        """Return and forget the events noticed since the last call."""
        ...

    async def release_all(self) -> None:
        """Release every held key and mouse button."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class ChoosesFiles(Protocol):
    """A computer that answers file choosers with files of one allowed directory."""

    @property
    def upload_dir(self) -> Path | None:
        """The only directory files may be uploaded from (None: uploads refused)."""
        ...

    async def choose_file(self, name: str) -> str:
        """Give the open file chooser the file `name` of `upload_dir`; returns its name."""
        ...
