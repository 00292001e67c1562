"""`CassetteTransport`: records and replays Responses exchanges at the HTTP layer.

It is an httpx transport given to `AsyncResponsesClient(transport=...)`, so the
agent loop, the client's retries and the checks are unchanged: they see ordinary
HTTP responses, served from the cassette or from the live server.

Record modes (agent/_pytest/_cassette.py):

- ``none``: replay only; a missing cassette raises CassetteMissingError.
- ``once``: record when there is no cassette, else replay like ``none``.
- ``new``: replay the recorded interactions, record the requests beyond them.
- ``all``: always call the live server and rewrite the cassette.

Replay matches requests in order by their normalized content. A mismatch raises
CassetteMismatchError with the diff, unless ``heal`` is set: then this request
and every later one go to the live server, and the cassette is rewritten with
the replayed prefix plus the live exchanges. When the live server never saw the
replayed responses, a request chained with ``previous_response_id`` is sent
with the whole conversation inline instead (the ids it refers to exist only in
the cassette).

Only 2xx answers are recorded; an error the client retries is not replayed.
No header is stored; the API key is sent only on live requests.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from agent._errors import (
    CassetteError,
    CassetteMismatchError,
    CassetteMissingError,
    ConfigurationError,
)
from agent._pytest._cassette import (
    RECORD_MODES,
    Cassette,
    Interaction,
    Normalizer,
    RecordMode,
    ScreenMatch,
    compare,
    format_differences,
    summarize_request,
)

__all__ = ["CassetteOutcome", "CassetteTransport"]

logger = logging.getLogger(__name__)

Outcome = Literal["unused", "replayed", "recorded", "extended", "healed", "mismatched"]


@dataclass
class CassetteOutcome:
    """What happened to a test's cassette, for the pytest report."""

    status: Outcome
    path: str
    written: bool
    message: str


