"""JavaScript dialogs (alert, confirm, prompt, beforeunload), answered as a policy says.

- ``dialogs="model"`` (default): a dialog stays open until the model answers
  it. The screenshot shows it (drawn by `_dialog_paint`: the page can not be
  captured while a dialog waits); a click on OK / Cancel, Enter / Escape, or
  typing into a prompt answers it. An action that opened a dialog returns as
  soon as the dialog is open (its browser call finishes in the background once
  the dialog is answered). A dialog unanswered for `auto_dismiss_after`
  screens (one per model step) is dismissed, so a stuck run cannot hang.
- ``accept`` / ``dismiss``: answered at once (an alert can only be accepted;
  a prompt accepted with its default text).

Every dialog and its answer is an `ExecutorEvent` with a notice for the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from playwright.async_api import Dialog, Page
from playwright.async_api import Error as PlaywrightError

from executors._browser._dialog_paint import DialogLayout, dialog_layout
from executors._browser._shared import BrowserState
from executors._keys import normalize_chord

__all__ = ["DIALOG_POLICIES", "DialogPolicy", "Dialogs", "OpenDialog"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DialogPolicy = Literal["model", "accept", "dismiss"]
DIALOG_POLICIES: tuple[DialogPolicy, ...] = ("model", "accept", "dismiss")


@dataclass
class OpenDialog:
    """A dialog waiting for the model's answer."""

    page: Page
    dialog: Dialog
    layout: DialogLayout
    text: str | None  # the prompt field's content
    selected: bool = True  # the prompt's default text is selected: typing replaces it
    screens: int = 0  # screenshots taken while it was open

    @property
    def kind(self) -> str:
        """alert, confirm, prompt or beforeunload."""
        return self.dialog.type


