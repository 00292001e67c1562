"""Reading a run directory as untrusted input: bounded, contained, one typed error.

A run directory may come from someone else, or from a run killed mid-write.
`report` and `replay` read it only through these functions, so that every
malformed input is a `RunDirectoryError` (one line, exit status 2), never a
traceback:

- JSON files are size-bounded; nesting too deep for the parser, torn UTF-8
  (a run killed mid-write can cut a multibyte character) and non-objects are
  errors, not crashes;
- every path named inside the run (``initial_screenshot``, a step's
  ``screenshot``) must resolve inside the run directory (`contained`);
- images are decoded with a pixel bound (`open_image`), so a decompression
  bomb or a non-image is refused before it is decoded.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

from agent._errors import RunDirectoryError

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_JSON_BYTES",
    "contained",
    "decode_image",
    "parse_json",
    "read_json_object",
    "read_text",
]

MAX_JSON_BYTES = 256 * 1024 * 1024
MAX_IMAGE_PIXELS = 8192 * 8192


def read_text(path: Path, *, limit: int = MAX_JSON_BYTES) -> str:
    """The file's text (bad UTF-8 replaced), or `RunDirectoryError` when unreadable or too big."""
    try:
        if not path.is_file():
            raise RunDirectoryError(f"{path} is not a regular file")
        if path.stat().st_size > limit:
            raise RunDirectoryError(f"{path} is larger than {limit} bytes")
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise RunDirectoryError(f"{path} is not readable: {exc.strerror or exc}") from exc


def parse_json(text: str, where: str) -> Any:
    """`json.loads`, with every way it can fail as `RunDirectoryError`."""
    try:
        return json.loads(text)
    except RecursionError:
        raise RunDirectoryError(f"{where} is nested too deeply") from None
    except ValueError as exc:
        raise RunDirectoryError(f"{where} is not readable JSON: {exc}") from None


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, or `RunDirectoryError`."""
    value = parse_json(read_text(path), str(path))
    if not isinstance(value, dict):
        raise RunDirectoryError(f"{path} does not hold a JSON object")
    return value


def contained(root: Path, rel: object, what: str = "path") -> Path:
    """``root / rel`` resolved, refusing anything that leaves `root` (absolute paths, ``..``,
    symlinks out)."""
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        raise RunDirectoryError(f"{what} {rel!r} is not a relative path")
    base = root.resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base):
        raise RunDirectoryError(f"{what} {rel!r} points outside the run directory")
    return path


def decode_image(data: bytes, where: str) -> Any:
    """A loaded `PIL.Image` from `data`, at most `MAX_IMAGE_PIXELS`, or `RunDirectoryError`."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise RunDirectoryError(
                    f"{where} is {image.width}x{image.height} pixels, more than {MAX_IMAGE_PIXELS}"
                )
            image.load()
            return image
    except RunDirectoryError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        raise RunDirectoryError(f"{where} is not a readable image: {exc}") from None
