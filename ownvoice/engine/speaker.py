"""Speaker embeddings with resemblyzer's GE2E encoder (256-d unit vectors), loaded safely.

We rebuild resemblyzer's ``VoiceEncoder`` (LSTM 40→256 x3 + Linear + ReLU) and its framing here
instead of importing the package: ``import resemblyzer`` pulls in webrtcvad, whose module needs
``pkg_resources`` (gone from current setuptools), and its loader calls ``torch.load`` without
``weights_only``. The weights are the wheel's ``pretrained.pt``, checked by sha256 and loaded
with ``weights_only=True``. Results match ``VoiceEncoder.embed_utterance`` on the same samples.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import BadInput, MissingDependency
from .preprocess.checksum import verify_file

_LOGGER = logging.getLogger(__name__)

ENCODER_NAME = "resemblyzer-ge2e"  # resemblyzer==0.1.4 pretrained.pt
ENCODER_DIM = 256
RATE = 16000  # Hz
_WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
_N_FFT, _HOP, _N_MELS = 400, 160, 40  # 25 ms window, 10 ms step, 40 mel bands (resemblyzer hparams)
_PARTIAL = 160  # mel frames per partial utterance (1.6 s)
_RATE_PARTIALS, _MIN_COVERAGE = 1.3, 0.75  # resemblyzer's embed_utterance defaults
_NORM_DBFS = -30.0  # resemblyzer normalizes quieter audio up to this RMS before embedding
_BATCH = 64  # partials per forward pass: bounds memory on long inputs


@dataclass(frozen=True)
class SpeakerEmbedding:
    """A unit vector and the encoder that made it: vectors of different encoders don't compare."""

    vector: np.ndarray
    encoder: str = ENCODER_NAME
    dim: int = ENCODER_DIM

    def to_dict(self) -> dict:
        return {"encoder": self.encoder, "dim": self.dim, "vector": [float(v) for v in self.vector]}

    @classmethod
    def from_dict(cls, d: dict) -> SpeakerEmbedding:
        vec = np.asarray(d["vector"], dtype=np.float32)
        if vec.shape != (int(d["dim"]),):
            raise BadInput(f"speaker embedding has {vec.shape} values, expected ({d['dim']},)")
        return cls(vec, str(d["encoder"]), int(d["dim"]))


