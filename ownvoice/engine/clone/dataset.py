"""Recordings → training examples with the frozen model's text features cached, once per run.

Per segment (from ``prepare_recordings``): phonemes (G2P) → tokens; the frozen text side
(PL-BERT + ``bert_encoder`` output, text-encoder ``t_en``: neither depends on the style); per-token
durations found by MAS against a stock-voice rendering (``align_recording``); F0 (pyworld) and
energy at the decoder's 300-sample frame rate. Everything is written to the work folder
(safetensors + JSON) keyed by the inputs' sha256, so a resumed run skips all of this.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save

from ... import atomic
from ...audio_constants import HOP, SAMPLE_RATE
from ...errors import BadInput, Cancelled, TooLarge
from .. import features
from .losses import bandwidth_hz, energy_curve

_LOGGER = logging.getLogger(__name__)

DATASET_VERSION = 3  # bump when cached features change meaning
MAX_SPEECH_S = 120.0  # s of speech used for training: more does not fit the 10-minute CPU budget
MALE_F0_HZ = 165.0  # median F0 below this: render the alignment reference with the male stock voice
ALIGN_VOICES = ("jm_kumo", "jf_alpha")  # (lower, higher) voice for the alignment rendering
MAX_DTW_COST = (
    2.0  # mean cepstral distance on the DTW path; above it the transcript likely mismatches
)
ALIGN_PAD = (
    10  # duration frames (250 ms) of silence added at both ends before aligning, see build_dataset
)
VAL_FRACTION = 0.12
MAX_TOKENS = 510
_FILES = ("dataset.json", "dataset.safetensors")
_TENSORS = ("tokens", "bert", "t_en", "durations", "mas_durations", "audio", "f0", "energy")

Progress = Callable[[float, str], None]


@dataclass
class Example:
    """One aligned segment, ready for training steps."""

    tokens: torch.Tensor  # [T] long, with the boundary zeros
    bert: torch.Tensor  # [T, 512] bert_encoder output (frozen)
    t_en: torch.Tensor  # [512, T] text-encoder features (frozen)
    durations: (
        torch.Tensor
    )  # [T] long frames of the audio (boundary tokens may get 0), sum n_frames
    mas_durations: (
        torch.Tensor
    )  # [T] long frames from MAS with the alignment padding: duration targets
    audio: torch.Tensor  # [n_frames * 600] float32
    f0: torch.Tensor  # [2 * n_frames] Hz, 0 = unvoiced
    energy: torch.Tensor  # [2 * n_frames]
    info: dict[str, Any]

    @property
    def n_frames(self) -> int:
        return int(self.durations.sum())


@dataclass
class Dataset:
    """Training and validation examples plus what the voice record needs about the inputs."""

    train: list[Example]
    val: list[Example]
    meta: dict[str, Any] = field(default_factory=dict)
    """prep report, sources, rejected, speaker embedding, median F0, alignment voice, key."""

    @property
    def seconds(self) -> float:
        return sum(len(e.audio) for e in self.train + self.val) / SAMPLE_RATE


class ModelRenderer:
    """``align_recording``'s renderer on a given ``KokoroModel``: phonemes → audio + durations."""

    def __init__(self, model: torch.nn.Module, vocab: dict[str, int]) -> None:
        self.model = model
        self.vocab = vocab

    def synthesize(self, phonemes: str, style: Any, speed: float = 1.0) -> Any:
        from ..kokoro.runtime import SynthOutput, select_style

        ids = tokenize(phonemes, self.vocab)
        ref = torch.from_numpy(select_style(style, len(ids) - 2))[None]
        with torch.inference_mode():
            audio, dur = self.model(torch.tensor([ids]), ref, speed)
        return SynthOutput(audio[0].numpy(), dur.numpy().astype(np.int64), HOP)


