import os
import subprocess
import sys
from pathlib import Path

import pytest

from ownvoice.config import SETTINGS, default_config_text, get_paths, load_config
from ownvoice.errors import BadInput


def test_home_override_puts_every_path_under_it(ownvoice_home):
    p = get_paths()
    for path in (p.config, p.data, p.cache, p.logs, p.runtime, p.voices, p.inbox, p.token_file):
        assert Path(path).resolve().is_relative_to(ownvoice_home.resolve())


def test_defaults_without_a_config_file():
    cfg = load_config()
    assert cfg.host == "127.0.0.1" and cfg.port == 7723 and cfg.default_voice == "default"


def test_config_file_overrides_and_rejects_typos(ownvoice_home):
    paths = get_paths().ensure()
    paths.config_file.write_text('port = 9000\nspeed = 1.2\n')
    cfg = load_config()
    assert cfg.port == 9000 and cfg.speed == 1.2
    paths.config_file.write_text('prot = 9000\n')
    with pytest.raises(BadInput, match="unknown setting 'prot'"):
        load_config()
    paths.config_file.write_text('port = "high"\n')
    with pytest.raises(BadInput, match="must be a number"):
        load_config()
    paths.config_file.write_text('port = [\n')
    with pytest.raises(BadInput, match="not valid TOML"):
        load_config()


def test_default_config_text_documents_every_setting_and_parses(ownvoice_home):
    text = default_config_text()
    for s in SETTINGS:
        assert f"# {s.name} = " in text and s.help in text
    uncommented = "\n".join(line[2:] for line in text.splitlines() if " = " in line)
    paths = get_paths().ensure()
    paths.config_file.write_text(uncommented)
    assert load_config().port == 7723


def test_cli_help_lists_commands_and_status_runs(ownvoice_home):
    exe = [sys.executable, "-m", "ownvoice.cli"]
    out = subprocess.run(exe + ["--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("status", "voices", "say"):
        assert cmd in out
    st = subprocess.run(exe + ["status", "--json"], capture_output=True, text=True, check=True,
                        env={**os.environ, "OWNVOICE_HOME": str(ownvoice_home)}).stdout
    assert str(ownvoice_home) in st and "jf_alpha" in st
