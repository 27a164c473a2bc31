"""Reading rules: how each Markdown construct is spoken (one frozen dataclass, all configurable)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput

_CHOICES: dict[str, tuple[str, ...]] = {
    "code_blocks": ("announce", "read", "skip"),
    "links": ("text", "announce"),
    "urls": ("link", "domain"),
    "embeds": ("skip", "announce"),
    "math": ("formula", "verbalize"),
    "footnotes": ("end", "skip"),
    "tags": ("read", "skip"),
}


@dataclass(frozen=True)
class ReadingRules:
    """How a note is read aloud. Front matter, ``%%comments%%`` and HTML tags are never read."""

    code_blocks: str = "announce"
    """``announce`` says "Code block.", ``read`` reads each line, ``skip`` says nothing."""
    links: str = "text"
    """``text`` reads a link's text; ``announce`` says "link to <text>"."""
    urls: str = "link"
    """Bare URLs: ``link`` says "link", ``domain`` says the host ("example dot com")."""
    embeds: str = "skip"
    """Images and ``![[embeds]]``: ``skip``, or ``announce`` ("embedded note X", "image: alt")."""
    math: str = "formula"
    """``formula`` says "formula"; ``verbalize`` reads simple LaTeX ("x squared plus one")."""
    footnotes: str = "end"
    """``end`` reads footnotes after the note ("Footnote 1: ..."); ``skip`` drops them."""
    tasks: bool = True
    """Say "Done:" / "To do:" before task list items."""
    tags: str = "read"
    """``#tags``: ``read`` says the tag without '#', ``skip`` drops it."""
    heading_pause: float = 0.7
    """Seconds of silence after a heading."""
    block_pause: float = 0.4
    """Seconds of silence after a paragraph, list item or table row."""
    sentence_pause: float = 0.15
    """Seconds of silence between sentences of one paragraph."""
    max_sentence_chars: int = 300
    """Longer sentences are cut at commas/semicolons so the TTS can say each at once."""

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise BadInput(
                    f"reading rule {name!r} must be one of {', '.join(choices)} (got {value!r})"
                )
        if not isinstance(self.tasks, bool):
            raise BadInput("reading rule 'tasks' must be true or false")
        for name in ("heading_pause", "block_pause", "sentence_pause"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 5
            ):
                raise BadInput(f"reading rule {name!r} must be a number of seconds in 0..5")
        m = self.max_sentence_chars
        if isinstance(m, bool) or not isinstance(m, int) or not 40 <= m <= 2000:
            raise BadInput("reading rule 'max_sentence_chars' must be an integer in 40..2000")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ReadingRules:
        """Rules from JSON/TOML; unknown keys are an error. ``heading_pause: true/false`` is allowed."""
        if not isinstance(values, Mapping):
            raise BadInput("reading rules must be an object")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise BadInput(
                f"unknown reading rule(s) {', '.join(map(repr, unknown))}; "
                f"valid rules: {', '.join(sorted(fields))}"
            )
        kwargs = dict(values)
        if isinstance(kwargs.get("heading_pause"), bool):  # the HTTP API's on/off switch
            kwargs["heading_pause"] = cls.heading_pause if kwargs["heading_pause"] else 0.0
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config: Any) -> ReadingRules:
        """Rules from the daemon settings ``code_blocks``, ``links`` and ``math``."""
        return cls(code_blocks=config.code_blocks, links=config.links, math=config.math)


def coerce_rules(rules: ReadingRules | Mapping[str, Any] | None) -> ReadingRules:
    """Accept rules as the dataclass, a plain mapping (HTTP/JSON) or None (defaults)."""
    if rules is None:
        return ReadingRules()
    if isinstance(rules, ReadingRules):
        return rules
    return ReadingRules.from_dict(rules)
