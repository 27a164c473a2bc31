"""Code point offsets (Python) → UTF-16 code unit offsets (JavaScript, CodeMirror) for one text."""

from __future__ import annotations

import bisect
import re

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class Utf16Offsets:
    """Converts offsets into ``text``: each character above U+FFFF counts two UTF-16 units."""

    def __init__(self, text: str) -> None:
        # Only astral characters (emoji, rare CJK) shift offsets; remember where they are.
        self._astral = [m.start() for m in _ASTRAL.finditer(text)]
        self._len = len(text)

    def __call__(self, index: int) -> int:
        index = max(0, min(int(index), self._len))
        return index + bisect.bisect_left(self._astral, index)


def utf16_len(text: str) -> int:
    return len(text) + len(_ASTRAL.findall(text))