def tokenize(phonemes: str, vocab: dict[str, int]) -> list[int]:
    """Token ids with the two boundary zeros; symbols outside the vocabulary are dropped."""
    ids = [vocab[c] for c in phonemes if c in vocab]
    if len(ids) > MAX_TOKENS:
        raise TooLarge(f"{len(ids)} phonemes in one segment (at most {MAX_TOKENS})")
    return [0, *ids, 0]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def inputs_key(paths: Sequence[Path], lang: str, extra: str = "") -> tuple[str, dict[str, str]]:
    """(key of this exact set of inputs, {path: sha256}); unreadable files hash to ''."""
    digests: dict[str, str] = {}
    for p in paths:
        try:
            digests[str(p)] = sha256_file(Path(p))
        except OSError:
            digests[str(p)] = ""
    blob = json.dumps([DATASET_VERSION, lang, extra, sorted(digests.values())])
    return hashlib.sha256(blob.encode()).hexdigest()[:24], digests


def load_cached(folder: Path, key: str) -> Dataset | None:
    """The dataset cached in ``folder`` for ``key``, or None."""
    meta_path, tensor_path = (Path(folder) / f for f in _FILES)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("key") != key or meta.get("version") != DATASET_VERSION:
            return None
        tensors = load_file(str(tensor_path))
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
        _LOGGER.warning("rebuilding the training cache in %s: %s", folder, e)
        return None
    examples = []
    for i, info in enumerate(meta["examples"]):
        t = {k: tensors[f"{i}/{k}"] for k in _TENSORS}
        examples.append(Example(info=info, **t))
    split = set(meta["val"])
    ds = Dataset(
        [e for i, e in enumerate(examples) if i not in split],
        [e for i, e in enumerate(examples) if i in split],
        meta,
    )
    _LOGGER.info("training cache hit: %d examples, %.0f s", len(examples), ds.seconds)
    return ds


