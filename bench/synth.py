"""Synthesis speed: ownvoice's engine against the kokoro-onnx int8 reference, in the same run.

    .venv/bin/python bench/synth.py [--rounds 3] [--threads 2] [--variants fast,fast-fp32,int8,torch]

On a fixed English + Mandarin + Japanese text set (phonemized once by ``ownvoice.engine.g2p``,
spoken with one stock voice), every variant synthesizes every text once per round; rounds
interleave the variants so that load from other processes hits them alike. Reported per variant:
real-time factor (compute seconds / audio seconds, total over the set, and the best round), and
its ratio to the int8 reference. Variants:

- ``fast``: ownvoice's default path (our fp32 model exported to ONNX, onnxruntime, no spinning,
  some decoder convolutions in int8: ``kokoro.quantize``);
- ``fast-fp32``: ``fast`` with the decoder all in fp32;
- ``int8``: the reference, Kokoro-82M's published int8 ONNX under onnxruntime (kokoro-onnx's
  runtime and weights; what the product used before);
- ``torch``: our fp32 torch model (the fallback and training path);
- ``fast-spin``: ``fast`` with onnxruntime's spinning worker threads (its default);
- ``torch-active``: ``torch`` in a child process with ``OMP_WAIT_POLICY=ACTIVE`` (torch default).

Then, each in a fresh subprocess (models already on disk): cold model load time, time to the
first audio of a short first sentence through ``Speaker.stream`` from a cold process and from a
warm engine, and peak RSS after the text set. Prints a table; writes ``bench/results/synth.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEXTS = [
    ("en", "The quick brown fox jumps over the lazy dog."),
    ("en", "Reading your notes aloud in your own voice takes a little patience on a small laptop."),
    ("en", "On Tuesday, March 3rd, we moved 42 boxes into the new office."),
    ("zh", "今天天气很好，我们去公园散步吧。"),
    ("zh", "我今天用 Python 写代码，写了三个小时。"),
    ("ja", "こんにちは、今日は良い天気ですね。"),
    ("ja", "明日の会議は午後三時から始まります。"),
]
VOICE = "jf_alpha"
FIRST_TEXT = "Hello there. This second sentence is longer, and it is spoken while the first one plays."


def _engine(variant: str, threads: int):
    """(synthesize(phonemes, style) -> audio) for one in-process variant."""
    from ownvoice.engine import make_engine

    if variant == "fast":
        return make_engine("fast", threads).model
    if variant == "fast-fp32":
        from ownvoice.engine.kokoro.fast import FastKokoroEngine

        return FastKokoroEngine(threads=threads, precision="fp32").load()
    if variant == "torch":
        return make_engine("torch", threads).model
    if variant == "int8":
        from ownvoice.engine.onnx_engine import OnnxKokoroEngine

        return OnnxKokoroEngine(threads=threads).load()
    if variant == "fast-spin":
        from ownvoice.engine.kokoro import fast

        engine = fast.FastKokoroEngine(threads=threads)
        original = fast.session_options

        def spinning(n):
            opts = original(n)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "1")
            return opts

        fast.session_options = spinning
        try:
            return engine.load()
        finally:
            fast.session_options = original
    raise SystemExit(f"unknown variant {variant}")


def _phonemes() -> list[tuple[str, str]]:
    from ownvoice.engine.g2p import to_phonemes

    return [(lang, to_phonemes(text, lang)) for lang, text in TEXTS]


def _style():
    from ownvoice.engine.kokoro.runtime import stock_voices

    return stock_voices()[VOICE]


def _run_set(engine, phonemes, style) -> tuple[float, float]:
    """(compute seconds, audio seconds) for the whole text set."""
    busy = audio = 0.0
    for _lang, ph in phonemes:
        t0 = time.perf_counter()
        out = engine.synthesize(ph, style)
        busy += time.perf_counter() - t0
        audio += len(out.audio) / 24000
    return busy, audio


def child(variant: str, threads: int, rounds: int) -> dict:
    """Measured in a fresh process: cold load, first audio, RTF rounds, peak RSS."""
    t0 = time.perf_counter()
    if variant in ("fast", "auto"):
        from ownvoice.config import load_config
        from ownvoice.notes.cache import AudioCache
        from ownvoice.speech import Speaker

        # a fresh audio cache: first-audio times must be synthesis, never a cache hit
        fresh = AudioCache(Path(tempfile.mkdtemp(prefix="synth-bench-cache-")), 64 << 20)
        speaker = Speaker(load_config(), cache=fresh)
        engine = speaker.engine.model
    else:
        speaker = None
        engine = _engine(variant.removesuffix("-active"), threads)
    load_s = time.perf_counter() - t0
    result: dict = {"variant": variant, "cold_load_s": round(load_s, 3)}
    if speaker is not None:
        from ownvoice.engine.g2p import warm_up

        t1 = time.perf_counter()
        first = next(speaker.stream(FIRST_TEXT, voice=VOICE, lang="en"))
        result["first_audio_cold_g2p_s"] = round(time.perf_counter() - t1, 3)  # includes G2P load
        warm_up(("en",))
        t1 = time.perf_counter()
        first = next(speaker.stream("Good morning. " + FIRST_TEXT, voice=VOICE, lang="en"))
        result["first_audio_warm_s"] = round(time.perf_counter() - t1, 3)
        result["first_audio_seconds_of_speech"] = round(len(first.samples) / 24000, 2)
    phonemes, style = _phonemes(), _style()
    rtfs = []
    for _ in range(rounds):
        busy, audio = _run_set(engine, phonemes, style)
        rtfs.append(busy / audio)
    result["rtf_rounds"] = [round(r, 3) for r in rtfs]
    # VmHWM, not ru_maxrss: the latter keeps the parent's high-water mark across fork + exec
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    result["peak_rss_mb"] = round(int(hwm.split()[1]) / 1024, 1)
    return result


def _spawn(variant: str, threads: int, rounds: int, home: Path) -> dict:
    env = dict(os.environ, OWNVOICE_HOME=str(home))
    if variant.endswith("-active"):
        env["OMP_WAIT_POLICY"] = "ACTIVE"
    cmd = [sys.executable, __file__, "--child", variant, "--threads", str(threads), "--rounds", str(rounds)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        return {"variant": variant, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", default="fast,fast-fp32,int8,torch,fast-spin")
    ap.add_argument("--subprocess-variants", default="fast,int8,torch,torch-active")
    ap.add_argument("--home", type=Path, default=None, help="OWNVOICE_HOME (models are built there once)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.threads, args.rounds)))
        return
    home = args.home or Path(tempfile.gettempdir()) / "ownvoice-bench-synth"
    os.environ["OWNVOICE_HOME"] = str(home)
    variants = [v for v in args.variants.split(",") if v]
    if "int8" not in variants:
        variants.insert(0, "int8")

    print(f"loading {', '.join(variants)} (the first run builds the models cache in {home})", flush=True)
    engines = {v: _engine(v, args.threads) for v in variants}
    phonemes, style = _phonemes(), _style()
    for engine in engines.values():  # warm-up: first-call allocations and lazy init
        engine.synthesize(phonemes[0][1], style)
    busy: dict[str, list[float]] = {v: [] for v in variants}
    audio_len: dict[str, float] = {}  # durations can differ by a frame between runtimes
    for r in range(args.rounds):
        for v in variants if r % 2 == 0 else list(reversed(variants)):
            b, a = _run_set(engines[v], phonemes, style)
            busy[v].append(b)
            audio_len[v] = a
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{v} {busy[v][-1] / audio_len[v]:.2f}" for v in variants), flush=True)
    rows = []
    ref_rtf = sum(busy["int8"]) / (audio_len["int8"] * args.rounds)
    for v in variants:
        rtf = sum(busy[v]) / (audio_len[v] * args.rounds)
        best = min(busy[v]) / audio_len[v]
        rows.append({"variant": v, "rtf": round(rtf, 3), "rtf_best_round": round(best, 3),
                     "ratio_to_int8": round(rtf / ref_rtf, 3), "audio_s": round(audio_len[v], 2)})
    del engines

    print("cold subprocesses ...", flush=True)
    children = [_spawn(v, args.threads, 1, home) for v in args.subprocess_variants.split(",") if v]

    print()
    print(f"{'variant':<14} {'RTF':>6} {'best':>6} {'x int8':>7} {'audio s':>8}")
    for row in rows:
        print(f"{row['variant']:<14} {row['rtf']:>6.3f} {row['rtf_best_round']:>6.3f} {row['ratio_to_int8']:>7.3f} {row['audio_s']:>8.2f}")
    print()
    print(f"{'process':<14} {'load s':>7} {'1st audio cold':>15} {'1st audio warm':>15} {'RTF':>6} {'peak RSS MB':>12}")
    for c in children:
        if "error" in c:
            print(f"{c['variant']:<14} failed: {c['error']}")
            continue
        print(f"{c['variant']:<14} {c['cold_load_s']:>7.2f} {c.get('first_audio_cold_g2p_s', float('nan')):>15.2f} "
              f"{c.get('first_audio_warm_s', float('nan')):>15.2f} {c['rtf_rounds'][0]:>6.3f} {c['peak_rss_mb']:>12.0f}")
    out = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_avg_1m_at_end": os.getloadavg()[0]},
        "threads": args.threads, "rounds": args.rounds, "voice": VOICE, "texts": TEXTS,
        "in_process": rows, "subprocess": children,
    }
    dest = REPO / "bench" / "results" / "synth.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(f"\nwrote {dest.relative_to(REPO)}")


if __name__ == "__main__":
    main()
