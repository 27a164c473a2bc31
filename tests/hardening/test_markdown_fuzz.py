"""Markdown fuzzing: the parser and script builder never raise and never hang.

Hypothesis generates Markdown-ish notes (Obsidian syntax included) with every reading-rule
combination; a fixed list of hostile shapes (unclosed brackets, deep nesting, huge tables, control
characters …) is built in a child process with a hard time limit, so a hang fails the test
instead of freezing the suite. Target from issue #10: 1 MB in under 1 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_pieces import PIECES

from ownvoice.notes import build_script

MD_TIMER = Path(__file__).resolve().parent / "md_timer.py"
MB = 1 << 20
CI_SIZE = 20_000  # characters per hostile document in CI (the full run uses 1 MB)
CI_CASE_LIMIT = 3.0  # s for 20 kB on a loaded machine: catches hangs and quadratic blow-ups
FULL_TARGET = 1.0  # s for 1 MB (issue #10)

_PIECES = st.sampled_from(PIECES)
_NOTE = st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=120).map("".join)
_RULES = st.fixed_dictionaries(
    {
        "code_blocks": st.sampled_from(["announce", "read", "skip"]),
        "links": st.sampled_from(["text", "announce"]),
        "math": st.sampled_from(["formula", "verbalize"]),
        "embeds": st.sampled_from(["skip", "announce"]),
        "footnotes": st.sampled_from(["end", "skip"]),
        "tags": st.sampled_from(["read", "skip"]),
        "tasks": st.booleans(),
    }
)


@settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(note=_NOTE, rules=_RULES)
def test_any_note_with_any_rules_gives_a_valid_script(note, rules, tally):
    sentences = build_script(note, rules)
    tally.add("inputs_tried")
    tally.add("markdown_documents_tried")
    for s in sentences:
        assert s.text.strip() and 0 <= s.start <= s.end <= len(note)


def _time_cases(cases: list[tuple[str, int]], timeout: float) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, str(MD_TIMER)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _hostile_names() -> list[str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("hz_md_timer", MD_TIMER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.HOSTILE)


def test_hostile_markdown_never_raises_or_hangs(tally):
    names = _hostile_names()
    assert len(names) >= 35
    results = _time_cases([(n, CI_SIZE) for n in names], timeout=300)
    tally.add("inputs_tried", len(results))
    tally.add("markdown_documents_tried", len(results))
    assert [r["name"] for r in results] == names  # every case finished
    errors = [f"{r['name']}: {r['error']}" for r in results if r["error"]]
    slow = [f"{r['name']}: {r['seconds']:.2f} s" for r in results if r["seconds"] > CI_CASE_LIMIT]
    worst = max(results, key=lambda r: r["seconds"])
    tally.figure("markdown_worst_20kB_s", round(worst["seconds"], 2))
    assert not errors, errors
    assert not slow, slow


@pytest.mark.hardening_full
def test_one_megabyte_of_hostile_markdown_is_read_within_a_second(tally):
    names = _hostile_names()
    results = _time_cases([(n, MB) for n in names], timeout=600)
    tally.add("inputs_tried", len(results))
    tally.add("markdown_documents_tried", len(results))
    assert [r["name"] for r in results] == names
    worst = max(results, key=lambda r: r["seconds"])
    tally.figure("markdown_worst_1MB_s", round(worst["seconds"], 1))
    tally.figure("markdown_1MB_over_1s", sum(r["seconds"] > FULL_TARGET for r in results))
    assert not [r for r in results if r["error"]]
    slow = sorted(
        (round(r["seconds"], 1), r["name"]) for r in results if r["seconds"] > FULL_TARGET
    )
    assert not slow, slow
