"""What the readers produce: pieces of spoken text with the source span each stands for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Seg:
    """A piece of spoken text and the source span ``[start, end)`` it stands for.

    *Verbatim* text maps to its span character by character (it is the source, or the source with
    markup blanked to spaces); other text ("Code block.", an alias, "formula") maps to the span.
    """

    text: str
    start: int
    end: int
    verbatim: bool
    brk: bool = False  # a line break inside a paragraph (a callout's title ends at the first)


@dataclass
class Unit:
    """A block read as a whole (paragraph, list item, heading, table row): it ends a sentence."""

    segs: list[Seg]
    kind: str  # "heading" or "block"
    heading: str | None = None