def _save(folder: Path, examples: list[Example], val: list[int], meta: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for i, e in enumerate(examples):
        for k in _TENSORS:
            tensors[f"{i}/{k}"] = getattr(e, k).contiguous()
    atomic.write_bytes(folder / _FILES[1], save(tensors))
    meta = {**meta, "version": DATASET_VERSION, "examples": [e.info for e in examples], "val": val}
    atomic.write_text(folder / _FILES[0], json.dumps(meta, ensure_ascii=False))


def split_validation(n: int) -> list[int]:
    """Indices held out for validation: ~12 %, at least 1, spread evenly over the recordings."""
    if n < 2:
        raise BadInput(
            f"only {n} usable speech segment(s) after preprocessing; training needs at least 2 "
            "(record a little more: 1-3 minutes of clear speech is best)"
        )
    k = max(1, round(n * VAL_FRACTION))
    return sorted({round((j + 0.5) * n / k - 0.5) for j in range(k)})


def trim_durations(durations: np.ndarray, head: int, tail: int) -> np.ndarray:
    """Remove ``head`` frames from the start and ``tail`` from the end of a duration sequence."""
    d = np.asarray(durations, dtype=np.int64).copy()
    for order, n in ((range(len(d)), head), (range(len(d) - 1, -1, -1), tail)):
        for i in order:
            if n <= 0:
                break
            take = min(int(d[i]), n)
            d[i] -= take
            n -= take
    return d


def frame_curves(audio: np.ndarray, n_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """F0 (Hz, 0 unvoiced) and energy, each [2 * n_frames], on the decoder's 300-sample grid."""
    n = 2 * n_frames
    f0 = features.f0(audio)[:n]
    en = energy_curve(torch.from_numpy(audio)).numpy()[:n]
    f0 = np.pad(f0, (0, n - len(f0)))
    en = np.pad(en, (0, n - len(en)), mode="edge")
    return torch.from_numpy(f0.astype(np.float32)), torch.from_numpy(en.astype(np.float32))


def build_dataset(
    model: torch.nn.Module,
    prep,
    lang: str,
    folder: Path,
    key: str,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    extra_meta: dict[str, Any] | None = None,
) -> Dataset:
    """Turn ``prep`` (a ``PrepResult``) into cached examples in ``folder``; drops unusable segments.

    ``extra_meta`` (JSON-able: sources, rejected files, speaker embedding...) is cached alongside.
    """
    from ..align import align_recording, n_frames_for
    from ..g2p import to_phonemes
    from ..kokoro.runtime import phoneme_vocab, stock_voices

    vocab = phoneme_vocab()
    segments = list(prep.segments)
    if not segments:
        reasons = (
            "; ".join(f"{Path(p).name}: {r}" for p, r in prep.rejected.items()) or "no input files"
        )
        raise BadInput(f"no usable speech in the recordings ({reasons})")
    # Pitch first: it picks the stock voice whose rendering the aligner compares against.
    audios, curves = [], []
    for seg in segments:
        n = n_frames_for(len(seg.audio_24k))
        a = np.zeros(n * HOP, dtype=np.float32)
        a[: min(len(a), len(seg.audio_24k))] = seg.audio_24k[: n * HOP]
        audios.append(a)
        curves.append(frame_curves(a, n))
    voiced = np.concatenate([c[0].numpy()[c[0].numpy() > 0] for c in curves] or [np.zeros(0)])
    median_f0 = float(np.median(voiced)) if len(voiced) else 0.0
    align_voice = ALIGN_VOICES[0] if 0 < median_f0 < MALE_F0_HZ else ALIGN_VOICES[1]
    renderer = ModelRenderer(model, vocab)
    pack = stock_voices()[align_voice]

    examples: list[Example] = []
    dropped: list[str] = []
    for i, (seg, audio, (f0, en)) in enumerate(zip(segments, audios, curves)):
        if cancelled is not None and cancelled():
            raise Cancelled("training cancelled")
        where = f"{Path(seg.source).name} {seg.start_s:.1f}-{seg.end_s:.1f} s"
        if progress:
            progress(i / len(segments), f"aligning {where}")
        try:
            phonemes = to_phonemes(seg.text, lang).strip()
            if not phonemes:
                raise BadInput("its transcript has nothing to pronounce")
            ids = tokenize(phonemes, vocab)
            # Kokoro renders ~0.3 s of silence for each boundary token, while VAD cuts recordings
            # close to the speech: without the same margin, DTW pushes the first phonemes into
            # the boundary token. Align with padding, then cut it off the durations again.
            pad = np.zeros(ALIGN_PAD * HOP, dtype=np.float32)
            al = align_recording(phonemes, np.concatenate([pad, audio, pad]), renderer, pack)
        except BadInput as e:  # TooLarge is a BadInput
            dropped.append(f"{where}: {e}")
            continue
        if al.dtw_cost > MAX_DTW_COST:
            dropped.append(
                f"{where}: speech does not match its transcript (alignment cost {al.dtw_cost:.2f})"
            )
            continue
        tokens = torch.tensor(ids)
        with torch.inference_mode():
            bert = model.bert_encoder(model.bert(tokens[None]))[0]
            t_en = model.text_encoder(tokens[None])[0]
        info = {
            "text": seg.text,
            "phonemes": phonemes,
            "source": str(seg.source),
            "start_s": round(float(seg.start_s), 3),
            "end_s": round(float(seg.end_s), 3),
            "dtw_cost": round(float(al.dtw_cost), 3),
            "mel_shift": int(al.mel_shift),
            # the reconstruction losses ignore what the microphone / file format never captured
            "bandwidth_hz": round(0.97 * bandwidth_hz(torch.from_numpy(audio))),
        }
        examples.append(
            Example(
                tokens=tokens,
                bert=bert.clone(),
                t_en=t_en.clone(),
                durations=torch.from_numpy(trim_durations(al.durations, ALIGN_PAD, ALIGN_PAD)),
                mas_durations=torch.from_numpy(al.durations.astype(np.int64)),
                audio=torch.from_numpy(audio),
                f0=f0,
                energy=en,
                info=info,
            )
        )
    for d in dropped:
        _LOGGER.info("dropped segment %s", d)
    val = split_validation(len(examples))
    meta = {
        **(extra_meta or {}),
        "key": key,
        "median_f0_hz": round(median_f0, 1),
        "align_voice": align_voice,
        "dropped_segments": dropped,
    }
    _save(Path(folder), examples, val, meta)
    meta = {**meta, "version": DATASET_VERSION, "examples": [e.info for e in examples], "val": val}
    return Dataset(
        [e for i, e in enumerate(examples) if i not in val],
        [e for i, e in enumerate(examples) if i in val],
        meta,
    )