class Dialogs:
    """The dialogs open on pages, the policy that answers them, and the model's answers."""

    def __init__(
        self,
        state: BrowserState,
        active: Callable[[], Page | None],
        policy: DialogPolicy,
        auto_dismiss_after: int,
    ) -> None:
        if policy not in DIALOG_POLICIES:
            raise ValueError(f"dialogs must be one of {DIALOG_POLICIES}, got {policy!r}")
        self._state = state
        self._active = active
        self.policy: DialogPolicy = policy
        self.auto_dismiss_after = max(1, int(auto_dismiss_after))
        self._open: dict[Page, OpenDialog] = {}
        self._opened = asyncio.Event()

    def open_on(self, page: Page | None) -> OpenDialog | None:
        """The dialog waiting on `page`, if any."""
        return self._open.get(page) if page is not None else None

    def forget(self, page: Page) -> None:
        """A page closed: its dialog went with it."""
        self._open.pop(page, None)

    # -- opening --------------------------------------------------------------------

    def on_dialog(self, page: Page, dialog: Dialog) -> None:
        """The page's ``dialog`` event."""
        kind, text = dialog.type, dialog.message
        what = _describe(kind, text)
        if self.policy != "model":
            accept = self.policy == "accept" or kind == "alert"
            answer = "accepted" if accept else "dismissed"
            self._state.emit(
                "dialog",
                f"{kind} dialog {answer} ({self.policy} policy): {text}",
                notice=f"{what} was {answer} automatically.",
                dialog_type=kind,
                text=text,
                answer=answer,
            )
            self._state.spawn(self._answer(dialog, accept, dialog.default_value or None))
            return
        origin = urlsplit(page.url).netloc
        layout = dialog_layout(kind, text, origin, self._state.options.size)
        default = dialog.default_value if kind == "prompt" else None
        self._open[page] = OpenDialog(page, dialog, layout, default)
        self._opened.set()
        how = (
            "type the answer and press Enter (OK), or press Escape (Cancel)"
            if kind == "prompt"
            else "press Enter or click OK"
            if kind == "alert"
            else f"click {layout.ok_label} or Cancel, or press Enter ({layout.ok_label}) / "
            "Escape (Cancel)"
        )
        self._state.emit(
            "dialog",
            f"{kind} dialog open: {text}",
            notice=f"{what} is open and drawn in the screenshot; {how}.",
            dialog_type=kind,
            text=text,
        )

    def on_active(self) -> OpenDialog | None:
        """The dialog waiting on the page actions go to, if any."""
        return self.open_on(self._active())

    async def race(self, action: Awaitable[T]) -> tuple[bool, T | None]:
        """Await `action`, or only until a dialog opens on the active page (model policy).

        Returns (finished, its result). The page's renderer waits for the dialog's
        answer, and so does the browser call that made it open: that call goes on
        in the background.
        """
        if self.policy != "model":
            return True, await action
        task = asyncio.ensure_future(action)
        try:
            while not task.done() and self.on_active() is None:
                self._opened.clear()
                opened = asyncio.ensure_future(self._opened.wait())
                try:
                    await asyncio.wait({task, opened}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    opened.cancel()
        except BaseException:
            task.cancel()
            raise
        if task.done():
            return True, task.result()  # its result or its error
        self._state.tasks.add(task)
        task.add_done_callback(_quietly_done(self._state))
        return False, None

    # -- the model's answers ------------------------------------------------------------

    def screen_taken(self, page: Page) -> OpenDialog | None:
        """Count a screenshot of an open dialog; past the bound, dismiss it."""
        open_dialog = self._open.get(page)
        if open_dialog is None:
            return None
        open_dialog.screens += 1
        if open_dialog.screens > self.auto_dismiss_after:
            self._finish(
                open_dialog,
                accept=False,
                reason=f"after {self.auto_dismiss_after} screenshots without an answer",
            )
            return None
        return open_dialog

    def click(self, page: Page, x: int, y: int) -> None:
        """A click while a dialog is open: its buttons answer it; elsewhere nothing happens."""
        open_dialog = self._open[page]
        hit = open_dialog.layout.hit(x, y)
        if hit in ("ok", "cancel"):
            self._finish(open_dialog, accept=hit == "ok", reason=f"clicked {hit}")
        elif hit is None:
            self._state.emit(
                "dialog",
                f"click at ({x}, {y}) outside the open {open_dialog.kind} dialog",
                notice="The click landed outside the open dialog and did nothing; "
                "answer the dialog first.",
            )

    def press(self, page: Page, keys: Sequence[str]) -> None:
        """Keys while a dialog is open: Enter accepts, Escape cancels, Backspace edits a prompt."""
        open_dialog = self._open[page]
        chord = frozenset(normalize_chord(keys))
        if chord == {"enter"}:
            self._finish(open_dialog, accept=True, reason="pressed Enter")
        elif chord == {"escape"}:
            self._finish(open_dialog, accept=False, reason="pressed Escape")
        elif open_dialog.text is not None and chord == {"backspace"}:
            open_dialog.text = "" if open_dialog.selected else open_dialog.text[:-1]
            open_dialog.selected = False
        elif open_dialog.text is not None and chord in ({"ctrl", "a"}, {"meta", "a"}):
            open_dialog.selected = True

    def type(self, page: Page, text: str) -> None:
        """Text typed while a dialog is open fills a prompt; a final newline is Enter."""
        open_dialog = self._open[page]
        enter = text.endswith(("\n", "\r"))
        text = text.rstrip("\r\n")
        if open_dialog.text is not None and text:
            open_dialog.text = text if open_dialog.selected else open_dialog.text + text
            open_dialog.selected = False
        if enter:
            self._finish(open_dialog, accept=True, reason="pressed Enter")

    def leave(self, page: Page) -> None:
        """The model navigates away: a dialog in the way is answered so the page can go."""
        open_dialog = self._open.get(page)
        if open_dialog is not None:
            accept = open_dialog.kind == "beforeunload"  # leave the page, as asked
            self._finish(open_dialog, accept=accept, reason="the model navigated")

    def _finish(self, open_dialog: OpenDialog, *, accept: bool, reason: str) -> None:
        self._open.pop(open_dialog.page, None)
        kind = open_dialog.kind
        labels = {True: open_dialog.layout.ok_label, False: "Cancel"}
        answer = "accepted" if accept or kind == "alert" else "dismissed"
        told = f"{_describe(kind, open_dialog.dialog.message)} was answered {labels[accept]}"
        if kind == "prompt" and accept:
            told += f" with {open_dialog.text or ''!r}"
        self._state.emit(
            "dialog_answered",
            f"{kind} dialog {answer}: {reason}",
            notice=f"{told} ({reason}).",
            dialog_type=kind,
            text=open_dialog.dialog.message,
            answer=answer,
            reason=reason,
        )
        self._state.input_generation += 1
        self._state.spawn(
            self._answer(open_dialog.dialog, accept, open_dialog.text if accept else None)
        )

    async def _answer(self, dialog: Dialog, accept: bool, text: str | None) -> None:
        with contextlib.suppress(PlaywrightError):
            if accept or dialog.type == "alert":
                await (dialog.accept(text) if text is not None else dialog.accept())
            else:
                await dialog.dismiss()


def _describe(kind: str, message: str) -> str:
    if kind == "beforeunload":
        return 'A "Leave site?" dialog'
    short = " ".join(message.split())
    if len(short) > 120:
        short = short[:119] + "…"
    return f"A{'n' if kind == 'alert' else ''} {kind} dialog saying {short!r}"


def _quietly_done(state: BrowserState) -> Any:
    def done(task: asyncio.Future[Any]) -> None:
        state.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("an action held by a dialog ended with %r", task.exception())

    return done
