"""Test cassettes: the Responses exchanges of one test, stored as JSON next to the test.

A cassette (``<test_dir>/cassettes/<module>/<test>.json``) holds, in order,
every request the test sent to the Responses API and the response it got:

    {"version": 1, "interactions": [
        {"request": {"method": "POST", "path": "/responses", "body": {...normalized...}},
         "response": {"status": 200, "content_type": "application/json", "json": {...}}}
    ]}

Request bodies are *normalized* (`Normalizer`) so that a replay can match them
by content:

- every screenshot (a ``data:image/...`` URL) becomes
  ``{"screenshot_hash": "d16:<hex>", "screenshot_print": "t4:<base64 PNG>"}``
  (agent/_record/_imagehash.py): a dHash and a 1/4-scale RGB thumbnail (a few
  kB), never the screenshot itself. Two screenshots match when their
  `fingerprint_distance` (the unit of ``screenloop replay --threshold``, 0..1)
  is within the threshold: 40 px tiles and `DEFAULT_SCREEN_THRESHOLD` (0.05)
  for an action step, 8 px tiles and `DEFAULT_CHECK_THRESHOLD` (0.02) for a
  check/extract request (structured output, no tools), whose recorded answer
  is only true of the very screen it judged (see `ScreenMatch`);
- ``previous_response_id`` becomes ``{{response:N}}`` (N: the interaction that
  returned it), ``call_id``\\s and item ids become ``{{call:K}}``/``{{item:K}}``
  in order of appearance, so ids minted by a live server do not matter;
- the origin of the app under test (``http://127.0.0.1:PORT``) becomes
  ``{{origin}}`` in requests *and* responses, so an app on an ephemeral port
  replays (responses get the current origin back when served);
- volatile fields (``stream``, ``request_id``, ``cache_salt``) are dropped;
- secret values become ``{{secret:NAME}}`` and the API key ``[REDACTED]``
  (`agent._secrets.Redactor`); no header is stored at all.

`compare` lists the differences between a recorded and a new request as
`Difference`\\s; `format_differences` turns them into the diff a failing test
shows.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent._errors import CassetteError, ConfigurationError
from agent._record._imagehash import (
    ACTION_TILE_PX,
    CHECK_TILE_PX,
    DEFAULT_CHECK_THRESHOLD,
    DEFAULT_SCREEN_THRESHOLD,
    dhash,
    fingerprint_distance,
    hash_distance,
    is_fingerprint,
    screen_fingerprint,
)
from agent._secrets import Redactor

__all__ = [
    "CASSETTE_VERSION",
    "DEFAULT_THRESHOLD",
    "Cassette",
    "Difference",
    "Interaction",
    "Normalizer",
    "RecordMode",
    "ScreenMatch",
    "compare",
    "format_differences",
    "is_judgment",
    "summarize_request",
]

logger = logging.getLogger(__name__)

CASSETTE_VERSION = 1
DEFAULT_THRESHOLD = DEFAULT_SCREEN_THRESHOLD
LEGACY_HASH_BITS = 4
"""dHash bits, for cassettes recorded before fingerprints (their shots hold only a hash)."""


@dataclass(frozen=True)
class ScreenMatch:
    """When a screenshot in a request matches the recorded one (unit: `screen_distance`, 0..1).

    Measured in headless Chromium at 1280x720 on a light page with dark 16 px
    text (tests/agent/test_cassette_regressions.py, /tmp measurements in the
    commit): the same page re-rendered 20 times 0.0 at both tile sizes (a
    blinking caret is not counted); one word changed (a name) 0.16 at 8 px
    tiles vs 0.016 at 40 px; one digit (37 -> 31) 0.26 vs 0.016; a button green
    -> red 0.22 vs 0.039 (the old 256-bit dHash: 0 bits for all three). So an
    action step (40 px tiles, 0.05) tolerates a changed word -- its response is
    an action the replay performs, and a moved target fails the test later --
    while a check/extract (8 px tiles, 0.02) does not: its recorded answer
    would hide the regression.
    """

    screen: float = DEFAULT_SCREEN_THRESHOLD
    check: float = DEFAULT_CHECK_THRESHOLD
    legacy_bits: int = LEGACY_HASH_BITS

    @classmethod
    def parse(cls, threshold: Any = None, check_threshold: Any = None) -> ScreenMatch:
        """From option values; a `threshold` above 1 is the old unit, dHash bits."""
        out = cls()
        if threshold not in (None, ""):
            value = float(threshold)
            if value > 1:
                logger.warning(
                    "screenloop threshold %s is read as dHash bits (the old unit, used only for "
                    "cassettes recorded without fingerprints); the unit is now screen distance "
                    "0..1 like `screenloop replay --threshold` (default %s)",
                    threshold,
                    DEFAULT_SCREEN_THRESHOLD,
                )
                out = cls(legacy_bits=int(value))
            elif value < 0:
                raise ConfigurationError(f"the screenshot threshold must be 0..1, got {threshold}")
            else:
                out = cls(screen=value)
        if check_threshold not in (None, ""):
            value = float(check_threshold)
            if not 0 <= value <= 1:
                raise ConfigurationError(f"the check threshold must be 0..1, got {check_threshold}")
            out = cls(out.screen, value, out.legacy_bits)
        return out


RecordMode = Literal["none", "once", "new", "all"]
RECORD_MODES: tuple[RecordMode, ...] = ("none", "once", "new", "all")

_VOLATILE_KEYS = frozenset({"stream", "request_id", "cache_salt"})
_ORIGIN = "{{origin}}"
_DATA_IMAGE = re.compile(r"^data:image/[a-z0-9.+-]+;base64,", re.IGNORECASE)


@dataclass
class Interaction:
    """One recorded exchange: the normalized request and the response as served."""

    request: dict[str, Any]
    response: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The cassette entry."""
        return {"request": self.request, "response": self.response}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Interaction:
        """Read one cassette entry, or raise CassetteError naming `where`."""
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("request"), dict)
            or not isinstance(data.get("response"), dict)
        ):
            raise CassetteError(f"{where}: an interaction needs 'request' and 'response' objects")
        return cls(data["request"], data["response"])


