"""The canonical key table: aliases, chords and backend names."""

from __future__ import annotations

import string

import pytest

from executors import ExecutorError, UnknownKeyError
from executors._keys import (
    _ALIASES,
    CANONICAL_KEYS,
    MODIFIERS,
    is_modifier,
    needs_shift,
    normalize_chord,
    normalize_key,
    playwright_key,
    pyautogui_key,
    split_chord,
    unshifted,
    windows_key_code,
    x11_keysym,
)

ALIASES = [
    # modifiers, every spelling seen from OpenAI (upper-case), Lightcone, X and Playwright
    ("ctrl", "ctrl"),
    ("CTRL", "ctrl"),
    ("Control", "ctrl"),
    ("control", "ctrl"),
    ("Control_L", "ctrl"),
    ("Control_R", "ctrl"),
    ("ControlLeft", "ctrl"),
    ("ctrlright", "ctrl"),
    ("lctrl", "ctrl"),
    ("SHIFT", "shift"),
    ("Shift_L", "shift"),
    ("ShiftRight", "shift"),
    ("ALT", "alt"),
    ("Alt_R", "alt"),
    ("option", "alt"),
    ("META", "meta"),
    ("meta", "meta"),
    ("CMD", "meta"),
    ("cmd", "meta"),
    ("Command", "meta"),
    ("SUPER", "meta"),
    ("Super_L", "meta"),
    ("WIN", "meta"),
    ("win", "meta"),
    ("OS", "meta"),
    ("MetaLeft", "meta"),
    # editing
    ("ENTER", "enter"),
    ("Enter", "enter"),
    ("Return", "enter"),
    ("RETURN", "enter"),
    ("KP_Enter", "enter"),
    ("ESC", "escape"),
    ("Escape", "escape"),
    ("TAB", "tab"),
    ("SPACE", "space"),
    ("Space", "space"),
    ("BACKSPACE", "backspace"),
    ("BackSpace", "backspace"),
    ("bksp", "backspace"),
    ("DELETE", "delete"),
    ("del", "delete"),
    ("Insert", "insert"),
    ("ins", "insert"),
    # navigation
    ("HOME", "home"),
    ("End", "end"),
    ("PAGEUP", "pageup"),
    ("PageUp", "pageup"),
    ("page_up", "pageup"),
    ("Page Up", "pageup"),
    ("Prior", "pageup"),
    ("pgup", "pageup"),
    ("PAGEDOWN", "pagedown"),
    ("PageDown", "pagedown"),
    ("page_down", "pagedown"),
    ("page-down", "pagedown"),
    ("Next", "pagedown"),
    ("pgdn", "pagedown"),
    ("ARROWLEFT", "left"),
    ("ArrowLeft", "left"),
    ("LEFT", "left"),
    ("Left", "left"),
    ("ARROWRIGHT", "right"),
    ("right", "right"),
    ("ARROWUP", "up"),
    ("Up", "up"),
    ("ARROWDOWN", "down"),
    ("down", "down"),
    # locks and system
    ("CapsLock", "capslock"),
    ("Caps_Lock", "capslock"),
    ("NumLock", "numlock"),
    ("Scroll_Lock", "scrolllock"),
    ("PrintScreen", "printscreen"),
    ("Print", "printscreen"),
    ("prtsc", "printscreen"),
    ("Pause", "pause"),
    ("Menu", "contextmenu"),
    ("ContextMenu", "contextmenu"),
    ("AudioVolumeMute", "volumemute"),
    ("XF86AudioRaiseVolume", "volumeup"),
    # printable characters by name
    ("slash", "/"),
    ("Slash", "/"),
    ("backslash", "\\"),
    ("less", "<"),
    ("greater", ">"),
    ("comma", ","),
    ("period", "."),
    ("minus", "-"),
    ("plus", "+"),
    ("equal", "="),
    ("grave", "`"),
    ("Backquote", "`"),
    ("KeyA", "a"),
    ("Digit7", "7"),
    ("numpad5", "5"),
    ("KP_Divide", "/"),
    # single characters stay themselves, with their case
    ("a", "a"),
    ("A", "A"),
    ("z", "z"),
    ("<", "<"),
    (">", ">"),
    ("/", "/"),
    ("+", "+"),
    ("-", "-"),
    ("é", "é"),
    ("€", "€"),
    ("漢", "漢"),
    # whitespace characters as keys
    (" ", "space"),
    ("\n", "enter"),
    ("\r", "enter"),
    ("\t", "tab"),
    ("\x1b", "escape"),
    (" enter ", "enter"),
]


