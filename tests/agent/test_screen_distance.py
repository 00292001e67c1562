"""`screen_distance`: a moved button is far, a blinking caret or a faint shift is near."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from agent._record._imagehash import (
    CHECK_TILE_PX,
    DEFAULT_CHECK_THRESHOLD,
    DEFAULT_SCREEN_THRESHOLD,
    fingerprint_distance,
    screen_distance,
    screen_fingerprint,
    write_diff_image,
)


def _screen(button_at: tuple[int, int] = (620, 432), caret: bool = False) -> Image.Image:
    img = Image.new("RGB", (1280, 720), (245, 241, 232))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 1279, 48), fill=(30, 60, 40))
    draw.text((40, 120), "Desk lamp  $39.00", fill=(20, 20, 20))
    x, y = button_at
    draw.rectangle((x, y, x + 132, y + 44), fill=(217, 164, 65))
    if caret:
        draw.line((470, 310, 470, 330), fill=(0, 0, 0), width=1)
    return img


def test_identical_screens_are_at_distance_zero() -> None:
    assert screen_distance(_screen(), _screen()) == 0.0


def test_a_blinking_caret_stays_under_the_threshold() -> None:
    assert screen_distance(_screen(), _screen(caret=True)) < DEFAULT_SCREEN_THRESHOLD / 2


def test_a_moved_button_is_far_over_the_threshold() -> None:
    assert screen_distance(_screen(), _screen(button_at=(960, 552))) > 4 * DEFAULT_SCREEN_THRESHOLD


def test_a_one_level_colour_shift_is_near_zero() -> None:
    shifted = _screen().point(lambda v: min(255, v + 1))
    assert screen_distance(_screen(), shifted) < 0.01


def test_diff_image_is_three_panels_side_by_side(tmp_path: Path) -> None:
    path = write_diff_image(_screen(), _screen(button_at=(960, 552)), tmp_path / "d" / "x.png")
    with Image.open(path) as im:
        assert im.width == 3 * 1280 + 16
        assert im.height == 720 + 24
        # the moved button's old and new places are red in the third panel
        third = 2 * (1280 + 8)
        assert im.getpixel((third + 620 + 60, 24 + 432 + 20)) == (220, 30, 30)
        assert im.getpixel((third + 960 + 60, 24 + 552 + 20)) == (220, 30, 30)


def _page(stock: str = "37", caret: bool = False, button: tuple[int, int, int] = (46, 125, 50)):
    img = Image.new("RGB", (1280, 720), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    draw.text((40, 120), f"Hello, Ada! Desk lamp: {stock} in stock", fill=(30, 30, 30))
    draw.rectangle((40, 300, 400, 330), outline=(120, 120, 120))
    draw.rectangle((40, 400, 140, 440), fill=button)
    if caret:
        draw.line((47, 305, 47, 325), fill=(0, 0, 0), width=1)
    return img


def test_a_fingerprint_sees_a_digit_and_a_colour_at_check_tiles_but_not_a_caret() -> None:
    base = screen_fingerprint(_page())

    def check(img: Image.Image) -> float:
        return fingerprint_distance(base, screen_fingerprint(img), tile_px=CHECK_TILE_PX)

    assert check(_page()) == 0.0
    assert check(_page(caret=True)) == 0.0  # a blinking caret is one fingerprint pixel wide
    assert check(_page(stock="31")) > DEFAULT_CHECK_THRESHOLD
    # green -> red: 6 grey levels apart, ~150 levels in the red and green channels
    assert check(_page(button=(198, 40, 40))) > 5 * DEFAULT_CHECK_THRESHOLD
    # An action step's looser measure (40 px tiles) lets the digit through.
    assert (
        fingerprint_distance(base, screen_fingerprint(_page(stock="31"))) < DEFAULT_SCREEN_THRESHOLD
    )
