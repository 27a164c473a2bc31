"""``ownvoice notes script|render``: turn a Markdown note into its spoken script or one audio file."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("notes", help="speak Markdown notes: show the script, render to audio",
                       description="Work with Markdown notes (Obsidian syntax included).")
    ns = p.add_subparsers(dest="notes_command", metavar="ACTION")
    p.set_defaults(func=lambda a: p.print_help() or 2)

    q = ns.add_parser("script", help="print the sentences that would be spoken, with source offsets")
    q.add_argument("note", type=Path)
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=cmd_script)

    q = ns.add_parser(
        "render", help="render a whole note to one audio file plus timings (JSON and WebVTT)",
        description="Write NOTE as one audio file, plus NOTE-timings .json and .vtt files with each "
        "sentence's start/end time and source offsets. Sentences already in the cache are reused.")
    q.add_argument("note", type=Path)
    q.add_argument("-o", "--output", type=Path, help="audio file (default: NOTE with .wav)")
    q.add_argument("--voice", default="default", help="voice id or name (default: %(default)s)")
    q.add_argument("--speed", type=float, default=None, help="speaking rate 0.5-2.0")
    q.add_argument("--format", choices=["wav", "flac", "ogg", "mp3"], help="default: from the suffix")
    q.set_defaults(func=cmd_render)


def cmd_script(args) -> int:
    from ..config import load_config
    from ..notes import ReadingRules, build_script
    from ..notes.source import read_note

    text = read_note(args.note)
    script = build_script(text, ReadingRules.from_config(load_config()))
    if args.json:
        rows = [{"index": s.index, "text": s.text, "lang": s.lang, "start": s.start, "end": s.end,
                 "heading": s.heading} for s in script]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for s in script:
        print(f"{s.index:4} [{s.lang}] {s.start}-{s.end}: {s.text}")
    return 0


def cmd_render(args) -> int:
    from ..engine import ENGINE_VERSION
    from ..notes import ReadingRules
    from ..notes.render import VoiceKey, export_note
    from ..speech import Speaker, check_speed

    speaker = Speaker()
    speed = check_speed(args.speed if args.speed is not None else speaker.config.speed)
    out = args.output or args.note.with_suffix(f".{args.format or 'wav'}")
    voices: dict[str, object] = {}

    def synthesize(text: str, lang: str):
        v = voices.get(lang) or voices.setdefault(lang, speaker.resolve_voice(args.voice, lang))
        return speaker.synthesize_sentence(text, lang, v, speed)

    first = speaker.resolve_voice(args.voice, "en")
    key = VoiceKey(first.id, first.version, ENGINE_VERSION, speed)
    audio, js, vtt = export_note(args.note, out, synthesize, None, args.format, voice=key,
                                 rules=ReadingRules.from_config(speaker.config))
    print(f"{audio}\n{js}\n{vtt}", file=sys.stderr)
    return 0