@dataclass
class Cassette:
    """The interactions of one test, read from and written to one JSON file."""

    path: Path
    interactions: list[Interaction] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        """True when the file is on disk."""
        return self.path.is_file()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        """Read a cassette; a missing file gives an empty, not-yet-existing cassette."""
        p = Path(path)
        if not p.is_file():
            return cls(p, [])
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CassetteError(f"cannot read cassette {p}: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != CASSETTE_VERSION:
            raise CassetteError(
                f"cassette {p} is not a version-{CASSETTE_VERSION} cassette; "
                "delete it and record again (--screenloop-record=all)"
            )
        raw = data.get("interactions")
        if not isinstance(raw, list):
            raise CassetteError(f"cassette {p}: 'interactions' must be a list")
        return cls(p, [Interaction.from_json(d, f"{p} #{i + 1}") for i, d in enumerate(raw)])

    def save(self, interactions: list[Interaction] | None = None) -> None:
        """Write the cassette atomically (temp file + rename), creating its directory."""
        if interactions is not None:
            self.interactions = list(interactions)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": CASSETTE_VERSION,
            "interactions": [i.to_json() for i in self.interactions],
        }
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".cassette.", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        logger.info("cassette written: %s (%d interactions)", self.path, len(self.interactions))


def _image_hash(url: str) -> dict[str, Any]:
    match = _DATA_IMAGE.match(url)
    assert match is not None
    try:
        data = base64.b64decode(url[match.end() :])
        return {"screenshot_hash": dhash(data), "screenshot_print": screen_fingerprint(data)}
    except Exception as exc:  # an undecodable image still must not be stored inline
        logger.warning("could not hash a screenshot in a request: %s", exc)
        return {"screenshot_hash": None}


