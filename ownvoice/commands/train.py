"""``ownvoice voice train NAME PATH…``: clone a voice from recordings, with a progress bar on stderr."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".webm"}


def register(sub) -> None:
    from ..engine.clone.denoise_words import DENOISE_CHOICES

    p = sub.add_parser(
        "voice",
        help="train a voice from your recordings",
        description="Create voices from recordings. `ownvoice voices` lists and manages them.",
    )
    vs = p.add_subparsers(dest="voice_command", metavar="ACTION")
    p.set_defaults(func=lambda a: p.print_help() or 2)

    q = vs.add_parser(
        "train",
        help="clone a voice from 1-3 minutes of recordings",
        description="Train a voice from recordings of one speaker (wav/flac/ogg/mp3/m4a; a same-name .txt "
        "next to a file is used as its transcript, English without one is transcribed offline). "
        "Folders are searched for audio files. Interrupted runs resume when the same command is run again.",
    )
    q.add_argument("name", help="display name of the new voice")
    q.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="recordings, or folders of recordings"
    )
    q.add_argument(
        "--lang",
        default="en",
        choices=["en", "zh", "ja"],
        help="language spoken (default: %(default)s)",
    )
    q.add_argument(
        "--lora",
        dest="lora",
        action="store_true",
        default=True,
        help="adapt the model with LoRA as well as the style (default)",
    )
    q.add_argument(
        "--no-lora",
        dest="lora",
        action="store_false",
        help="fit the style vector only (smaller, faster)",
    )
    q.add_argument(
        "--strength",
        type=float,
        default=None,
        help="share of the learned LoRA change the voice speaks with, 0-1: lower sounds cleaner and "
        "more like the starting voice, higher imitates the recordings (room, noise) more closely "
        "(default: 0.75)",
    )
    q.add_argument(
        "--denoise",
        choices=list(DENOISE_CHOICES),
        default=None,
        help="remove background noise (NSNet2) from the recordings before training: on cleans every "
        "file, auto those whose speech is less than 30 dB above their background (default: the "
        "train_denoise setting, off)",
    )
    q.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="wall-time budget (default: the train_max_minutes setting, 10)",
    )
    q.add_argument(
        "--consent",
        default=None,
        help='statement that the speaker agrees, e.g. "I am the speaker and consent to this clone" '
        "(default: the consent setting; training refuses to start without one)",
    )
    q.add_argument("--json", action="store_true", help="print the new voice's metadata as JSON")
    q.set_defaults(func=cmd_train)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; folders replaced by the audio files directly inside them (sorted)."""
    from ..errors import BadInput

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f for f in p.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
            )
            if not found:
                raise BadInput(f"{p} contains no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise BadInput(f"{p}: no such file or folder")
    return out


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(max(0, seconds))
    return f"{s // 60}:{s % 60:02d}"


class ProgressBar:
    """One self-updating line on a terminal; a line every few seconds (or per phase) otherwise."""

    WIDTH = 24

    def __init__(self, stream=None) -> None:
        stream = stream if stream is not None else sys.stderr  # the current one, not import time's
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.phase = None
        self.last = 0.0
        self.t0 = time.monotonic()

    def __call__(self, d: dict) -> None:
        phase, step, total = d.get("phase"), d.get("step") or 0, d.get("total") or 0
        if phase == "train" and total:
            done = int(self.WIDTH * min(step, total) / total)
            bar = "#" * done + "-" * (self.WIDTH - done)
            loss = f"  loss {d['loss']:.3f}" if d.get("loss") is not None else ""
            val = f"  val {d['val_loss']:.3f}" if d.get("val_loss") is not None else ""
            line = f"train [{bar}] {step}/{total}{loss}{val}  ETA {_clock(d.get('eta_s'))}"
        else:
            line = (
                f"{phase}: {d.get('message', '')}  (elapsed {_clock(time.monotonic() - self.t0)})"
            )
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\033[K" + line[:150])
            if phase == "done":
                self.stream.write("\n")
            self.stream.flush()
        elif phase != self.phase or now - self.last >= 10 or phase == "done":
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last = now
        self.phase = phase

    def close(self) -> None:
        if self.tty and self.phase != "done":
            self.stream.write("\n")
            self.stream.flush()


def cmd_train(args) -> int:
    from ..config import load_config
    from ..engine.clone import train_voice
    from ..engine.clone.denoise_words import denoise_choice
    from ..engine.clone.trainer import TrainOptions
    from ..errors import BadInput
    from ..voice_store import BuiltinVoices, VoiceStore

    config = load_config()
    options = TrainOptions(denoise=denoise_choice(args.denoise or config.train_denoise))
    if args.strength is not None:
        if not 0 < args.strength <= 1:
            raise BadInput(f"--strength must be in (0, 1], not {args.strength}")
        options = dataclasses.replace(options, lora_strength=args.strength)
    files = expand_paths(args.paths)
    store = VoiceStore(config.paths.voices, BuiltinVoices())
    bar = ProgressBar()
    try:
        voice = train_voice(
            store,
            args.name,
            files,
            args.lang,
            args.consent,
            lora=args.lora,
            max_minutes=args.max_minutes,
            config=config,
            progress=bar,
            options=options,
        )
    except KeyboardInterrupt:
        bar.close()
        print(
            "ownvoice: training interrupted; run the same command again to continue where it stopped",
            file=sys.stderr,
        )
        raise
    finally:
        bar.close()
    if args.json:
        print(json.dumps(voice.meta, indent=2, ensure_ascii=False))
        return 0
    t = voice.meta["training"]
    print(f"{voice.name}  ({voice.id})")
    print(
        f"  trained {t.get('steps')} steps in {_clock(t.get('wall_s'))} ({t.get('stopped')}), "
        f"{t.get('train_speech_s')} s of speech, peak memory {t.get('peak_rss_mb'):.0f} MB"
    )
    vi, vb = (
        voice.meta["metrics"].get("val_loss_initial"),
        voice.meta["metrics"].get("val_loss_best"),
    )
    if vi is not None and vb is not None:
        print(f"  validation loss {vi:.3f} -> {vb:.3f}")
    for name, reason in (t.get("rejected") or {}).items():
        print(f"  not used: {name}: {reason}")
    print(f'  try it: ownvoice say --voice {voice.id} "Hello, this is my own voice." -o hello.wav')
    return 0
