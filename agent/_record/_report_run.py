"""Reading a run directory for the report: run.json, steps.jsonl and screenshots.

A run killed mid-write leaves a torn last line in steps.jsonl; it is skipped
with a note. Screenshots are embedded as ``data:`` URLs, each file read once:
files up to `EMBED_AS_IS_BYTES` in their recorded format, larger ones
re-encoded as JPEG (quality 85, at most 1600 px wide).
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent._errors import RunDirectoryError
from agent._record._untrusted import (
    contained,
    decode_image,
    parse_json,
    read_json_object,
    read_text,
)
from executors._computer import Size

__all__ = ["EMBED_AS_IS_BYTES", "Images", "ReportRun", "display_size", "load_run"]

logger = logging.getLogger(__name__)

EMBED_AS_IS_BYTES = 512 * 1024
_JPEG_MAX_WIDTH = 1600
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


@dataclass
class ReportRun:
    """A loaded run directory: run.json, the steps that parsed, and notes on the rest."""

    root: Path
    summary: dict[str, Any]
    steps: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def load_run(run_dir: Path) -> ReportRun:
    """Read a schema-1 run directory, or raise `RunDirectoryError`."""
    run_json = run_dir / "run.json"
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is not a directory (pass a run directory)")
    if not run_json.exists():
        raise RunDirectoryError(f"{run_dir} has no run.json; is it a run directory?")
    summary = read_json_object(run_json)
    version = summary.get("schema_version")
    if version != 1:
        raise RunDirectoryError(
            f"{run_json} has schema_version {version!r}; this screenloop reads version 1"
        )
    run = ReportRun(run_dir, summary, [])
    steps_file = run_dir / "steps.jsonl"
    if steps_file.exists():
        for number, line in enumerate(read_text(steps_file).splitlines(), 1):
            if not line.strip():
                continue
            try:
                step = parse_json(line, f"steps.jsonl line {number}")
            except RunDirectoryError:
                # a run killed mid-write leaves a torn last line: show the rest
                run.notes.append(f"steps.jsonl line {number} is not valid JSON and was skipped.")
                continue
            if isinstance(step, dict):
                run.steps.append(step)
    return run


class Images:
    """Screenshot files as data URLs, each file read once."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, str | None] = {}

    def data_url(self, rel: object) -> str | None:
        """The screenshot at `rel` (relative to the run) as a data URL, or None if missing."""
        if not isinstance(rel, str) or not rel:
            return None
        if rel not in self._cache:
            self._cache[rel] = self._encode(rel)
        return self._cache[rel]

    def _encode(self, rel: str) -> str | None:
        try:
            path = contained(self.root, rel, "screenshot")
            if not path.is_file():
                raise RunDirectoryError(f"screenshot {rel!r} is missing")
            data = path.read_bytes()
            mime = _MIME.get(path.suffix.lower())
            # decoded (bounded) even when embedded as is: a non-image is not embedded
            image = decode_image(data, f"screenshot {rel!r}")
            if mime is None or len(data) > EMBED_AS_IS_BYTES:
                data, mime = _as_jpeg(image), "image/jpeg"
        except (RunDirectoryError, OSError) as exc:
            logger.warning("report: %s", exc)
            return None
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _as_jpeg(image: Any) -> bytes:
    from PIL import Image

    with image:
        rgb = image.convert("RGB")
        if rgb.width > _JPEG_MAX_WIDTH:
            height = round(rgb.height * _JPEG_MAX_WIDTH / rgb.width)
            rgb = rgb.resize((_JPEG_MAX_WIDTH, height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        rgb.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue()


def display_size(run: ReportRun) -> Size:
    """The screen size actions are drawn in: run.json's display, else the first screenshot."""
    display = run.summary.get("display")
    if isinstance(display, dict):
        try:
            width, height = int(display["width"]), int(display["height"])
            if width > 0 and height > 0:
                return Size(width, height)
        except (KeyError, TypeError, ValueError):
            pass
    for rel in [run.summary.get("initial_screenshot")] + [s.get("observed") for s in run.steps]:
        try:
            path = contained(run.root, rel, "screenshot")
            if path.is_file():
                with decode_image(path.read_bytes(), f"screenshot {rel!r}") as image:
                    return Size(image.width, image.height)
        except (RunDirectoryError, OSError):
            continue
    return Size(1280, 720)
