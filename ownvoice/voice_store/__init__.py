"""The per-user voice store: voices on disk, atomic and locked; built-in voices read-only."""

from .builtin import DEFAULT_ID, BuiltinVoices
from .store import Voice, VoiceStore

__all__ = ["DEFAULT_ID", "BuiltinVoices", "Voice", "VoiceStore"]
