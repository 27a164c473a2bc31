"""Sentence timings of a rendered note as JSON and WebVTT (for players and highlighting)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import atomic

if TYPE_CHECKING:
    from .render import RenderedNote


def timings_dict(rendered: RenderedNote) -> dict[str, Any]:
    """JSON-ready timings: sample rate, duration and, per sentence, text, offsets and t0/t1."""
    return {
        "sample_rate": rendered.sample_rate,
        "duration": round(rendered.duration, 3),
        "source": rendered.source,
        "sentences": [asdict(s) for s in rendered.sentences],
    }


def _stamp(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _cue_text(text: str) -> str:
    # WebVTT cue text: '&' and '<' are markup, "-->" would end the cue timing line's meaning.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("-->", "→").replace("\n", " ")


def to_webvtt(rendered: RenderedNote) -> str:
    """A WebVTT document with one cue per sentence (ids are sentence indices)."""
    lines = ["WEBVTT", ""]
    for s in rendered.sentences:
        t1 = max(s.t1, s.t0 + 0.001)  # a cue must not be empty
        lines += [str(s.index), f"{_stamp(s.t0)} --> {_stamp(t1)}", _cue_text(s.text), ""]
    return "\n".join(lines)


def write_timings(rendered: RenderedNote, json_path: Path, vtt_path: Path) -> tuple[Path, Path]:
    """Write the JSON and WebVTT timing files atomically; returns their paths."""
    json_path, vtt_path = Path(json_path), Path(vtt_path)
    atomic.write_text(json_path, json.dumps(timings_dict(rendered), ensure_ascii=False, indent=1))
    atomic.write_text(vtt_path, to_webvtt(rendered))
    return json_path, vtt_path
