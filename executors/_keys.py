"""The one canonical key table, and its mapping to each backend.

Canonical key names are lower-case words for named keys (``ctrl``, ``enter``,
``pagedown``, ``f5`` ...) and the character itself for printable keys (``a``,
``A``, ``<``, ``/``, ``é``). Models use many spellings (OpenAI's upper-case
xdotool-like ``CTRL``/``ARROWLEFT``, Lightcone's ``Control``/``Return``, X keysym
names, Playwright code names); `normalize_key` folds them all into this set and
raises `UnknownKeyError` for anything else. See ``shared/spec/PROTOCOL.md``.

Backend names:
- `playwright_key`: names for ``page.keyboard.press/down/up``. Playwright's US
  layout has no F13-F24; for those it returns ``"F13"`` etc. and the executor
  must dispatch them another way (CDP ``Input.dispatchKeyEvent`` with
  `windows_key_code`).
- `x11_keysym`: keysym names for xdotool / ``XStringToKeysym``; non-ASCII
  characters get the ``U+XXXX`` keysym form (``"U00E9"``), which xdotool binds to
  a spare keycode itself.
- `pyautogui_key`: names from ``pyautogui.KEY_NAMES``, or None when pyautogui
  cannot press the key (non-ASCII characters: type those with xdotool).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from executors._errors import UnknownKeyError

__all__ = [
    "CANONICAL_KEYS",
    "MODIFIERS",
    "US_SHIFTED",
    "is_modifier",
    "needs_shift",
    "normalize_chord",
    "normalize_key",
    "playwright_key",
    "pyautogui_key",
    "split_chord",
    "unshifted",
    "windows_key_code",
    "x11_keysym",
]

# canonical name -> (Playwright, X11 keysym, pyautogui, Windows virtual key code)
_NAMED: dict[str, tuple[str, str, str | None, int]] = {
    "ctrl": ("Control", "Control_L", "ctrl", 0x11),
    "shift": ("Shift", "Shift_L", "shift", 0x10),
    "alt": ("Alt", "Alt_L", "alt", 0x12),
    "meta": ("Meta", "Super_L", "win", 0x5B),
    "enter": ("Enter", "Return", "enter", 0x0D),
    "escape": ("Escape", "Escape", "esc", 0x1B),
    "tab": ("Tab", "Tab", "tab", 0x09),
    "space": ("Space", "space", "space", 0x20),
    "backspace": ("Backspace", "BackSpace", "backspace", 0x08),
    "delete": ("Delete", "Delete", "delete", 0x2E),
    "insert": ("Insert", "Insert", "insert", 0x2D),
    "home": ("Home", "Home", "home", 0x24),
    "end": ("End", "End", "end", 0x23),
    "pageup": ("PageUp", "Prior", "pageup", 0x21),
    "pagedown": ("PageDown", "Next", "pagedown", 0x22),
    "left": ("ArrowLeft", "Left", "left", 0x25),
    "up": ("ArrowUp", "Up", "up", 0x26),
    "right": ("ArrowRight", "Right", "right", 0x27),
    "down": ("ArrowDown", "Down", "down", 0x28),
    "capslock": ("CapsLock", "Caps_Lock", "capslock", 0x14),
    "numlock": ("NumLock", "Num_Lock", "numlock", 0x90),
    "scrolllock": ("ScrollLock", "Scroll_Lock", "scrolllock", 0x91),
    "printscreen": ("PrintScreen", "Print", "printscreen", 0x2C),
    "pause": ("Pause", "Pause", "pause", 0x13),
    "contextmenu": ("ContextMenu", "Menu", "apps", 0x5D),
    "volumemute": ("AudioVolumeMute", "XF86AudioMute", "volumemute", 0xAD),
    "volumedown": ("AudioVolumeDown", "XF86AudioLowerVolume", "volumedown", 0xAE),
    "volumeup": ("AudioVolumeUp", "XF86AudioRaiseVolume", "volumeup", 0xAF),
    "medianext": ("MediaTrackNext", "XF86AudioNext", "nexttrack", 0xB0),
    "mediaprev": ("MediaTrackPrevious", "XF86AudioPrev", "prevtrack", 0xB1),
    "mediaplaypause": ("MediaPlayPause", "XF86AudioPlay", "playpause", 0xB3),
}
for _n in range(1, 25):
    _NAMED[f"f{_n}"] = (f"F{_n}", f"F{_n}", f"f{_n}", 0x6F + _n)

CANONICAL_KEYS: frozenset[str] = frozenset(_NAMED)
"""Every canonical *named* key (printable characters are not listed)."""

MODIFIERS: frozenset[str] = frozenset({"ctrl", "shift", "alt", "meta"})
"""The canonical modifier keys."""

# X keysym names of printable ASCII characters (letters and digits are themselves).
_ASCII_KEYSYMS: dict[str, str] = {
    "!": "exclam",
    '"': "quotedbl",
    "#": "numbersign",
    "$": "dollar",
    "%": "percent",
    "&": "ampersand",
    "'": "apostrophe",
    "(": "parenleft",
    ")": "parenright",
    "*": "asterisk",
    "+": "plus",
    ",": "comma",
    "-": "minus",
    ".": "period",
    "/": "slash",
    ":": "colon",
    ";": "semicolon",
    "<": "less",
    "=": "equal",
    ">": "greater",
    "?": "question",
    "@": "at",
    "[": "bracketleft",
    "\\": "backslash",
    "]": "bracketright",
    "^": "asciicircum",
    "_": "underscore",
    "`": "grave",
    "{": "braceleft",
    "|": "bar",
    "}": "braceright",
    "~": "asciitilde",
}

US_SHIFTED: dict[str, str] = {
    "~": "`",
    "!": "1",
    "@": "2",
    "#": "3",
    "$": "4",
    "%": "5",
    "^": "6",
    "&": "7",
    "*": "8",
    "(": "9",
    ")": "0",
    "_": "-",
    "+": "=",
    "{": "[",
    "}": "]",
    "|": "\\",
    ":": ";",
    '"': "'",
    "<": ",",
    ">": ".",
    "?": "/",
}
"""US-layout characters typed with shift -> the unshifted character on the same key."""
US_SHIFTED.update({chr(c): chr(c).lower() for c in range(ord("A"), ord("Z") + 1)})

# Aliases, keyed by the lower-cased name with "_", "-" and spaces removed.
_ALIASES: dict[str, str] = {
    # modifiers
    "ctrl": "ctrl",
    "control": "ctrl",
    "ctl": "ctrl",
    "strg": "ctrl",
    "shift": "shift",
    "alt": "alt",
    "option": "alt",
    "opt": "alt",
    "meta": "meta",
    "cmd": "meta",
    "command": "meta",
    "super": "meta",
    "win": "meta",
    "windows": "meta",
    "os": "meta",
    "hyper": "meta",
    # editing / whitespace
    "enter": "enter",
    "return": "enter",
    "ret": "enter",
    "kpenter": "enter",
    "numpadenter": "enter",
    "esc": "escape",
    "escape": "escape",
    "tab": "tab",
    "space": "space",
    "spacebar": "space",
    "backspace": "backspace",
    "bksp": "backspace",
    "bkspc": "backspace",
    "bs": "backspace",
    "delete": "delete",
    "del": "delete",
    "insert": "insert",
    "ins": "insert",
    # navigation
    "home": "home",
    "end": "end",
    "pageup": "pageup",
    "pgup": "pageup",
    "prior": "pageup",
    "pagedown": "pagedown",
    "pgdn": "pagedown",
    "pgdown": "pagedown",
    "next": "pagedown",
    "left": "left",
    "arrowleft": "left",
    "leftarrow": "left",
    "right": "right",
    "arrowright": "right",
    "rightarrow": "right",
    "up": "up",
    "arrowup": "up",
    "uparrow": "up",
    "down": "down",
    "arrowdown": "down",
    "downarrow": "down",
    # locks and system keys
    "capslock": "capslock",
    "caps": "capslock",
    "capital": "capslock",
    "numlock": "numlock",
    "scrolllock": "scrolllock",
    "printscreen": "printscreen",
    "print": "printscreen",
    "prtsc": "printscreen",
    "prtscr": "printscreen",
    "prntscrn": "printscreen",
    "snapshot": "printscreen",
    "pause": "pause",
    "break": "pause",
    "contextmenu": "contextmenu",
    "menu": "contextmenu",
    "apps": "contextmenu",
    "application": "contextmenu",
    # media
    "volumemute": "volumemute",
    "audiovolumemute": "volumemute",
    "xf86audiomute": "volumemute",
    "mute": "volumemute",
    "volumedown": "volumedown",
    "audiovolumedown": "volumedown",
    "xf86audiolowervolume": "volumedown",
    "volumeup": "volumeup",
    "audiovolumeup": "volumeup",
    "xf86audioraisevolume": "volumeup",
    "medianext": "medianext",
    "mediatracknext": "medianext",
    "nexttrack": "medianext",
    "xf86audionext": "medianext",
    "mediaprev": "mediaprev",
    "mediaprevious": "mediaprev",
    "mediatrackprevious": "mediaprev",
    "prevtrack": "mediaprev",
    "xf86audioprev": "mediaprev",
    "mediaplaypause": "mediaplaypause",
    "playpause": "mediaplaypause",
    "xf86audioplay": "mediaplaypause",
    # printable characters by name (X keysym names, Playwright codes, plain words)
    "slash": "/",
    "backslash": "\\",
    "comma": ",",
    "period": ".",
    "dot": ".",
    "minus": "-",
    "hyphen": "-",
    "dash": "-",
    "plus": "+",
    "equal": "=",
    "equals": "=",
    "semicolon": ";",
    "colon": ":",
    "quote": "'",
    "apostrophe": "'",
    "singlequote": "'",
    "quotedbl": '"',
    "doublequote": '"',
    "backquote": "`",
    "backtick": "`",
    "grave": "`",
    "bracketleft": "[",
    "bracketright": "]",
    "braceleft": "{",
    "braceright": "}",
    "less": "<",
    "lessthan": "<",
    "greater": ">",
    "greaterthan": ">",
    "question": "?",
    "questionmark": "?",
    "exclam": "!",
    "exclamation": "!",
    "at": "@",
    "numbersign": "#",
    "hash": "#",
    "dollar": "$",
    "percent": "%",
    "asciicircum": "^",
    "caret": "^",
    "ampersand": "&",
    "asterisk": "*",
    "parenleft": "(",
    "parenright": ")",
    "underscore": "_",
    "bar": "|",
    "pipe": "|",
    "asciitilde": "~",
    "tilde": "~",
    # numpad operators type their character
    "divide": "/",
    "numpaddivide": "/",
    "kpdivide": "/",
    "multiply": "*",
    "numpadmultiply": "*",
    "kpmultiply": "*",
    "add": "+",
    "numpadadd": "+",
    "kpadd": "+",
    "subtract": "-",
    "numpadsubtract": "-",
    "kpsubtract": "-",
    "decimal": ".",
    "numpaddecimal": ".",
    "kpdecimal": ".",
}
for _name in CANONICAL_KEYS:
    _ALIASES.setdefault(_name, _name)

# Whitespace/control characters that models send as "keys".
_CHAR_ALIASES: dict[str, str] = {
    " ": "space",
    "\n": "enter",
    "\r": "enter",
    "\t": "tab",
    "\b": "backspace",
    "\x1b": "escape",
    "\x7f": "delete",
}

_FN_RE = re.compile(r"f([1-9]|1[0-9]|2[0-4])")
_CODE_RE = re.compile(r"(?:key|digit|numpad|num|kp)([a-z0-9])")
# Sided modifiers: Control_L, ShiftRight, ctrl_left, lalt, RCtrl (never "ctrl-l", a chord).
_SIDED_RE = re.compile(r"(?:[lr](?P<a>[a-z]+)|(?P<b>[a-z]+?)(?:_?(?:left|right)|_[lr]))")
_STRIP_RE = re.compile(r"(?<=[a-z0-9])[\s_\-]+(?=[a-z0-9])")


def _lookup(name: str) -> str | None:
    """Canonical name for a multi-character key name, or None."""
    folded = _STRIP_RE.sub("", name.lower())
    if not folded.isalnum():  # leftover separators ("ctrl--") or punctuation
        return None
    hit = _ALIASES.get(folded)
    if hit is not None:
        return hit
    if _FN_RE.fullmatch(folded):
        return folded
    code = _CODE_RE.fullmatch(folded)
    if code is not None and (folded.startswith(("key", "digit")) or code.group(1).isdigit()):
        # Playwright codes KeyA / Digit1 and numpad digits mean the plain key.
        return code.group(1)
    sided = _SIDED_RE.fullmatch(name.strip().lower())
    if sided is not None:
        stem = sided.group("a") or sided.group("b")
        hit = _ALIASES.get(stem or "")
        if hit in MODIFIERS:  # ctrl_l, ShiftRight, lalt, Super_R, ...
            return hit
    return None


def normalize_key(name: str) -> str:
    """Return the canonical name of one key, case-insensitively for named keys.

    A single printable character stays itself with its case (``"A"`` stays
    ``"A"``, ``"/"`` is the slash key); named keys fold to lower case
    (``"ENTER"`` -> ``"enter"``, ``"Control"`` -> ``"ctrl"``, ``"PAGE_DOWN"`` ->
    ``"pagedown"``). Raises `UnknownKeyError` for anything else, including a
    chord such as ``"ctrl+l"`` (use `split_chord`).
    """
    if not isinstance(name, str):
        raise UnknownKeyError(name)
    if len(name) == 1:
        alias = _CHAR_ALIASES.get(name)
        if alias is not None:
            return alias
        if name.isprintable():
            return name
        raise UnknownKeyError(name)
    stripped = name.strip()
    if len(stripped) == 1:
        return normalize_key(stripped)
    canonical = _lookup(stripped)
    if canonical is None:
        raise UnknownKeyError(name)
    return canonical


def _split_on(s: str, sep: str) -> list[str] | None:
    """Split a chord on a weak separator ("-" or space) only when it is clearly a chord."""
    parts = [p for p in (s.split(sep) if sep != " " else s.split()) if p]
    if sep == "-" and s.endswith("--"):
        parts.append("-")
    if len(parts) < 2:
        return None
    try:
        names = [normalize_key(p) for p in parts]
    except UnknownKeyError:
        return None
    if all(n in MODIFIERS for n in names[:-1]):
        return names
    return None


def split_chord(s: str) -> list[str]:
    """Split a chord string into canonical key names (``"CTRL+SHIFT+K"`` ->
    ``["ctrl", "shift", "k"]``).

    ``+`` separates keys; ``"+"`` alone and a trailing ``"++"`` are the plus key.
    ``-`` and whitespace separate keys only when every key but the last is a
    modifier (``"ctrl-l"``, ``"shift tab"``), so ``"-"``, ``"page-down"`` and
    ``"Page Down"`` stay single keys. The result goes through `normalize_chord`.
    """
    if not isinstance(s, str):
        raise UnknownKeyError(s)
    if s in ("+", "-", " "):
        return [normalize_key(s)]
    if "+" in s:
        body, tail = (s[:-2], ["+"]) if s.endswith("++") else (s, [])
        raw = (body.split("+") if body else []) + tail
        if any(not p.strip() and p != " " for p in raw):
            raise UnknownKeyError(s)
        return normalize_chord(normalize_key(p) for p in raw)
    try:
        return normalize_chord([normalize_key(s)])
    except UnknownKeyError:
        for sep in ("-", " "):
            names = _split_on(s.strip(), sep)
            if names is not None:
                return normalize_chord(names)
        raise


def normalize_chord(keys: Iterable[str]) -> list[str]:
    """Normalize every key of a chord; with a modifier held, letters are lower-cased.

    ``["CTRL", "A"]`` means ctrl+a (select all), not ctrl+shift+a: OpenAI writes
    every key upper-case. A lone ``"A"`` still types a capital A.
    """
    names = [normalize_key(k) for k in keys]
    if any(n in MODIFIERS for n in names):
        names = [n.lower() if len(n) == 1 and "A" <= n <= "Z" else n for n in names]
    return names


def is_modifier(canonical: str) -> bool:
    """True for ctrl, shift, alt and meta."""
    return canonical in MODIFIERS


def needs_shift(char: str) -> bool:
    """True when a US-layout keyboard types this printable character with shift."""
    return char in US_SHIFTED


def unshifted(char: str) -> str:
    """The character on the same US-layout key without shift (``"<"`` -> ``","``)."""
    return US_SHIFTED.get(char, char)


def _check(canonical: str) -> tuple[str, str, str | None, int] | None:
    entry = _NAMED.get(canonical)
    if entry is None and not (len(canonical) == 1 and canonical.isprintable() and canonical != " "):
        raise UnknownKeyError(canonical)
    return entry


def playwright_key(canonical: str) -> str:
    """Playwright ``keyboard.press`` name for a canonical key (``"pagedown"`` -> ``"PageDown"``)."""
    entry = _check(canonical)
    return entry[0] if entry is not None else canonical


def x11_keysym(canonical: str) -> str:
    """X keysym name for xdotool (``"<"`` -> ``"less"``, ``"é"`` -> ``"U00E9"``)."""
    entry = _check(canonical)
    if entry is not None:
        return entry[1]
    if canonical.isascii():
        return _ASCII_KEYSYMS.get(canonical, canonical)
    return f"U{ord(canonical):04X}"


def pyautogui_key(canonical: str) -> str | None:
    """pyautogui key name, or None when pyautogui cannot press it (non-ASCII)."""
    entry = _check(canonical)
    if entry is not None:
        return entry[2]
    return canonical if canonical.isascii() else None


def windows_key_code(canonical: str) -> int | None:
    """Windows virtual key code (for CDP ``Input.dispatchKeyEvent``), or None if none fits."""
    entry = _check(canonical)
    if entry is not None:
        return entry[3]
    base = unshifted(canonical)
    if base.isascii() and base.isalnum():
        return ord(base.upper())
    return _VK_PUNCT.get(base)


_VK_PUNCT: dict[str, int] = {
    ";": 0xBA,
    "=": 0xBB,
    ",": 0xBC,
    "-": 0xBD,
    ".": 0xBE,
    "/": 0xBF,
    "`": 0xC0,
    "[": 0xDB,
    "\\": 0xDC,
    "]": 0xDD,
    "'": 0xDE,
}
