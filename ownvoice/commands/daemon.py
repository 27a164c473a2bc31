"""``ownvoice serve | run | start | stop``: run the daemon in the foreground or the background."""

from __future__ import annotations

import logging
import shlex
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="run the daemon in the foreground (logs to stderr and the log file)",
        description="Run the ownvoice daemon in the foreground: the HTTP bridge for editor plugins, the "
        "training job queue and the drop folder. Stops cleanly on Ctrl-C or SIGTERM. Logs go to stderr and "
        "to daemon.log in the logs folder (`ownvoice status` shows where).",
    )
    _address(p)
    p.add_argument(
        "--no-warm-up", action="store_true", help="do not load the model until the first request"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "run",
        help="start the daemon in the foreground and say hello in the default voice",
        description="Like `serve`, but once the daemon answers it prints its URL, the token file, the drop "
        "folder and a curl command to try, then speaks a short greeting with the default voice (saved as "
        "greeting.wav in the cache folder, and played when this machine has an audio output).",
    )
    _address(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "start",
        help="start the daemon in the background and wait until it answers",
        description="Start `ownvoice serve` detached from this terminal, then wait until it answers.",
    )
    _address(p)
    p.add_argument(
        "--wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for it to answer (default: 120)",
    )
    p.set_defaults(func=cmd_start)

    p = sub.add_parser(
        "stop",
        help="stop the background daemon (SIGTERM, then wait)",
        description="Ask the running daemon to stop; a training job in progress resumes on next start.",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for it to exit (default: 30)",
    )
    p.set_defaults(func=cmd_stop)


def _address(p) -> None:
    p.add_argument("--host", help="address to bind (default: setting host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: setting port, 7723)")


def _serve(args, on_ready=None) -> int:
    from ..config import load_config
    from ..daemon.lifecycle import serve, setup_logging

    config = load_config()
    level = logging.DEBUG if args.verbose >= 2 else logging.INFO
    log_file = setup_logging(config.paths, level)
    logging.getLogger(__name__).info("log file: %s", log_file)
    return serve(
        config, args.host, args.port, on_ready=on_ready, warm=not getattr(args, "no_warm_up", False)
    )


def cmd_serve(args) -> int:
    return _serve(args)


def cmd_run(args) -> int:
    return _serve(args, on_ready=_greet)


GREETING = "Hello. ownvoice is running, and this is the default voice."


def _greet(daemon, url: str) -> None:
    """Print where the daemon is and how to try it; speak the greeting and say where it is saved."""
    from ..audio_io import write
    from ..bridge.render import SpeakParams, synthesize

    for line in _welcome(url, daemon.paths.token_file, daemon.paths.inbox):
        print(line, file=sys.stderr)
    try:
        speech = synthesize(
            daemon.speaker, SpeakParams(GREETING, "default", "en", 1.0, False, None, "wav")
        )
    except Exception as e:  # the daemon keeps serving; the greeting is a courtesy
        print(f"  (the default voice could not speak: {e})", file=sys.stderr)
        return
    out = write(daemon.paths.cache / "greeting.wav", speech.samples, speech.sample_rate)
    print(f"  first spoken sample: {out}", file=sys.stderr)
    if daemon.player.available:
        try:
            daemon.player.play(speech.samples, speech.sample_rate, [])
        except Exception as e:
            print(f"  (no sound: {e})", file=sys.stderr)


def _welcome(url: str, token_file, inbox) -> list[str]:
    """The lines ``ownvoice run`` prints once the daemon listens: where, the token, a first request."""
    body = '{"input": "Hello from my notes.", "response_format": "wav"}'
    return [
        f"ownvoice is running at {url}",
        f"  token:       {token_file}",
        f"  drop folder: {inbox}/<voice name>/  (1-3 minutes of your recordings)",
        "  try it:      curl -s "
        f'-H "Authorization: Bearer $(cat {shlex.quote(str(token_file))})" '
        f"-H 'Content-Type: application/json' -d '{body}' {url}/v1/audio/speech -o hello.wav",
    ]


def cmd_start(args) -> int:
    from ..config import load_config
    from ..daemon.lifecycle import start

    info = start(load_config(), args.host, args.port, wait=args.wait)
    print(f"ownvoice daemon started (pid {info['pid']}) at {info['url']}")
    return 0


def cmd_stop(args) -> int:
    from ..config import load_config
    from ..daemon.lifecycle import stop

    pid = stop(load_config(), timeout=args.timeout)
    print(
        "ownvoice daemon was not running" if pid is None else f"ownvoice daemon stopped (pid {pid})"
    )
    return 0
