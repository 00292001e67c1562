"""What the parts of one `DesktopComputer` share about its display."""

from __future__ import annotations

from executors._computer import ExecutorEvent
from executors._errors import ExecutorClosedError
from sandbox import VirtualDisplay

__all__ = ["DisplayState"]


class DisplayState:
    """The display's name, whether it is closed or gone, the input generation, events."""

    def __init__(self, virtual: VirtualDisplay | None, name: str | None) -> None:
        self.virtual = virtual
        self.name = name
        self.closed = False
        self.lost = False  # the X server went away: no more requests on its connection
        # every input call bumps this when it starts and when it ends
        self.input_generation = 0
        self.input_ended_at = 0.0  # time.monotonic() when the last input call ended
        self.input_started_at = 0.0  # time.monotonic() when the last input call started
        self.events: list[ExecutorEvent] = []

    def alive(self) -> bool:
        """False once a display we were given as a VirtualDisplay has lost its X server."""
        return self.virtual is None or self.virtual.running

    def gone_error(self) -> ExecutorClosedError:
        """The error for actions on a display whose X server exited."""
        return ExecutorClosedError(
            f"X display {self.name} went away (its X server exited); "
            "start a new display and a new DesktopComputer"
        )
