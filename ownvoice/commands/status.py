"""``ownvoice status``: where data lives, versions, voices, whether the daemon runs."""

from __future__ import annotations

import json
import platform
import sys


def register(sub) -> None:
    p = sub.add_parser("status", help="show paths, versions, voices and whether the daemon runs",
                       description="Show where ownvoice keeps its data, which versions are installed, "
                       "which voices exist and whether the daemon is running.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def collect() -> dict:
    from .. import __version__
    from ..config import load_config

    cfg = load_config()
    paths = cfg.paths
    info: dict = {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "paths": {
            "config_file": str(paths.config_file),
            "token_file": str(paths.token_file),
            "voices": str(paths.voices),
            "inbox": str(paths.inbox),
            "cache": str(paths.cache),
            "logs": str(paths.logs),
        },
        "daemon": _daemon_state(cfg),
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        info["torch"] = None
    try:
        from ..voice_store import BuiltinVoices, VoiceStore

        store = VoiceStore(paths.voices, BuiltinVoices())
        info["voices"] = [v.summary() for v in store.list()]
    except Exception as e:  # status must work even when the store or weights are broken
        info["voices_error"] = str(e)
    return info


def _daemon_state(cfg) -> dict:
    try:
        from ..daemon.lifecycle import daemon_status
    except ImportError:
        return {"running": False, "url": f"http://{cfg.host}:{cfg.port}"}
    return daemon_status(cfg)


def run(args) -> int:
    info = collect()
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"ownvoice {info['version']} (python {info['python']}, torch {info.get('torch')})")
    d = info["daemon"]
    state = "running" if d.get("running") else "not running (start it: ownvoice start)"
    print(f"daemon:      {state}  {d.get('url', '')}")
    for k, v in info["paths"].items():
        print(f"{k + ':':13}{v}")
    if "voices" in info:
        print(f"voices ({len(info['voices'])}):")
        for v in info["voices"]:
            tag = "built-in" if v["builtin"] else "yours"
            print(f"  {v['id']:24} {v['name']}  [{', '.join(v['languages'])}; {tag}]")
    else:
        print(f"voices: unavailable ({info['voices_error']})")
    return 0
