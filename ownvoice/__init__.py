"""ownvoice: read your notes aloud in your own voice, locally.

The public API (imported lazily so ``import ownvoice`` stays fast)::

    ownvoice.speak(text, voice="default", lang="auto", speed=1.0) -> Speech
    ownvoice.stream(text, ...) -> Iterator[SentenceAudio]
    ownvoice.Speaker(config)          # shared by the CLI, the daemon and the bridge
    ownvoice.VoiceStore(root)         # the voices on disk
    ownvoice.train_voice(store, name, paths, lang=..., consent=...)
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# OpenMP workers that spin while waiting steal the cores other work needs: on a loaded 2-core
# machine torch's LSTMs ran ~90x slower. It only counts if set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
__all__ = ["speak", "stream", "Speaker", "Speech", "VoiceStore", "train_voice", "load_config", "__version__"]

_LAZY = {
    "speak": ("ownvoice.speech", "speak"),
    "stream": ("ownvoice.speech", "stream"),
    "Speaker": ("ownvoice.speech", "Speaker"),
    "Speech": ("ownvoice.speech", "Speech"),
    "VoiceStore": ("ownvoice.voice_store", "VoiceStore"),
    "train_voice": ("ownvoice.engine.clone", "train_voice"),
    "load_config": ("ownvoice.config", "load_config"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'ownvoice' has no attribute {name!r}")