@pytest.mark.parametrize(("raw", "canonical"), ALIASES)
def test_normalize_key(raw: str, canonical: str) -> None:
    assert normalize_key(raw) == canonical


@pytest.mark.parametrize("n", range(1, 25))
@pytest.mark.parametrize("spelling", ["F{}", "f{}", " F{} "])
def test_function_keys(n: int, spelling: str) -> None:
    canonical = normalize_key(spelling.format(n))
    assert canonical == f"f{n}"
    assert canonical in CANONICAL_KEYS
    assert playwright_key(canonical) == f"F{n}"
    assert x11_keysym(canonical) == f"F{n}"
    assert pyautogui_key(canonical) == f"f{n}"
    assert windows_key_code(canonical) == 0x6F + n


@pytest.mark.parametrize("alias", sorted(_ALIASES))
def test_every_alias_is_canonical_and_case_insensitive(alias: str) -> None:
    canonical = normalize_key(alias)
    assert canonical == normalize_key(alias.upper()) == normalize_key(alias.title())
    assert canonical in CANONICAL_KEYS or len(canonical) == 1
    # canonical names are fixed points
    assert normalize_key(canonical) == canonical


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "F0",
        "F25",
        "foo",
        "ctrl+l",
        "ctrl--",
        "ctrl_x",
        "\x01",
        "\x00",
        "\u200b",
        "enterr",
        "++",
        None,
        3,
        ["ctrl"],
    ],
)
def test_unknown_keys_raise(bad: object) -> None:
    with pytest.raises(UnknownKeyError) as info:
        normalize_key(bad)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ExecutorError)


CHORDS = [
    ("ctrl+l", ["ctrl", "l"]),
    ("CTRL+L", ["ctrl", "l"]),
    ("Control+Shift+K", ["ctrl", "shift", "k"]),
    ("CTRL+SHIFT+K", ["ctrl", "shift", "k"]),
    ("ctrl + l", ["ctrl", "l"]),
    ("ctrl-l", ["ctrl", "l"]),
    ("ctrl-alt-del", ["ctrl", "alt", "delete"]),
    ("shift-tab", ["shift", "tab"]),
    ("shift tab", ["shift", "tab"]),
    ("alt+F4", ["alt", "f4"]),
    ("cmd+a", ["meta", "a"]),
    ("CTRL+A", ["ctrl", "a"]),
    ("+", ["+"]),
    ("-", ["-"]),
    (" ", ["space"]),
    ("ctrl++", ["ctrl", "+"]),
    ("ctrl+-", ["ctrl", "-"]),
    ("ctrl--", ["ctrl", "-"]),
    ("ctrl+=", ["ctrl", "="]),
    ("ctrl+ ", ["ctrl", "space"]),
    ("shift+<", ["shift", "<"]),
    ("A", ["A"]),
    ("Enter", ["enter"]),
    ("Page Down", ["pagedown"]),
    ("page-down", ["pagedown"]),
    ("ctrl+/", ["ctrl", "/"]),
]


@pytest.mark.parametrize(("raw", "keys"), CHORDS)
def test_split_chord(raw: str, keys: list[str]) -> None:
    assert split_chord(raw) == keys


@pytest.mark.parametrize("bad", ["", "ctrl+", "+ctrl", "ctrl++l", "a-b", "C-x", "ctrl+foo", "x y"])
def test_split_chord_rejects(bad: str) -> None:
    with pytest.raises(UnknownKeyError):
        split_chord(bad)


def test_normalize_chord_lowercases_letters_only_with_a_modifier() -> None:
    assert normalize_chord(["CTRL", "A"]) == ["ctrl", "a"]
    assert normalize_chord(["SHIFT", "A"]) == ["shift", "a"]
    assert normalize_chord(["A"]) == ["A"]
    assert normalize_chord(["A", "B"]) == ["A", "B"]
    assert normalize_chord(["ctrl", "é"]) == ["ctrl", "é"]


