"""Voice cloning on the frozen Kokoro-82M: style fit + LoRA from a few minutes of recordings.

    from ownvoice.engine.clone import train_voice
    voice = train_voice(store, "me", [Path("me1.wav"), Path("me2.m4a")], "en",
                        consent="I am the speaker and agree.", progress=print)

``apply_adapter(model, voice.lora_dir())`` gives the LoRA-merged model to pass to
``KokoroEngine.synthesize(..., model=...)``.
"""

from __future__ import annotations

__all__ = ["TrainOptions", "apply_adapter", "train_voice"]


def __getattr__(name: str):
    # lazy: importing the package must not import torch/peft
    if name == "train_voice":
        from .pipeline import train_voice

        return train_voice
    if name == "TrainOptions":
        from .trainer import TrainOptions

        return TrainOptions
    if name == "apply_adapter":
        from .lora import apply_adapter

        return apply_adapter
    raise AttributeError(name)
