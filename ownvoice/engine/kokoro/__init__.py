"""Kokoro-82M: the torch model (``model``), its weights import (``onnx_import``), the torch engine
(``runtime``), its fp32 ONNX export (``export``) and the fast onnxruntime engine (``fast``)."""

from __future__ import annotations

__all__ = ["KokoroEngine", "SynthOutput", "phoneme_vocab", "stock_voices"]


def __getattr__(name: str):
    # lazy: importing the package must not import torch
    if name in __all__:
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(name)