BACKENDS = [
    # canonical, Playwright, X keysym, pyautogui
    ("ctrl", "Control", "Control_L", "ctrl"),
    ("shift", "Shift", "Shift_L", "shift"),
    ("alt", "Alt", "Alt_L", "alt"),
    ("meta", "Meta", "Super_L", "win"),
    ("enter", "Enter", "Return", "enter"),
    ("escape", "Escape", "Escape", "esc"),
    ("tab", "Tab", "Tab", "tab"),
    ("space", "Space", "space", "space"),
    ("backspace", "Backspace", "BackSpace", "backspace"),
    ("delete", "Delete", "Delete", "delete"),
    ("insert", "Insert", "Insert", "insert"),
    ("home", "Home", "Home", "home"),
    ("end", "End", "End", "end"),
    ("pageup", "PageUp", "Prior", "pageup"),
    ("pagedown", "PageDown", "Next", "pagedown"),
    ("left", "ArrowLeft", "Left", "left"),
    ("right", "ArrowRight", "Right", "right"),
    ("up", "ArrowUp", "Up", "up"),
    ("down", "ArrowDown", "Down", "down"),
    ("capslock", "CapsLock", "Caps_Lock", "capslock"),
    ("printscreen", "PrintScreen", "Print", "printscreen"),
    ("contextmenu", "ContextMenu", "Menu", "apps"),
    ("a", "a", "a", "a"),
    ("A", "A", "A", "A"),
    ("7", "7", "7", "7"),
    ("<", "<", "less", "<"),
    (">", ">", "greater", ">"),
    ("/", "/", "slash", "/"),
    ("\\", "\\", "backslash", "\\"),
    ("~", "~", "asciitilde", "~"),
    ("é", "é", "U00E9", None),
    ("漢", "漢", "U6F22", None),
]


@pytest.mark.parametrize(("canonical", "pw", "xk", "pag"), BACKENDS)
def test_backend_names(canonical: str, pw: str, xk: str, pag: str | None) -> None:
    assert playwright_key(canonical) == pw
    assert x11_keysym(canonical) == xk
    assert pyautogui_key(canonical) == pag


@pytest.mark.parametrize("char", list(string.printable.strip()))
def test_every_printable_ascii_round_trips(char: str) -> None:
    canonical = normalize_key(char)
    assert canonical == char
    assert playwright_key(canonical) == char
    assert pyautogui_key(canonical) == char
    keysym = x11_keysym(canonical)
    # the X keysym name folds back to the same key
    assert normalize_key(keysym) == char or keysym == char
    assert windows_key_code(canonical) is not None


@pytest.mark.parametrize("canonical", sorted(CANONICAL_KEYS))
def test_every_named_key_maps_to_every_backend(canonical: str) -> None:
    assert normalize_key(canonical) == canonical
    assert normalize_key(playwright_key(canonical)) == canonical
    assert normalize_key(x11_keysym(canonical)) == canonical
    assert pyautogui_key(canonical)
    assert windows_key_code(canonical)


@pytest.mark.parametrize("fn", [playwright_key, x11_keysym, pyautogui_key, windows_key_code])
@pytest.mark.parametrize("bad", ["Enter", "CTRL", "nope", "", "ab"])
def test_backend_functions_want_canonical_names(fn: object, bad: str) -> None:
    with pytest.raises(UnknownKeyError):
        fn(bad)  # type: ignore[operator]


def test_modifiers() -> None:
    assert frozenset({"ctrl", "shift", "alt", "meta"}) == MODIFIERS
    assert MODIFIERS <= CANONICAL_KEYS
    assert all(is_modifier(m) for m in MODIFIERS)
    assert not is_modifier("enter")
    assert not is_modifier("a")


@pytest.mark.parametrize(
    ("char", "shifted", "base"),
    [
        ("a", False, "a"),
        ("A", True, "a"),
        ("<", True, ","),
        (">", True, "."),
        ("?", True, "/"),
        ("/", False, "/"),
        ("_", True, "-"),
        ('"', True, "'"),
        ("1", False, "1"),
        ("!", True, "1"),
        ("é", False, "é"),
    ],
)
def test_needs_shift_us_layout(char: str, shifted: bool, base: str) -> None:
    assert needs_shift(char) is shifted
    assert unshifted(char) == base