class _GE2E(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(_N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, ENCODER_DIM)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / torch.linalg.vector_norm(raw, dim=1, keepdim=True).clamp_min(1e-12)


def _weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("speaker embeddings need resemblyzer==0.1.4 (its pretrained.pt)")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


def slaney_mel_filterbank(sr: int = RATE, n_fft: int = _N_FFT, n_mels: int = _N_MELS) -> np.ndarray:
    """librosa's default mel filters [n_mels, n_fft//2+1] (Slaney scale and area normalization)."""
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, math.log(6.4) / 27.0

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        return np.where(
            f >= min_log_hz,
            min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep,
            f / f_sp,
        )

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return np.where(
            m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m
        )

    fft_f = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


class SpeakerEncoder:
    """Embeds 16 kHz speech as a 256-d unit vector; cosine similarity compares voices."""

    name = ENCODER_NAME
    dim = ENCODER_DIM

    def __init__(self) -> None:
        path = verify_file(_weights_path(), _WEIGHTS_SHA256, "resemblyzer speaker encoder")
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
        self._net = _GE2E()
        own = self._net.state_dict()
        self._net.load_state_dict({k: v for k, v in state.items() if k in own}, strict=True)
        self._net.eval()
        self._fb = torch.from_numpy(slaney_mel_filterbank())
        self._window = torch.hann_window(_N_FFT)
        _LOGGER.debug("loaded speaker encoder from %s", path)

    def mel_frames(self, audio_16k: np.ndarray) -> torch.Tensor:
        """Mel power frames [frames, 40], as resemblyzer computes them (not log)."""
        x = torch.from_numpy(np.ascontiguousarray(audio_16k, dtype=np.float32))
        spec = torch.stft(
            x,
            _N_FFT,
            _HOP,
            window=self._window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return (self._fb @ spec.abs().pow(2)).T

    def embed(self, audio_16k: np.ndarray) -> np.ndarray:
        """The (256,) unit vector of one utterance: the normalized mean of its 1.6 s partials."""
        x = _check_audio(audio_16k)
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
        if rms > 0 and 20 * math.log10(rms) < _NORM_DBFS:  # resemblyzer: raise quiet audio only
            x = x * np.float32(10 ** ((_NORM_DBFS - 20 * math.log10(rms)) / 20))
        mel_slices, wav_end = _partial_slices(len(x))
        if wav_end > len(x):
            x = np.pad(x, (0, wav_end - len(x)))
        with torch.no_grad():
            mel = self.mel_frames(x)
            parts = torch.stack([mel[s:e] for s, e in mel_slices])
            embeds = torch.cat(
                [self._net(parts[i : i + _BATCH]) for i in range(0, len(parts), _BATCH)]
            )
        return _unit(embeds.mean(dim=0).numpy())

    def embed_many(self, audios: Sequence[np.ndarray]) -> np.ndarray:
        """One (256,) unit vector for several utterances of one speaker (mean of their vectors)."""
        if not audios:
            raise BadInput("no audio to embed")
        return _unit(np.mean([self.embed(a) for a in audios], axis=0))

    def embedding(self, audios: np.ndarray | Sequence[np.ndarray]) -> SpeakerEmbedding:
        """Like ``embed``/``embed_many``, tagged with this encoder's name and size for storage."""
        vec = self.embed(audios) if isinstance(audios, np.ndarray) else self.embed_many(audios)
        return SpeakerEmbedding(vec.astype(np.float32), self.name, self.dim)


def similarity(a: np.ndarray | SpeakerEmbedding, b: np.ndarray | SpeakerEmbedding) -> float:
    """Cosine similarity of two embeddings (1 = same direction); refuses mixed encoders."""
    if (
        isinstance(a, SpeakerEmbedding)
        and isinstance(b, SpeakerEmbedding)
        and a.encoder != b.encoder
    ):
        raise BadInput(f"cannot compare embeddings of {a.encoder!r} and {b.encoder!r}")
    va = np.asarray(a.vector if isinstance(a, SpeakerEmbedding) else a, dtype=np.float64)
    vb = np.asarray(b.vector if isinstance(b, SpeakerEmbedding) else b, dtype=np.float64)
    if va.shape != vb.shape or va.ndim != 1:
        raise BadInput(f"embeddings differ in shape: {va.shape} vs {vb.shape}")
    na, nb = np.linalg.norm(va), np.linalg.norm(vb)
    if na == 0 or nb == 0:
        raise BadInput("cannot compare a zero embedding")
    return float(va @ vb / (na * nb))


_ENCODER: SpeakerEncoder | None = None
_LOCK = threading.Lock()


def get_encoder() -> SpeakerEncoder:
    """The process-wide encoder (17 MB of weights: load once)."""
    global _ENCODER
    with _LOCK:
        if _ENCODER is None:
            _ENCODER = SpeakerEncoder()
        return _ENCODER


def _check_audio(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise BadInput(f"expected mono 16 kHz audio (1-D), got shape {x.shape}")
    if len(x) < RATE // 10:
        raise BadInput(f"audio too short to embed: {len(x) / RATE:.2f} s (need at least 0.1 s)")
    if not np.isfinite(x).all():
        raise BadInput("audio contains NaN or infinite samples")
    return x


def _partial_slices(n_samples: int) -> tuple[list[tuple[int, int]], int]:
    """resemblyzer's partial-utterance mel slices and the sample length they need."""
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = int(np.round((RATE / _RATE_PARTIALS) / _HOP))
    slices = [(i, i + _PARTIAL) for i in range(0, max(1, n_frames - _PARTIAL + step + 1), step)]
    last_start = slices[-1][0] * _HOP
    coverage = (n_samples - last_start) / (_PARTIAL * _HOP)
    if coverage < _MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices, slices[-1][1] * _HOP


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n if n > 0 else v).astype(np.float32)
