"""Word error counting for judging synthesized speech by ASR (tests, benchmarks, reports)."""

from __future__ import annotations

import re


def words(text: str) -> list[str]:
    """Lower-case words without punctuation (hyphens split words, apostrophes stay)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_errors(ref: str, hyp: str) -> int:
    """Word-level edit distance (substitutions + insertions + deletions) of ``hyp`` to ``ref``."""
    r, h = words(ref), words(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
    return d[-1]
