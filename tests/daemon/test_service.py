"""Login service files per platform: generated, parsed back, verified by systemd-analyze when present."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ownvoice.daemon import service

CMD = ["/opt/ov env/bin/ownvoice", "serve"]


def test_systemd_unit_restarts_on_failure_and_starts_at_login(tmp_path):
    text = service.render_systemd(CMD, {"OWNVOICE_HOME": "/data/o v"}, tmp_path)
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert 'ExecStart="/opt/ov env/bin/ownvoice" serve' in text
    assert 'Environment="OWNVOICE_HOME=/data/o v"' in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    exe = tmp_path / "ownvoice"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    unit = tmp_path / service.UNIT_NAME
    unit.write_text(
        service.render_systemd([str(exe), "serve"], {"OWNVOICE_HOME": str(tmp_path)}, tmp_path)
    )
    ok, output = service.verify_systemd_unit(unit)
    assert ok, output
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    ok, output = service.verify_systemd_unit(unit)  # the check does catch a broken unit
    assert not ok and "restart" in output.lower()


def test_launch_agent_runs_at_load_and_keeps_alive_after_crashes(tmp_path):
    data = plistlib.loads(service.render_launchd(CMD, {"OWNVOICE_HOME": "/x"}, tmp_path).encode())
    assert data["Label"] == service.AGENT_LABEL and data["ProgramArguments"] == CMD
    assert data["RunAtLoad"] is True and data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["EnvironmentVariables"] == {"OWNVOICE_HOME": "/x"}
    assert data["StandardErrorPath"].startswith(str(tmp_path))


def test_windows_task_is_a_logon_trigger_with_restart_and_escaped_xml(tmp_path):
    xml = service.render_windows_task(
        ["C:\\Program Files\\ownvoice.exe", "serve"], {}, tmp_path, "PC\\a&b"
    )
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    root = ET.fromstring(
        xml.split("\n", 1)[1]
    )  # the UTF-16 declaration is for schtasks, not this str
    assert root.find("t:Triggers/t:LogonTrigger/t:UserId", ns).text == "PC\\a&b"
    assert root.find("t:Actions/t:Exec/t:Command", ns).text == "C:\\Program Files\\ownvoice.exe"
    assert root.find("t:Actions/t:Exec/t:Arguments", ns).text == "serve"
    assert root.find("t:Settings/t:RestartOnFailure/t:Count", ns).text == "3"
    env_xml = service.render_windows_task(
        ["C:\\ov.exe", "serve"], {"OWNVOICE_HOME": "D:\\o"}, tmp_path, "u"
    )
    args = ET.fromstring(env_xml.split("\n", 1)[1]).find("t:Actions/t:Exec/t:Arguments", ns).text
    assert 'set "OWNVOICE_HOME=D:\\o"' in args and "serve" in args


@pytest.mark.parametrize(
    "platform,expected",
    [
        ("linux", ".config/systemd/user/ownvoice.service"),
        ("darwin", "Library/LaunchAgents/dev.ownvoice.daemon.plist"),
        ("win32", "ownvoice-task.xml"),
    ],
)
def test_install_plans_name_the_right_file_and_commands(tmp_path, platform, expected):
    plan = service.plan_install(tmp_path / "logs", platform, home=tmp_path)
    assert plan.path.as_posix().endswith(expected) and plan.content
    tools = {"linux": "systemctl", "darwin": "launchctl", "win32": "schtasks"}
    assert all(c[0] == tools[platform] for c in plan.commands)
    un = service.plan_uninstall(tmp_path / "logs", platform, home=tmp_path)
    assert un.path == plan.path and un.content is None and un.commands


def test_dry_run_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "ownvoice.cli", "service", "install", "--dry-run"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "would write" in out.stdout and "would run" in out.stdout
    assert not any(Path(tmp_path).rglob("ownvoice.service"))
    out = subprocess.run(
        [sys.executable, "-m", "ownvoice.cli", "service", "uninstall", "--dry-run"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "would remove" in out.stdout


def test_unsupported_platform_is_a_clear_error(tmp_path):
    from ownvoice.errors import BadInput

    with pytest.raises(BadInput, match="supported"):
        service.plan_install(tmp_path, "sunos5")
