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
    out = daemon_status(cfg)
    if out.get("running"):
        out.update(_live_state(cfg))
    return out


def _live_state(cfg) -> dict:
    """What the running daemon says about itself: model, queue, jobs (or why it did not answer)."""
    from ..bridge.client import Client
    from ..errors import OwnvoiceError

    try:
        live = Client.from_config(cfg, timeout=3.0).status()
    except (OwnvoiceError, OSError) as e:
        return {"api_error": str(e)}
    return {k: live.get(k) for k in ("model", "queue", "jobs", "notes")}


def _model_line(model: dict) -> str:
    state = model.get("state", "?")
    if state == "failed":
        return f"failed ({model.get('error')})"
    if state == "ready" and model.get("seconds") is not None:
        return f"ready (loaded in {model['seconds']:.1f} s)"
    if state == "loading":
        return f"loading ({model.get('seconds', 0):.0f} s so far)"
    return "not loaded yet (loads on the first request)" if state == "idle" else str(state)


def run(args) -> int:
    info = collect()
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"ownvoice {info['version']} (python {info['python']}, torch {info.get('torch')})")
    d = info["daemon"]
    state = "running" if d.get("running") else "not running (start it: ownvoice start)"
    print(f"daemon:      {state}  {d.get('url', '')}")
    if d.get("api_error"):
        print(f"  not answering: {d['api_error']}")
    if d.get("model"):
        print(f"  model:     {_model_line(d['model'])}")
    if d.get("queue"):
        q, jobs = d["queue"], d.get("jobs") or {}
        print(f"  requests:  {q.get('running', 0)} running, {q.get('pending', 0)} waiting (max {q.get('max')})")
        print(f"  training:  {jobs.get('running', 0)} running, {jobs.get('queued', 0)} queued")
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
