"""Start the daemon at login: a systemd --user unit, a macOS LaunchAgent, or a Windows logon task.

``render_*`` build the file text (pure functions, unit-tested per platform); ``install``,
``uninstall`` and ``status`` write/remove it and run the platform's tool, or with ``dry_run`` only
say what they would do.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from .. import atomic
from ..config import ENV_HOME
from ..errors import BadInput, OwnvoiceError

UNIT_NAME = "ownvoice.service"
AGENT_LABEL = "dev.ownvoice.daemon"
TASK_NAME = "ownvoice"
PLATFORMS = ("linux", "darwin", "win32")


@dataclass
class Plan:
    """What install/uninstall does: a file to write or remove, and commands to run."""

    platform: str
    path: Path
    content: str | None
    commands: list[list[str]] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"{'write' if self.content is not None else 'remove'} {self.path}"]
        lines += [f"run: {shlex.join(c)}" for c in self.commands]
        return "\n".join(lines)


def serve_command() -> list[str]:
    """How the service starts the daemon: the ``ownvoice`` script beside this Python, else ``-m``."""
    exe_dir = Path(sys.executable).parent
    for name in ("ownvoice", "ownvoice.exe"):
        script = exe_dir / name
        if script.is_file():
            return [str(script), "serve"]
    return [sys.executable, "-m", "ownvoice.cli", "serve"]


def _environment() -> dict[str, str]:
    """Variables the service must keep (a portable install sets OWNVOICE_HOME)."""
    return {ENV_HOME: os.environ[ENV_HOME]} if os.environ.get(ENV_HOME) else {}


def _systemd_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "/._-+:=@," for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def render_systemd(command: list[str], env: dict[str, str], log_dir: Path) -> str:
    lines = [
        "[Unit]",
        "Description=ownvoice: reads your notes aloud in your own voice (local daemon)",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={' '.join(_systemd_quote(a) for a in command)}",
        "Restart=on-failure",
        "RestartSec=5",
        "TimeoutStopSec=40",
        "KillSignal=SIGTERM",
        "NoNewPrivileges=yes",
    ]
    lines += [f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in sorted(env.items())]
    lines += ["", "[Install]", "WantedBy=default.target", ""]
    return "\n".join(lines)


def render_launchd(command: list[str], env: dict[str, str], log_dir: Path) -> str:
    plist = {
        "Label": AGENT_LABEL,
        "ProgramArguments": command,
        "RunAtLoad": True,
        # Restart after a crash, not after `ownvoice stop` (a clean exit).
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 10,
        "ProcessType": "Interactive",
        "StandardOutPath": str(log_dir / "launchd.out.log"),
        "StandardErrorPath": str(log_dir / "launchd.err.log"),
    }
    if env:
        plist["EnvironmentVariables"] = dict(env)
    return plistlib.dumps(plist).decode("utf-8")


def render_windows_task(command: list[str], env: dict[str, str], log_dir: Path, user: str) -> str:
    exe, args = command[0], subprocess.list2cmdline(command[1:])
    if env:
        # Task Scheduler has no environment block: wrap in cmd /c set VAR=... && program.
        sets = " && ".join(f'set "{k}={v}"' for k, v in env.items())
        args = f"/c {sets} && {subprocess.list2cmdline(command)}"
        exe = "cmd.exe"
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>ownvoice: reads your notes aloud in your own voice (local daemon)</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{escape(user)}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{escape(user)}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(exe)}</Command>
      <Arguments>{escape(args)}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def _platform(platform: str | None) -> str:
    p = platform or sys.platform
    if p.startswith("linux"):
        return "linux"
    if p in PLATFORMS:
        return p
    raise BadInput(f"login services are supported on Linux (systemd), macOS and Windows, not {p!r}")


def plan_install(
    log_dir: Path,
    platform: str | None = None,
    home: Path | None = None,
    command: list[str] | None = None,
) -> Plan:
    """The file and commands that make the daemon start at login on ``platform``."""
    p = _platform(platform)
    home = home or Path.home()
    command = command or serve_command()
    env = _environment()
    if p == "linux":
        path = home / ".config" / "systemd" / "user" / UNIT_NAME
        return Plan(
            p,
            path,
            render_systemd(command, env, log_dir),
            [
                ["systemctl", "--user", "daemon-reload"],
                ["systemctl", "--user", "enable", "--now", UNIT_NAME],
            ],
        )
    if p == "darwin":
        path = home / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"
        domain = f"gui/{os.getuid() if hasattr(os, 'getuid') else 501}"
        return Plan(
            p,
            path,
            render_launchd(command, env, log_dir),
            [
                ["launchctl", "bootout", f"{domain}/{AGENT_LABEL}"],
                ["launchctl", "bootstrap", domain, str(path)],
            ],
        )
    user = os.environ.get("USERDOMAIN", "") + "\\" + os.environ.get("USERNAME", "user")
    path = log_dir / "ownvoice-task.xml"
    return Plan(
        p,
        path,
        render_windows_task(command, env, log_dir, user.lstrip("\\")),
        [
            ["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(path), "/F"],
            ["schtasks", "/Run", "/TN", TASK_NAME],
        ],
    )


def plan_uninstall(log_dir: Path, platform: str | None = None, home: Path | None = None) -> Plan:
    install = plan_install(log_dir, platform, home, command=["ownvoice", "serve"])
    if install.platform == "linux":
        cmds = [
            ["systemctl", "--user", "disable", "--now", UNIT_NAME],
            ["systemctl", "--user", "daemon-reload"],
        ]
    elif install.platform == "darwin":
        cmds = [install.commands[0]]
    else:
        cmds = [["schtasks", "/Delete", "/TN", TASK_NAME, "/F"]]
    return Plan(install.platform, install.path, None, cmds)


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if shutil.which(cmd[0]) is None:
        raise OwnvoiceError(f"{cmd[0]} is not available on this system")
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise OwnvoiceError(
            f"{shlex.join(cmd)} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}"
        )
    return proc


def install(log_dir: Path, dry_run: bool = False, platform: str | None = None) -> Plan:
    plan = plan_install(log_dir, platform)
    if dry_run:
        return plan
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    if plan.platform == "win32":
        atomic.write_bytes(plan.path, plan.content.encode("utf-16"))  # schtasks wants UTF-16 XML
    else:
        atomic.write_text(plan.path, plan.content)
    for i, cmd in enumerate(plan.commands):
        # launchctl bootout of a not-yet-loaded agent fails harmlessly; everything else must succeed.
        _run(cmd, check=not (plan.platform == "darwin" and i == 0))
    return plan


def uninstall(log_dir: Path, dry_run: bool = False, platform: str | None = None) -> Plan:
    plan = plan_uninstall(log_dir, platform)
    if dry_run:
        return plan
    for cmd in plan.commands:
        _run(cmd, check=False)  # already stopped or never loaded is fine
    plan.path.unlink(missing_ok=True)
    return plan


def status(log_dir: Path, platform: str | None = None) -> dict:
    """Whether the login service is installed and what the platform says about it."""
    plan = plan_install(log_dir, platform, command=["ownvoice", "serve"])
    out: dict = {"platform": plan.platform, "file": str(plan.path), "installed": plan.path.exists()}
    if plan.platform == "linux":
        cmds = {
            "enabled": ["systemctl", "--user", "is-enabled", UNIT_NAME],
            "active": ["systemctl", "--user", "is-active", UNIT_NAME],
        }
    elif plan.platform == "darwin":
        cmds = {"loaded": ["launchctl", "list", AGENT_LABEL]}
    else:
        cmds = {"task": ["schtasks", "/Query", "/TN", TASK_NAME]}
        out["installed"] = None
    for key, cmd in cmds.items():
        try:
            proc = _run(cmd, check=False)
            out[key] = (
                (proc.stdout.strip().splitlines() or [""])[0] if proc.returncode == 0 else False
            )
            if plan.platform == "win32":
                out["installed"] = proc.returncode == 0
        except (OwnvoiceError, subprocess.TimeoutExpired, OSError) as e:
            out[key] = f"unknown ({e})"
    return out


def verify_systemd_unit(path: Path) -> tuple[bool, str]:
    """Run ``systemd-analyze --user verify``; any complaint naming the unit file counts as a failure."""
    import tempfile

    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise OwnvoiceError("systemd-analyze is not installed")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as runtime:
        if not env.get("XDG_RUNTIME_DIR"):
            env["XDG_RUNTIME_DIR"] = runtime  # --user needs one; containers and CI often lack it
        proc = subprocess.run(
            [tool, "--user", "verify", str(path)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    output = (proc.stderr + proc.stdout).strip()
    complaints = [line for line in output.splitlines() if path.name in line]
    return proc.returncode == 0 and not complaints, output
