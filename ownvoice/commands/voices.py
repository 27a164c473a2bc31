"""``ownvoice voices list|show|rename|delete|export|import``."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("voices", help="list, show, rename, delete, export and import voices",
                       description="Manage the voices in your store. Built-in voices are read-only.")
    vs = p.add_subparsers(dest="voices_command", metavar="ACTION")
    p.set_defaults(func=lambda a: p.print_help() or 2)

    q = vs.add_parser("list", help="list voices")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=cmd_list)

    q = vs.add_parser("show", help="show a voice's metadata, licence and training report")
    q.add_argument("voice", help="voice id or name")
    q.add_argument("--json", action="store_true", help="print voice.json as is")
    q.set_defaults(func=cmd_show)

    q = vs.add_parser("rename", help="give a voice a new display name (its id stays)")
    q.add_argument("voice")
    q.add_argument("name")
    q.set_defaults(func=cmd_rename)

    q = vs.add_parser("delete", help="delete one of your voices")
    q.add_argument("voice")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    q.set_defaults(func=cmd_delete)

    q = vs.add_parser("export", help="write a voice to one .zip archive")
    q.add_argument("voice")
    q.add_argument("-o", "--output", type=Path, default=Path("."), help="file or folder (default: .)")
    q.set_defaults(func=cmd_export)

    q = vs.add_parser("import", help="add a voice from an archive made by `voices export`")
    q.add_argument("archive", type=Path)
    q.add_argument("--name", help="display name for the imported voice")
    q.set_defaults(func=cmd_import)


def _store():
    from ..config import load_config
    from ..voice_store import BuiltinVoices, VoiceStore

    return VoiceStore(load_config().paths.voices, BuiltinVoices())


def cmd_list(args) -> int:
    voices = _store().list()
    if args.json:
        print(json.dumps([v.summary() for v in voices], indent=2, ensure_ascii=False))
        return 0
    print(f"{'ID':26} {'NAME':40} {'LANG':9} KIND")
    for v in voices:
        s = v.summary()
        kind = "built-in" if s["builtin"] else f"yours (v{s['version']})"
        print(f"{s['id']:26} {s['name'][:40]:40} {','.join(s['languages']):9} {kind}")
    print("\n'default' speaks English with ov_en_female when present, else a Japanese stock voice.")
    return 0


def cmd_show(args) -> int:
    v = _store().find(args.voice)
    m = v.meta
    if args.json:
        print(json.dumps(m, indent=2, ensure_ascii=False))
        return 0
    print(f"{m['name']}  ({m['id']}, version {m['version']})")
    print(f"languages:   {', '.join(m['languages'])}")
    print(f"created:     {m['created']}")
    print(f"engine:      {m['engine']['name']} {m['engine']['version']}")
    if m.get("licence"):
        print(f"licence:     {m['licence']}")
    if m.get("attribution"):
        print(f"attribution: {m['attribution']}")
    if m.get("consent"):
        print(f"consent:     {m['consent']['statement']} ({m['consent'].get('given_at', '')})")
    if m.get("sources"):
        print(f"sources:     {len(m['sources'])} recording(s)")
    if m.get("recipe"):
        print(f"recipe:      {json.dumps(m['recipe'], ensure_ascii=False)}")
    for title, key in (("training", "training"), ("metrics", "metrics")):
        if m.get(key):
            print(f"{title}:")
            for k, val in m[key].items():
                if not isinstance(val, (list, dict)):
                    print(f"  {k}: {val}")
    return 0


def cmd_rename(args) -> int:
    store = _store()
    v = store.rename(store.find(args.voice).id, args.name)
    print(f"renamed {v.id} to {v.name!r}")
    return 0


def cmd_delete(args) -> int:
    store = _store()
    v = store.find(args.voice)
    if not args.yes:
        answer = input(f"Delete voice {v.name!r} ({v.id})? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 1
    store.delete(v.id)
    print(f"deleted {v.id}")
    return 0


def cmd_export(args) -> int:
    store = _store()
    path = store.export(store.find(args.voice).id, args.output)
    print(path)
    return 0


def cmd_import(args) -> int:
    v = _store().import_(args.archive, name=args.name)
    print(f"imported {v.name!r} as {v.id}")
    return 0
