"""Where ownvoice keeps things and how it is configured.

Every path comes from platformdirs, or from ``$OWNVOICE_HOME`` when set (tests and portable installs
use that so nothing touches the real home). Every setting lives in one table, ``SETTINGS``, with its
default and help text; ``config.toml`` in the config directory overrides the defaults.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import BadInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

APP_NAME = "ownvoice"
ENV_HOME = "OWNVOICE_HOME"
ENV_CONFIG = "OWNVOICE_CONFIG"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "Address the daemon binds to. Keep it on loopback."),
    Setting("port", 7723, "TCP port of the daemon's HTTP bridge."),
    Setting("default_voice", "default", "Voice used when a request names none."),
    Setting("speed", 1.0, "Default speaking rate (0.5-2.0)."),
    Setting("notes_roots", [], "Folders of notes (e.g. Obsidian vaults) to watch and pre-render."),
    Setting("watch_notes", True, "Pre-render changed notes in the background."),
    Setting("code_blocks", "announce", "Code blocks in notes: announce, read or skip."),
    Setting("links", "text", "Links in notes: text (read the link text) or announce."),
    Setting("math", "formula", "Math in notes: formula (say 'formula') or verbalize."),
    Setting("cache_max_mb", 2048, "Size cap of the sentence audio cache, in MiB (LRU eviction)."),
    Setting("max_text_chars", 200_000, "Longest text one request may speak."),
    Setting("max_upload_mb", 200, "Largest request body (recordings, archives), in MiB."),
    Setting("max_audio_seconds", 3600, "Longest recording read for training; longer files are cut."),
    Setting("queue_max", 32, "Pending synthesis requests before the daemon answers 503."),
    Setting("torch_threads", 0, "CPU threads for the model; 0 picks a sensible number."),
    Setting("consent", "", "Standing consent statement used by training when none is given."),
    Setting("train_max_minutes", 10.0, "Wall-time budget of one training run, in minutes."),
    Setting(
        "train_denoise",
        "off",
        "Remove background noise (NSNet2) from recordings before training: off, auto (files whose"
        " speech is under 30 dB above their background) or on. Used by the drop folder, uploads"
        " and, unless --denoise is given, voice train.",
    ),
    Setting(
        "train_max_steps",
        0,
        "Most optimisation steps of one training run; 0 leaves it to the time budget and early"
        " stopping (a small value makes a quick trial run).",
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Paths:
    """All folders ownvoice reads or writes."""

    config: Path
    data: Path
    cache: Path
    logs: Path
    runtime: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def token_file(self) -> Path:
        return self.config / "token"

    @property
    def voices(self) -> Path:
        return self.data / "voices"

    @property
    def inbox(self) -> Path:
        """The drop folder: one sub-folder per voice name."""
        return self.data / "inbox"

    @property
    def staging(self) -> Path:
        return self.data / "staging"

    @property
    def jobs(self) -> Path:
        return self.data / "jobs"

    @property
    def audio_cache(self) -> Path:
        return self.cache / "audio"

    @property
    def lock_file(self) -> Path:
        return self.runtime / "daemon.lock"

    @property
    def pid_file(self) -> Path:
        return self.runtime / "daemon.json"

    def ensure(self) -> Paths:
        for p in (self.config, self.data, self.cache, self.logs, self.runtime, self.voices, self.inbox):
            p.mkdir(parents=True, exist_ok=True)
        return self


def get_paths() -> Paths:
    home = os.environ.get(ENV_HOME)
    if home:
        base = Path(home).expanduser().resolve()
        return Paths(base / "config", base / "data", base / "cache", base / "logs", base / "run")
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    # platformdirs warns and falls back to /tmp when XDG_RUNTIME_DIR is unset (containers, cron):
    # keep the pid/lock files in our own cache dir then, quietly
    linux_runtime = sys.platform.startswith("linux") and os.environ.get("XDG_RUNTIME_DIR")
    runtime = Path(dirs.user_runtime_dir) if linux_runtime else Path(dirs.user_cache_dir) / "run"
    return Paths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
        runtime,
    )


@dataclass(frozen=True)
class Config:
    paths: Paths
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in _BY_NAME:
            return self.values.get(name, _BY_NAME[name].default)
        raise AttributeError(name)

    def with_values(self, **overrides: Any) -> Config:
        for k in overrides:
            if k not in _BY_NAME:
                raise BadInput(f"unknown setting {k!r}")
        return dataclasses.replace(self, values={**self.values, **overrides})


def _check(name: str, value: Any) -> Any:
    default = _BY_NAME[name].default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BadInput(f"setting {name!r} must be true or false")
    elif isinstance(default, (int, float)) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInput(f"setting {name!r} must be a number")
    elif isinstance(default, list):
        if not isinstance(value, list):
            raise BadInput(f"setting {name!r} must be a list")
    elif isinstance(default, str) and not isinstance(value, str):
        raise BadInput(f"setting {name!r} must be a string")
    return value


def load_config(paths: Paths | None = None) -> Config:
    """Read ``config.toml`` (if any) over the defaults; unknown keys are an error, not a silent typo."""
    paths = paths or get_paths()
    file = Path(os.environ[ENV_CONFIG]) if os.environ.get(ENV_CONFIG) else paths.config_file
    values: dict[str, Any] = {}
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise BadInput(f"{file}: not valid TOML ({e})") from e
        for k, v in raw.items():
            if k not in _BY_NAME:
                valid = ", ".join(sorted(_BY_NAME))
                raise BadInput(f"{file}: unknown setting {k!r}; valid settings: {valid}")
            values[k] = _check(k, v)
    return Config(paths, values)


def default_config_text() -> str:
    """A commented ``config.toml`` listing every setting with its default."""
    lines = ["# ownvoice configuration. Uncomment a line to change a setting.", ""]
    for s in SETTINGS:
        lines.append(f"# {s.help}")
        lines.append(f"# {s.name} = {_toml_value(s.default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)
