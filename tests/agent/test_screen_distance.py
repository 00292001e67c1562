"""`screen_distance`: a moved button is far, a blinking caret or a faint shift is near."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from agent._record._imagehash import DEFAULT_SCREEN_THRESHOLD, screen_distance, write_diff_image


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