class CassetteTransport(httpx.AsyncBaseTransport):
    """Serve requests from a cassette, or send them live and record them.

    Args:
        cassette: the test's cassette (loaded; may not exist yet).
        mode: the record mode.
        normalizer: the test's `Normalizer` (origin, secrets, key).
        heal: on a mismatch, go live from that request on instead of failing.
        threshold: when a screenshot matches the recorded one (`ScreenMatch`).
        live: the transport for live requests (default: a new httpx transport).
        live_problem: why live calls are impossible (no API key...), or None.
    """

    def __init__(
        self,
        cassette: Cassette,
        mode: RecordMode,
        normalizer: Normalizer,
        *,
        heal: bool = False,
        threshold: ScreenMatch | None = None,
        live: httpx.AsyncBaseTransport | None = None,
        live_problem: str | None = None,
    ) -> None:
        if mode not in RECORD_MODES:
            raise ConfigurationError(f"record mode must be one of {RECORD_MODES}, got {mode!r}")
        self.cassette = cassette
        self.mode: RecordMode = mode
        self.normalizer = normalizer
        self.heal = heal
        self.threshold = threshold or ScreenMatch()
        self.live_problem = live_problem
        self._live_transport = live
        existed = cassette.exists
        self.recorded: list[Interaction] = [] if mode == "all" else list(cassette.interactions)
        # Replaying means: requests are matched against `recorded` and a request
        # beyond them is a mismatch (none/once) or recorded (new).
        self.replay_only = mode == "none" or (mode == "once" and existed)
        self.missing = mode == "none" and not existed
        self.interactions: list[Interaction] = []
        self.live = False
        self.healed_at: int | None = None
        self.mismatch: str | None = None
        self.served_from_cassette = 0
        self.sent_live = 0
        self._threads: dict[str, list[dict[str, Any]]] = {}
        self._live_ids: set[str] = set()

    # -- the transport -------------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request (see the module doc)."""
        await request.aread()
        method = request.method
        path = _api_path(request.url.path)
        body = _json_or_none(request.content)
        normalized = self.normalizer.request(method, path, body)
        index = len(self.interactions)
        if not self.live:
            if self.missing:
                raise CassetteMissingError(
                    f"no cassette at {self.cassette.path} and --screenloop-record=none: record "
                    "it once against a model (--screenloop-record=once with --screenloop-base-url "
                    "and a key), then commit it"
                )
            if index < len(self.recorded):
                recorded = self.recorded[index]
                differences = compare(recorded.request, normalized, self.threshold)
                if not differences:
                    return self._serve(index, recorded, body)
                self.mismatch = format_differences(
                    index, len(self.recorded), recorded.request, differences
                )
            elif self.replay_only:
                self.mismatch = (
                    f"request {index + 1} is not in the cassette (it holds "
                    f"{len(self.recorded)}): {summarize_request(normalized)}"
                )
            if self.mismatch is not None:
                if not self.heal:
                    raise CassetteMismatchError(
                        f"cassette {self.cassette.path}: {self.mismatch}\n"
                        "The app or the test changed since the recording. Re-record with "
                        "--screenloop-record=all, or let the model heal the cassette with "
                        "--screenloop-heal."
                    )
                self.healed_at = index
                logger.warning(
                    "cassette %s: healing from request %d with the live model: %s",
                    self.cassette.path,
                    index + 1,
                    self.mismatch,
                )
            self.live = True
        return await self._send_live(request, index, normalized, body)

    async def aclose(self) -> None:
        """Close the live transport, if one was opened."""
        if self._live_transport is not None:
            await self._live_transport.aclose()

    # -- replay --------------------------------------------------------------------
    def _serve(self, index: int, recorded: Interaction, body: Any) -> httpx.Response:
        stored = recorded.response
        status = int(stored.get("status", 200))
        ctype = str(stored.get("content_type") or "application/json")
        if "json" in stored:
            payload = self.normalizer.response_from_cassette(stored["json"])
            content = json.dumps(payload).encode()
            response_body: Any = payload
        else:
            text = self.normalizer.response_from_cassette(str(stored.get("text", "")))
            content = text.encode()
            response_body = _final_response_of_stream(text)
        self.interactions.append(recorded)
        self.normalizer.learn(index, response_body)
        self._remember(body, response_body)
        self.served_from_cassette += 1
        logger.debug("cassette %s: served request %d", self.cassette.path, index + 1)
        return httpx.Response(status, headers={"content-type": ctype}, content=content)

    # -- live ----------------------------------------------------------------------
    async def _send_live(
        self, request: httpx.Request, index: int, normalized: dict[str, Any], body: Any
    ) -> httpx.Response:
        if self.live_problem is not None:
            why = f" ({self.mismatch})" if self.mismatch else ""
            raise CassetteError(
                f"cassette {self.cassette.path}: request {index + 1} needs the live model"
                f"{why}, but {self.live_problem}"
            )
        if self._live_transport is None:
            self._live_transport = httpx.AsyncHTTPTransport()
        outgoing = self._rehydrate(request, body)
        response = await self._live_transport.handle_async_request(outgoing)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        self.sent_live += 1
        ctype = response.headers.get("content-type", "application/json")
        if response.is_success:
            stored: dict[str, Any] = {"status": response.status_code, "content_type": ctype}
            parsed = _json_or_none(content)
            if parsed is not None and "event-stream" not in ctype:
                stored["json"] = self.normalizer.response_to_cassette(parsed)
                response_body: Any = parsed
            else:
                text = content.decode("utf-8", "replace")
                stored["text"] = self.normalizer.response_to_cassette(text)
                response_body = _final_response_of_stream(text)
            self.interactions.append(Interaction(normalized, stored))
            self.normalizer.learn(index, response_body)
            self._remember(body, response_body)
            if isinstance(response_body, dict) and isinstance(response_body.get("id"), str):
                self._live_ids.add(response_body["id"])
        else:
            logger.info(
                "cassette %s: live request %d answered HTTP %d (not recorded)",
                self.cassette.path,
                index + 1,
                response.status_code,
            )
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=content)

    def _remember(self, body: Any, response_body: Any) -> None:
        """Keep each response's whole conversation, to inline it if we go live later."""
        if not isinstance(body, dict) or not isinstance(response_body, dict):
            return
        rid = response_body.get("id")
        if not isinstance(rid, str):
            return
        prev = body.get("previous_response_id")
        base = self._threads.get(prev, []) if isinstance(prev, str) else []
        sent = [i for i in body.get("input") or [] if isinstance(i, dict)]
        output = [i for i in response_body.get("output") or [] if isinstance(i, dict)]
        self._threads[rid] = [*base, *sent, *output]

    def _rehydrate(self, request: httpx.Request, body: Any) -> httpx.Request:
        """The request to send live: chained to a replayed response -> whole history inline."""
        if not isinstance(body, dict):
            return request
        prev = body.get("previous_response_id")
        if not isinstance(prev, str) or prev in self._live_ids or prev not in self._threads:
            return request
        new_body = {k: v for k, v in body.items() if k != "previous_response_id"}
        history = [{k: v for k, v in item.items() if v is not None} for item in self._threads[prev]]
        new_body["input"] = [*history, *(body.get("input") or [])]
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        logger.info(
            "cassette %s: the live server never saw response %s; sending %d items inline",
            self.cassette.path,
            prev,
            len(new_body["input"]),
        )
        return httpx.Request(
            request.method, request.url, headers=headers, content=json.dumps(new_body).encode()
        )

    # -- the end -------------------------------------------------------------------
    def finish(self, *, test_passed: bool) -> CassetteOutcome:
        """Write the cassette when it should be, and say what happened."""
        path = str(self.cassette.path)
        recorded_now = self.sent_live > 0
        if self.mismatch is not None and self.healed_at is None:
            first = self.mismatch.splitlines()[0]
            return CassetteOutcome(
                "mismatched", path, False, f"replay stopped at a mismatch: {first}"
            )
        if not self.interactions and not recorded_now:
            status: Outcome = "unused"
        elif self.healed_at is not None:
            status = "healed"
        elif self.served_from_cassette and len(self.interactions) > self.served_from_cassette:
            status = "extended"
        elif self.served_from_cassette:
            status = "replayed"
        else:
            status = "recorded"
        if status == "replayed":
            unused = len(self.recorded) - len(self.interactions)
            message = f"replayed {self.served_from_cassette} request(s) from {path}"
            if unused > 0:
                message += f"; {unused} recorded request(s) were not used"
            return CassetteOutcome(status, path, False, message)
        if status == "unused":
            return CassetteOutcome(status, path, False, "no request reached the model")
        changed = self.interactions != self.cassette.interactions
        detail = {
            "recorded": f"recorded {len(self.interactions)} request(s)",
            "extended": (
                f"replayed {self.served_from_cassette}, recorded "
                f"{len(self.interactions) - self.served_from_cassette} new request(s)"
            ),
            "healed": (
                f"healed from request {(self.healed_at or 0) + 1}: replayed "
                f"{self.served_from_cassette}, recorded "
                f"{len(self.interactions) - self.served_from_cassette} request(s) live"
            ),
        }[status]
        if not test_passed:
            return CassetteOutcome(
                status, path, False, f"{detail}; cassette NOT written because the test failed"
            )
        if not changed:
            return CassetteOutcome(status, path, False, f"{detail}; cassette unchanged")
        self.cassette.save(self.interactions)
        return CassetteOutcome(status, path, True, f"{detail}; cassette written to {path}")


def _api_path(url_path: str) -> str:
    """``/v1/responses/abc`` -> ``/responses/abc`` (the part after the base URL)."""
    at = url_path.find("/responses")
    return url_path[at:] if at >= 0 else url_path


def _json_or_none(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _final_response_of_stream(text: str) -> Any:
    """The response object carried by the terminal event of an SSE body, if any."""
    final: Any = None
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        try:
            data = json.loads(line[5:].strip())
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("response"), dict):
            final = data["response"]
    return final