class Normalizer:
    """Turns request and response bodies into their cassette form, and back.

    One normalizer follows one test: it learns response ids, call ids and item
    ids from every response it sees (`learn`), in order, so that the requests
    that refer to them normalize the same in the recording and in a replay.
    """

    def __init__(
        self,
        *,
        origin: str | None = None,
        secrets: dict[str, str] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.origin = origin.rstrip("/") if origin else None
        self.redact = Redactor(secrets or {}, api_key)
        self._responses: dict[str, int] = {}
        self._calls: dict[str, str] = {}
        self._items: dict[str, str] = {}

    # -- learning ids ------------------------------------------------------------------
    def learn(self, index: int, body: Any) -> None:
        """Remember the ids of the response served as interaction `index`."""
        if not isinstance(body, dict):
            return
        rid = body.get("id")
        if isinstance(rid, str):
            self._responses.setdefault(rid, index)
        for item in body.get("output") or []:
            if not isinstance(item, dict):
                continue
            cid = item.get("call_id")
            if isinstance(cid, str):
                self._calls.setdefault(cid, f"{{{{call:{len(self._calls)}}}}}")
            iid = item.get("id")
            if isinstance(iid, str):
                self._items.setdefault(iid, f"{{{{item:{len(self._items)}}}}}")

    def knows_response(self, response_id: str) -> bool:
        """True when `response_id` was returned by an interaction seen so far."""
        return response_id in self._responses

    # -- requests ----------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any) -> dict[str, Any]:
        """The cassette form of a request."""
        out: dict[str, Any] = {"method": method, "path": path}
        if body is not None:
            out["body"] = self._walk(body, top=True)
        return out

    def _walk(self, value: Any, *, top: bool = False, key: str | None = None) -> Any:
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            for k, v in value.items():
                if top and k in _VOLATILE_KEYS:
                    continue
                if top and k == "previous_response_id" and isinstance(v, str):
                    index = self._responses.get(v)
                    result[k] = f"{{{{response:{'?' if index is None else index}}}}}"
                elif k == "call_id" and isinstance(v, str):
                    result[k] = self._calls.get(v, v)
                elif k == "id" and isinstance(v, str) and v in self._items:
                    result[k] = self._items[v]
                else:
                    result[k] = self._walk(v, key=k)
            return result
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, str):
            if _DATA_IMAGE.match(value):
                return _image_hash(value)
            return self.text(value)
        return value

    def text(self, value: str) -> str:
        """A string as stored: secrets and key redacted, the app's origin a placeholder."""
        value = self.redact.text(value)
        if self.origin and self.origin in value:
            value = value.replace(self.origin, _ORIGIN)
        return value

    # -- responses ---------------------------------------------------------------------
    def response_to_cassette(self, value: Any) -> Any:
        """A response body as stored (redacted, origin as a placeholder, no images)."""
        if isinstance(value, dict):
            return {k: self.response_to_cassette(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.response_to_cassette(v) for v in value]
        if isinstance(value, str):
            if _DATA_IMAGE.match(value):
                return _image_hash(value)
            return self.text(value)
        return value

    def response_from_cassette(self, value: Any) -> Any:
        """A stored response body as served now (the current origin put back)."""
        if isinstance(value, dict):
            return {k: self.response_from_cassette(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.response_from_cassette(v) for v in value]
        if isinstance(value, str) and self.origin and _ORIGIN in value:
            return value.replace(_ORIGIN, self.origin)
        return value


@dataclass(frozen=True)
class Difference:
    """One way a new request differs from the recorded one."""

    path: str
    recorded: Any
    actual: Any
    note: str = ""

    def describe(self) -> str:
        """One line for the diff."""
        if self.note:
            return f"{self.path}: {self.note}"
        return f"{self.path}: recorded {_short(self.recorded)}, now {_short(self.actual)}"


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_shot(value: Any) -> bool:
    return isinstance(value, dict) and "screenshot_hash" in value and len(value) <= 2


def is_judgment(request: Any) -> bool:
    """True for a check/extract request: structured output and no tools (it cannot act)."""
    body = request.get("body") if isinstance(request, dict) else None
    if not isinstance(body, dict) or body.get("tools"):
        return False
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def compare(
    recorded: Any, actual: Any, threshold: ScreenMatch | float | None = None, path: str = ""
) -> list[Difference]:
    """The differences between two normalized requests (screenshots matched by `ScreenMatch`).

    A plain number is the action-step threshold (0..1), or dHash bits when above 1.
    """
    match = threshold if isinstance(threshold, ScreenMatch) else ScreenMatch.parse(threshold)
    return list(_diff(recorded, actual, match, is_judgment(recorded), path))


def _shot_difference(
    recorded: dict[str, Any], actual: dict[str, Any], match: ScreenMatch, judged: bool, where: str
) -> Difference | None:
    a, b = recorded["screenshot_hash"], actual["screenshot_hash"]
    if a is None or b is None:
        return None if a == b else Difference(where, a, b, "a screenshot could not be hashed")
    pa, pb = recorded.get("screenshot_print"), actual.get("screenshot_print")
    if isinstance(pa, str) and isinstance(pb, str) and is_fingerprint(pa) and is_fingerprint(pb):
        tile, limit = (CHECK_TILE_PX, match.check) if judged else (ACTION_TILE_PX, match.screen)
        try:
            distance = fingerprint_distance(pa, pb, tile_px=tile)
        except ValueError as exc:
            return Difference(where, a, b, f"the recorded screenshot is unreadable: {exc}")
        if distance <= limit:
            return None
        what = "a check/extract answer was recorded for" if judged else "the recording shows"
        return Difference(
            where,
            a,
            b,
            f"the screen differs from the one {what} (screen distance {distance:.3f} over "
            f"{tile} px tiles > threshold {limit})",
        )
    if judged:
        return Difference(
            where,
            a,
            b,
            "the recorded screenshot has no fingerprint (an older cassette), so a check/extract "
            "answer cannot be matched to its screen; re-record with --screenloop-record=all",
        )
    distance_bits = hash_distance(a, b)
    if distance_bits <= match.legacy_bits:
        return None
    return Difference(
        where,
        a,
        b,
        f"the screenshot differs from the recorded one (dHash distance {distance_bits} bits > "
        f"{match.legacy_bits}; an older cassette without fingerprints)",
    )


def _diff(
    recorded: Any, actual: Any, match: ScreenMatch, judged: bool, path: str
) -> Iterator[Difference]:
    where = path or "request"
    if _is_shot(recorded) and _is_shot(actual):
        found = _shot_difference(recorded, actual, match, judged, where)
        if found is not None:
            yield found
        return
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in [*recorded, *(k for k in actual if k not in recorded)]:
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                yield Difference(
                    sub, recorded[key], None, f"missing now (recorded {_short(recorded[key])})"
                )
            elif key not in recorded:
                yield Difference(sub, None, actual[key], f"new (now {_short(actual[key])})")
            else:
                yield from _diff(recorded[key], actual[key], match, judged, sub)
        return
    if isinstance(recorded, list) and isinstance(actual, list):
        for i in range(max(len(recorded), len(actual))):
            sub = f"{path}[{i}]"
            if i >= len(actual):
                yield Difference(
                    sub, recorded[i], None, f"missing now (recorded {_short(recorded[i])})"
                )
            elif i >= len(recorded):
                yield Difference(sub, None, actual[i], f"new (now {_short(actual[i])})")
            else:
                yield from _diff(recorded[i], actual[i], match, judged, sub)
        return
    if recorded != actual:
        yield Difference(where, recorded, actual)


def summarize_request(request: dict[str, Any]) -> str:
    """A short description of a normalized request: what it asked, with which inputs."""
    body = request.get("body")
    head = f"{request.get('method', '?')} {request.get('path', '?')}"
    if not isinstance(body, dict):
        return head
    parts: list[str] = []
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("name"):
        parts.append(f"structured output {fmt['name']!r}")
    inputs = body.get("input")
    if isinstance(inputs, list):
        kinds = [str(i.get("type", "?")) for i in inputs if isinstance(i, dict)]
        parts.append(f"input [{', '.join(kinds)}]")
        for item in inputs:
            if isinstance(item, dict) and isinstance(item.get("content"), list):
                for c in item["content"]:
                    if isinstance(c, dict) and c.get("type") == "input_text":
                        parts.append(f"text {_short(c.get('text'), 80)}")
                        break
    return head + (": " + "; ".join(parts) if parts else "")


def format_differences(
    index: int, total: int, recorded: dict[str, Any], differences: list[Difference], limit: int = 12
) -> str:
    """The diff shown when request `index` (0-based) does not match its recording."""
    lines = [
        f"request {index + 1} of {total} recorded differs from the recording "
        f"({summarize_request(recorded)}):"
    ]
    lines += [f"  - {d.describe()}" for d in differences[:limit]]
    if len(differences) > limit:
        lines.append(f"  ... and {len(differences) - limit} more difference(s)")
    return "\n".join(lines)
