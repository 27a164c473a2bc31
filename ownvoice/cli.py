"""The ``ownvoice`` command: a thin layer over the Python API (Speaker, VoiceStore, Trainer).

Each group of subcommands lives in its own module under ``ownvoice/commands/`` and exposes
``register(subparsers)``; this file only builds the parser, sets up logging and maps errors to
exit codes and one-line messages.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from . import __version__
from .errors import OwnvoiceError

COMMAND_MODULES = ("status", "voices", "say", "train", "notes", "daemon", "service")

EXAMPLES = """\
examples:
  ownvoice status                          where things are, what runs
  ownvoice say "Hello there." -o hello.wav speak text with the default voice
  ownvoice voice train me rec/*.wav --consent "I am the speaker and agree."
  ownvoice say --voice me "Now in my own voice." -o me.wav
  ownvoice serve                           run the daemon in the foreground
  ownvoice start | stop                    run it in the background
  ownvoice service install                 start it at login
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ownvoice",
        description="Read your notes aloud in your own voice, entirely on this machine.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ownvoice {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(f"{__package__}.commands.{name}"):
                continue  # that part of ownvoice is not installed in this build
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except OwnvoiceError as e:
        print(f"ownvoice: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ownvoice: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
