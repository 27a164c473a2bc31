"""The daemon: lifecycle, training jobs, drop folder, playback and login service."""

from .core import Daemon

__all__ = ["Daemon"]
