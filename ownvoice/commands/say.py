"""``ownvoice say``: speak text (or stdin) to an audio file."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "say", help="speak text to an audio file",
        description="Synthesize TEXT in a voice and write it to an audio file. "
        "Use '-' as TEXT to read from standard input. Mixed-language text (e.g. "
        "'我今天用 Python 写代码') is split into language runs and spoken by one voice.",
    )
    p.add_argument("text", help="the text to speak, or - for standard input")
    p.add_argument("--voice", default="default", help="voice id or name (default: %(default)s)")
    p.add_argument("--lang", default="auto", choices=["auto", "en", "zh", "ja"],
                   help="language of the text (default: detect per sentence)")
    p.add_argument("--speed", type=float, default=None, help="speaking rate 0.5-2.0 (default: 1.0)")
    p.add_argument("--markdown", action="store_true", help="treat the text as Markdown")
    p.add_argument("-o", "--output", type=Path, default=Path("ownvoice.wav"),
                   help="output file (default: %(default)s)")
    p.add_argument("--format", choices=["wav", "flac", "ogg", "opus", "mp3"],
                   help="audio format (default: from the output file's suffix, else wav)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..audio_io import format_from_path, write
    from ..errors import BadInput
    from ..speech import Speaker

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise BadInput("nothing to say: the text is empty")
    speaker = Speaker()
    speed = args.speed if args.speed is not None else speaker.config.speed
    t0 = time.perf_counter()
    speech = speaker.speak(text, voice=args.voice, lang=args.lang, speed=speed, markdown=args.markdown)
    elapsed = time.perf_counter() - t0
    fmt = args.format or format_from_path(args.output)
    out = write(args.output, speech.samples, speech.sample_rate, fmt)
    print(f"{out}  ({speech.duration:.1f} s of audio, {len(speech.sentences)} sentence(s), "
          f"made in {elapsed:.1f} s)", file=sys.stderr)
    return 0
