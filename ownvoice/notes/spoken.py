"""Small verbalizers for things a note shows but a voice must say: LaTeX, URLs, language of a text."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

_LOGGER = logging.getLogger(__name__)

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\[\]()]*[^\s<>\[\]().,;:!?'\"]", re.IGNORECASE)

_GREEK = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
]
_COMMANDS: dict[str, str] = {
    **{g: g.removeprefix("var") for g in _GREEK},
    **{g.capitalize(): "capital " + g for g in _GREEK if not g.startswith("var")},
    "times": "times",
    "cdot": "times",
    "div": "divided by",
    "pm": "plus or minus",
    "mp": "minus or plus",
    "le": "is less than or equal to",
    "leq": "is less than or equal to",
    "ge": "is greater than or equal to",
    "geq": "is greater than or equal to",
    "ne": "is not equal to",
    "neq": "is not equal to",
    "approx": "is approximately",
    "equiv": "is equivalent to",
    "sim": "is similar to",
    "propto": "is proportional to",
    "infty": "infinity",
    "sum": "the sum of",
    "prod": "the product of",
    "int": "the integral of",
    "oint": "the contour integral of",
    "partial": "partial",
    "nabla": "nabla",
    "lim": "the limit",
    "to": "to",
    "rightarrow": "goes to",
    "Rightarrow": "implies",
    "implies": "implies",
    "iff": "if and only if",
    "in": "in",
    "notin": "not in",
    "subset": "subset of",
    "subseteq": "subset of or equal to",
    "cup": "union",
    "cap": "intersection",
    "forall": "for all",
    "exists": "there exists",
    "neg": "not",
    "land": "and",
    "lor": "or",
    "log": "log",
    "ln": "ln",
    "exp": "exp",
    "sin": "sine",
    "cos": "cosine",
    "tan": "tangent",
    "max": "max",
    "min": "min",
    "cdots": "and so on",
    "ldots": "and so on",
    "dots": "and so on",
    "circ": "degrees",
    "mathbb": "",
    "mathrm": "",
    "mathbf": "",
    "mathit": "",
    "text": "",
    "operatorname": "",
    "left": "",
    "right": "",
    "big": "",
    "Big": "",
    "displaystyle": "",
    "quad": "",
    "qquad": "",
}
_OPERATORS = {
    "+": " plus ",
    "-": " minus ",
    "=": " equals ",
    "<": " is less than ",
    ">": " is greater than ",
    "/": " over ",
    "*": " times ",
    "!": " factorial ",
    ",": ", ",
    "(": " ",
    ")": " ",
    "[": " ",
    "]": " ",
    "|": " ",
    "&": " ",
    "'": " prime ",
}
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_POWER = re.compile(r"\^\s*(?:\{([^{}]*)\}|(\\?\w))")
_INDEX = re.compile(r"_\s*(?:\{([^{}]*)\}|(\\?\w))")
_GROUP = re.compile(r"\{([^{}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)|\\(.)")
_MAX_MATH = 400  # characters of LaTeX we try to read; longer ones are just "formula"


def _power(m: re.Match[str]) -> str:
    exp = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
    if exp == "2":
        return " squared "
    if exp == "3":
        return " cubed "
    return f" to the power of {exp} "


def _index(m: re.Match[str]) -> str:
    sub = m.group(1) if m.group(1) is not None else m.group(2)
    return f" sub {sub} "


def verbalize_math(latex: str) -> str:
    """A simple reading of inline LaTeX (``x^2+1`` → "x squared plus 1"); "formula" when too hard."""
    latex = latex.strip()
    if not latex or len(latex) > _MAX_MATH:
        return "formula"
    s = latex.replace("\\,", " ").replace("\\;", " ").replace("\\!", "").replace("~", " ")
    s = s.replace("\\\\", ", ")
    for _ in range(64):  # innermost groups first; bounded so odd input cannot loop
        new = _FRAC.sub(lambda m: f" {m.group(1)} over {m.group(2)} ", s)
        new = _SQRT.sub(lambda m: f" the square root of {m.group(1)} ", new)
        new = _POWER.sub(_power, new)
        new = _INDEX.sub(_index, new)
        if new == s:
            new = _GROUP.sub(lambda m: f" {m.group(1)} ", s)
        if new == s:
            break
        s = new
    s = _COMMAND.sub(lambda m: f" {_COMMANDS.get(m.group(1) or '', m.group(1) or '')} ", s)
    s = "".join(_OPERATORS.get(c, c) for c in s)
    s = re.sub(r"[{}^_\\$]", " ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,")
    return s if any(c.isalnum() for c in s) else "formula"


def speak_url(url: str, mode: str) -> str:
    """How a bare URL is read: "link", or its host ("example dot com")."""
    if mode != "domain":
        return "link"
    target = url if "://" in url else "http://" + url
    try:
        host = urlsplit(target).hostname or ""
    except ValueError:
        host = ""
    host = host.removeprefix("www.")
    return host.replace(".", " dot ") if host else "link"


def _fallback_detect_lang(text: str) -> str:
    """Language by Unicode script: kana → ja, Han → zh, else en (when the engine's G2P is absent)."""
    latin = kana = han = 0
    for ch in text[:2000]:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
            kana += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            han += 1
        elif ch.isalpha() and o < 0x250:
            latin += 1
    if kana + han == 0 or (kana + han) * 3 < latin:
        return "en"
    return "ja" if kana else "zh"


_DETECT: Callable[[str], str] | None = None


def detect_lang(text: str) -> str:
    """The engine's ``detect_lang`` when importable, else the script-based fallback."""
    global _DETECT
    if text.isascii():
        return "en"  # no CJK at all: what every detector says, without the per-character scan
    if _DETECT is None:
        try:
            from ..engine.g2p import detect_lang as engine_detect

            _DETECT = engine_detect
        except Exception as e:  # noqa: BLE001 - any import failure means: use the fallback
            _LOGGER.info("engine language detection unavailable (%s); using script fallback", e)
            _DETECT = _fallback_detect_lang
    try:
        return _DETECT(text)
    except Exception:  # detection must never stop a note from being read
        _LOGGER.exception("detect_lang failed; using script fallback")
        return _fallback_detect_lang(text)
