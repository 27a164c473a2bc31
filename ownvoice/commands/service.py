"""``ownvoice service install|uninstall|status [--dry-run]``: start the daemon at login."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser(
        "service",
        help="start the daemon at login (systemd --user, macOS LaunchAgent, Windows logon task)",
        description="Install, remove or inspect the login service that starts `ownvoice serve` when you log "
        "in: a systemd user unit on Linux (Restart=on-failure), a LaunchAgent on macOS (RunAtLoad, KeepAlive) "
        "or a Task Scheduler logon task on Windows.",
    )
    ss = p.add_subparsers(dest="service_command", metavar="ACTION")
    p.set_defaults(func=lambda a: p.print_help() or 2)
    for name, helptext, fn in (
        ("install", "write the service file and enable it now", cmd_install),
        ("uninstall", "disable the service and remove its file", cmd_uninstall),
    ):
        q = ss.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        q.add_argument(
            "--dry-run", action="store_true", help="print the file and commands; change nothing"
        )
        q.set_defaults(func=fn)
    q = ss.add_parser(
        "status",
        help="is the service installed, enabled, running?",
        description="Show whether the login service is installed and running.",
    )
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=cmd_status)


def _logs():
    from ..config import load_config

    paths = load_config().paths
    paths.logs.mkdir(parents=True, exist_ok=True)
    return paths.logs


def cmd_install(args) -> int:
    from ..daemon import service

    plan = service.install(_logs(), dry_run=args.dry_run)
    if args.dry_run:
        print(f"# would write {plan.path}:\n{plan.content}")
        print("\n".join(f"# would run: {' '.join(c)}" for c in plan.commands))
    else:
        print(f"installed {plan.path}; the daemon now starts at login")
    return 0


def cmd_uninstall(args) -> int:
    from ..daemon import service

    plan = service.uninstall(_logs(), dry_run=args.dry_run)
    if args.dry_run:
        print(f"# would remove {plan.path}")
        print("\n".join(f"# would run: {' '.join(c)}" for c in plan.commands))
    else:
        print(f"removed {plan.path}; the daemon no longer starts at login")
    return 0


def cmd_status(args) -> int:
    from ..daemon import service

    info = service.status(_logs())
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for k, v in info.items():
            print(f"{k + ':':11}{v}")
    return 0
