"""Streamed decoding: how soon a sentence's audio starts, and what the chunks cost in quality.

    .venv/bin/python bench/stream.py [--voice ov_en_female] [--threads 2] [--rounds 1]

Each English sentence is spoken three ways by the same warm engine, in the same run:

- ``whole``: decoded in one go (``Engine.speak_phonemes``; what the cache and buffered answers get);
- ``stream``: decoded in growing chunks (``Engine.stream_phonemes``; what a streamed answer's
  first sentence gets);
- ``split``: the earlier way to start sooner, the first four words spoken as their own utterance
  and the rest after them (kept here as the reference the chunks replaced).

Reported: DNSMOS overall (speechmos, 16 kHz) of each, the compute time to the first audio and to
the whole sentence, the chunks per sentence, and the underrun a player would hear if it started
playing the first chunk the moment it arrived (seconds of silence waiting for later chunks; 0 is
the goal). Prints a table; writes ``bench/results/stream.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ownvoice.engine.eval_sentences import ENGLISH

SENTENCES = (
    *ENGLISH,
    "Reading your notes aloud in your own voice takes a little patience on a small laptop.",
    "When the rain finally stopped, the whole street smelled of wet stone and cut grass.",
)
SPLIT_WORDS = 4


def underrun(arrivals: list[tuple[float, float]]) -> float:
    """Seconds a player waits mid-sentence, given (arrival time, seconds of audio) per chunk."""
    waited, runs_out = 0.0, None
    for t, dur in arrivals:
        if runs_out is None:
            runs_out = t + dur
            continue
        if t > runs_out:
            waited += t - runs_out
            runs_out = t
        runs_out += dur
    return waited


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--voice", default="ov_en_female", help="voice id (default: the English built-in)"
    )
    ap.add_argument("--threads", type=int, default=2, help="model threads (default 2)")
    ap.add_argument(
        "--rounds", type=int, default=1, help="passes over the sentences (timings: best)"
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("OWNVOICE_HOME", tempfile.mkdtemp(prefix="ov-bench-stream-"))

    import soxr
    from speechmos import dnsmos

    from ownvoice.audio_constants import SAMPLE_RATE
    from ownvoice.engine import make_engine
    from ownvoice.engine.g2p import to_phonemes
    from ownvoice.speech import Speaker

    engine = make_engine("fast", args.threads)
    speaker = Speaker(engine=engine)
    voice = speaker.resolve_voice(args.voice, "en")
    engine.speak_phonemes(to_phonemes("Warm up.", "en"), voice)

    def mos(audio: np.ndarray) -> float:
        x = soxr.resample(audio, SAMPLE_RATE, 16000).astype(np.float32)
        return float(dnsmos.run(np.clip(x, -1, 1), 16000)["ovrl_mos"])

    rows = []
    for text in SENTENCES:
        phonemes = to_phonemes(text, "en")
        words = text.split()
        head, rest = " ".join(words[:SPLIT_WORDS]), " ".join(words[SPLIT_WORDS:])
        best: dict | None = None
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            whole = engine.speak_phonemes(phonemes, voice)
            t_whole = time.perf_counter() - t0
            t0 = time.perf_counter()
            parts, arrivals = [], []
            for audio, _last in engine.stream_phonemes(phonemes, voice):
                arrivals.append((time.perf_counter() - t0, len(audio) / SAMPLE_RATE))
                parts.append(audio)
            run = {
                "t_whole": t_whole,
                "t_first": arrivals[0][0],
                "t_stream": arrivals[-1][0],
                "chunks": len(parts),
                "underrun": underrun(arrivals),
            }
            if best is None or run["t_first"] < best["t_first"]:
                best = run
        streamed = np.concatenate(parts)
        split = np.concatenate(
            [engine.speak_phonemes(to_phonemes(p, "en"), voice) for p in (head, rest)]
        )
        assert len(streamed) == len(whole), (
            "streamed chunks must join to the whole sentence's length"
        )
        rows.append(
            {
                "text": text,
                "seconds": len(whole) / SAMPLE_RATE,
                **best,
                "mos_whole": mos(whole),
                "mos_stream": mos(streamed),
                "mos_split": mos(split),
            }
        )

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in rows]))

    summary = {
        k: mean(k)
        for k in (
            "seconds",
            "t_first",
            "t_whole",
            "t_stream",
            "chunks",
            "underrun",
            "mos_whole",
            "mos_stream",
            "mos_split",
        )
    }
    summary["t_first_max"] = float(max(r["t_first"] for r in rows))
    summary["underrun_max"] = float(max(r["underrun"] for r in rows))
    print(
        f"voice {args.voice}, {len(rows)} sentences, {args.threads} threads, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'':22} {'whole':>8} {'stream':>8} {'split':>8}")
    print(
        f"{'DNSMOS overall':22} {summary['mos_whole']:8.3f} {summary['mos_stream']:8.3f} {summary['mos_split']:8.3f}"
    )
    print(
        f"{'first audio (s)':22} {summary['t_whole']:8.3f} {summary['t_first']:8.3f}   (max {summary['t_first_max']:.3f})"
    )
    print(f"{'all audio (s)':22} {summary['t_whole']:8.3f} {summary['t_stream']:8.3f}")
    print(
        f"audio {summary['seconds']:.2f} s per sentence; {summary['chunks']:.1f} chunks; underrun mean "
        f"{summary['underrun']:.3f} s, max {summary['underrun_max']:.3f} s"
    )
    out = REPO / "bench" / "results" / "stream.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"voice": args.voice, "threads": args.threads, "summary": summary, "rows": rows},
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
