"""The ``screenloop run`` flags that choose how screenshots are encoded.

They map one to one onto the computers' image options (`executors._encoding`):
``--image-format`` (png | jpeg | webp), ``--image-quality`` (lossy formats),
``--lossless`` (WebP without loss) and ``--compression`` (fast | small). The
default, PNG with fast compression for every provider, is chosen from bench
figure 7 (bench/README.md): the whole step over a shaped link, per option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from agent._cli._options import choice_list
from agent._errors import ConfigurationError
from executors import Compression, ImageFormat
from executors._encoding import ImageEncoding

__all__ = ["ImageOptions", "image_kwargs", "refuse_image_options"]


@dataclass(frozen=True, kw_only=True)
class ImageOptions:
    """Screenshot encoding flags (RunOptions inherits them)."""

    image_format: Annotated[
        str,
        typer.Option(
            help=f"{choice_list(ImageFormat)}: the screenshots' format. JPEG and WebP are "
            "lossy unless --lossless (WebP); both providers read all three."
        ),
    ] = "png"
    image_quality: Annotated[
        int | None,
        typer.Option(
            help="With a lossy --image-format (jpeg, webp): quality 1-100 (default 80).",
            show_default=False,
        ),
    ] = None
    lossless: Annotated[
        bool,
        typer.Option(
            "--lossless",
            help="With --image-format webp: lossless WebP (a third of the PNG bytes, more CPU).",
        ),
    ] = False
    compression: Annotated[
        str,
        typer.Option(
            help=f"{choice_list(Compression)}: encoder effort; small spends CPU for fewer bytes "
            "(worth it on slow uplinks, see bench/README.md figure 7)."
        ),
    ] = "fast"


def image_kwargs(opts: Any) -> dict[str, Any]:
    """The computer keyword arguments for `opts` (an `ImageOptions`), checked.

    Raises `ConfigurationError` for a combination no encoder takes.
    """
    try:
        encoding = ImageEncoding.check(
            opts.image_format, opts.image_quality, opts.lossless, opts.compression
        )
    except ValueError as exc:
        raise ConfigurationError(f"screenshot options: {exc}") from None
    out: dict[str, Any] = {"image_format": encoding.format, "compression": encoding.compression}
    if encoding.quality is not None:
        out["quality"] = encoding.quality
    if encoding.lossless:
        out["lossless"] = True
    return out


def refuse_image_options(opts: Any, why: str) -> None:
    """Raise `ConfigurationError` if `opts` asks for any screenshot option but the default.

    For computers that encode their screenshots themselves: a flag that would be
    silently ignored is refused instead.
    """
    defaults = ImageOptions()
    asked = [
        "--" + name.replace("_", "-")
        for name in ("image_format", "image_quality", "lossless", "compression")
        if getattr(opts, name) != getattr(defaults, name)
    ]
    if asked:
        raise ConfigurationError(f"{', '.join(asked)} cannot be used here: {why}")
