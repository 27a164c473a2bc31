"""Fast inference: our fp32 Kokoro model exported to ONNX (``export``) run by onnxruntime, the
decoder with some convolutions in int8 by default (``quantize``).

Same contract as ``runtime.KokoroEngine.synthesize`` (audio + durations), plus ``adapter``: a
voice's peft LoRA folder. One exported file serves every voice: a LoRA voice gets its own
onnxruntime sessions in which the weights its adapter changes are replaced, merged, with
``SessionOptions.add_initializer``; onnxruntime then optimizes them like any constant. Those
sessions are cached per adapter (voice id + version) in a small LRU, so memory stays bounded.
The stock model's sessions are shared by every voice without an adapter. torch is imported only
to export (once per machine) and never on the inference path.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ...audio_constants import HOP, SAMPLE_RATE
from ...errors import Cancelled
from .. import weights
from ..interrupt import Interrupt
from . import chunks, export
from .runtime import Runtime, SynthOutput, check_speed, phoneme_vocab, select_style

_LOGGER = logging.getLogger(__name__)

ADAPTED_SESSIONS = 2  # LoRA voices kept warm (each holds a copy of the weights, ~350 MB)


def session_options(threads: int):
    """onnxruntime options used for every Kokoro session here (and by the bench)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Busy-waiting workers burn the cores that other work on a shared laptop (or our own second
    # thread) needs; on a loaded 2-core machine spinning made small ops many times slower.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


@dataclass
class _Sessions:
    encode: object
    f0n: object
    vocode: object
    keep: list  # OrtValues whose memory the sessions use (must outlive them)

    @property
    def harmonics(self) -> int:
        """The harmonic source's sines, as the exported graph declares (phase0 [1, harmonics])."""
        return next(i.shape[1] for i in self.vocode.get_inputs() if i.name == "phase0")


@dataclass
class _Prepared:
    """One sentence through the text side: everything the decoder needs, for any crop of it."""

    sessions: _Sessions
    style: np.ndarray  # [1, 256]
    durations: np.ndarray  # int64 frames per token
    t_en: np.ndarray  # [1, 512, F] aligned text features
    f0: np.ndarray  # [1, 2F]
    n: np.ndarray  # [1, 2F]

    @property
    def frames(self) -> int:
        return int(self.t_en.shape[2])

    def vocode(self, lo: int, hi: int, run_options=None) -> np.ndarray:
        """Audio of frames [lo, hi), the harmonic source continuing the sentence's phase."""
        phase0 = chunks.start_phase(self.f0, 2 * lo, self.sessions.harmonics, SAMPLE_RATE, HOP // 2)
        audio = self.sessions.vocode.run(
            None,
            {"t_en": self.t_en[:, :, lo:hi], "f0": self.f0[:, 2 * lo : 2 * hi], "n": self.n[:, 2 * lo : 2 * hi],
             "style": self.style, "phase0": phase0},
            run_options,
        )[0].reshape(-1)
        if not np.isfinite(audio).all():
            raise RuntimeError("the model produced non-finite audio")  # a bug, not bad input
        return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)


class FastKokoroEngine(Runtime):
    """Phonemes + style (+ LoRA adapter) → 24 kHz audio with the exported ONNX graphs."""

    name = "kokoro-82m-onnx"
    version = f"1.0+{export.EXPORT_VERSION}"

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None,
                 precision: Literal["mixed", "fp32"] = "mixed") -> None:
        """``precision``: ``mixed`` runs the decoder with some convolutions in int8 (``vocode8``,
        1.2x faster, DNSMOS unchanged within noise; ``kokoro.quantize``), ``fp32`` all in fp32."""
        if precision not in ("mixed", "fp32"):
            raise ValueError(f"precision must be mixed or fp32, not {precision!r}")
        self.threads = threads or min(2, os.cpu_count() or 1)
        self.cache_dir = cache_dir
        self.precision = precision
        self._graphs = ("encode", "f0n", "vocode8" if precision == "mixed" else "vocode")
        self._paths: dict[str, Path] | None = None
        self._base: _Sessions | None = None
        self._adapted: OrderedDict[tuple, _Sessions] = OrderedDict()
        self._vocab: dict[str, int] = {}
        self._lock = threading.Lock()

    # ---- sessions ------------------------------------------------------------------------------
    def load(self) -> FastKokoroEngine:
        """Export (first time on this machine) and open the stock sessions; idempotent."""
        with self._lock:
            if self._base is None:
                self._vocab = phoneme_vocab()
                self._paths = export.onnx_graphs(self.cache_dir)
                self._base = self._open({})
        return self

    def _open(self, overrides: dict[str, np.ndarray]) -> _Sessions:
        import onnxruntime as ort

        assert self._paths is not None
        keep: list = []
        sessions = []
        names = export.initializer_names(self.cache_dir)
        for graph in self._graphs:
            opts = session_options(self.threads)
            for name, value in overrides.items():
                if name in names[graph]:
                    value = np.ascontiguousarray(value, dtype=np.float32)
                    if value.shape != names[graph][name]:  # e.g. a conv rewritten by convs_as_2d
                        from ...errors import BadInput

                        raise BadInput(f"the fast runtime cannot override {name} {names[graph][name]}")
                    ov = ort.OrtValue.ortvalue_from_numpy(value)
                    opts.add_initializer(name, ov)
                    keep.append(ov)
            sessions.append(
                ort.InferenceSession(str(self._paths[graph]), sess_options=opts, providers=["CPUExecutionProvider"])
            )
        return _Sessions(*sessions, keep)

    def _sessions(self, adapter: Path | None) -> _Sessions:
        self.load()
        if adapter is None:
            assert self._base is not None
            return self._base
        from ..clone.lora import adapter_key, merged_weights

        key = adapter_key(adapter)
        with self._lock:
            if key in self._adapted:
                self._adapted.move_to_end(key)
                return self._adapted[key]
        merged = merged_weights(Path(key[0]), self._base_weight)
        overrides = {f"{export.PREFIX}{name}.weight": w for name, w in merged.items()}
        known = set().union(*(n.keys() for n in export.initializer_names(self.cache_dir).values()))
        missing = sorted(set(overrides) - known)
        if missing:
            from ...errors import BadInput

            raise BadInput(f"the LoRA adapter in {key[0]} adapts layers the model does not have: {missing[:3]}")
        sessions = self._open(overrides)
        with self._lock:
            self._adapted[key] = sessions
            while len(self._adapted) > ADAPTED_SESSIONS:
                self._adapted.popitem(last=False)
        _LOGGER.info("opened sessions for LoRA adapter %s (%d weights overridden)", key[0], len(overrides))
        return sessions

    def _base_weight(self, module: str) -> np.ndarray:
        from safetensors import safe_open

        with safe_open(str(weights.state_dict_path(self.cache_dir)), framework="numpy") as f:
            try:
                return f.get_tensor(f"{module}.weight")
            except Exception as e:  # safetensors raises its own error type for a missing key
                from ...errors import BadInput

                raise BadInput(f"the model has no layer {module!r} for a LoRA adapter") from e

    def clear_adapters(self) -> None:
        """Drop the cached LoRA sessions (e.g. after a voice was deleted or retrained)."""
        with self._lock:
            self._adapted.clear()

    # ---- synthesis -----------------------------------------------------------------------------
    def _prepare(self, phonemes: str, style, speed: float, adapter: Path | None,
                 unknown: Literal["error", "skip"], run_options=None) -> _Prepared | None:
        speed = check_speed(speed)
        ids = self.tokens(phonemes, unknown)
        if not ids:
            return None
        ref = select_style(style, len(ids))[None]
        s = self._sessions(adapter)
        duration, d, t_en = s.encode.run(
            None,
            {"tokens": np.array([[0, *ids, 0]], dtype=np.int64), "style": ref,
             "speed": np.array([speed], dtype=np.float32)},
            run_options,
        )
        # round half to even and at least one frame per token, as KokoroModel.round_durations
        dur = np.maximum(np.round(duration[0]), 1).astype(np.int64)
        f0, n = s.f0n.run(None, {"d": np.repeat(d.transpose(0, 2, 1), dur, axis=2), "style": ref},
                          run_options)
        return _Prepared(s, ref, dur, np.repeat(t_en, dur, axis=2), f0, n)

    def synthesize(self, phonemes: str, style, speed: float = 1.0, adapter: Path | None = None,
                   unknown: Literal["error", "skip"] = "error",
                   interrupt: Interrupt | None = None) -> SynthOutput:
        """Speak one phoneme string; ``adapter`` is a voice's LoRA folder (None: stock weights).
        ``interrupt`` can stop it from another thread between two layers (raises ``Cancelled``)."""
        if interrupt is None:
            p = self._prepare(phonemes, style, speed, adapter, unknown)
            audio = None if p is None else p.vocode(0, p.frames)
        else:
            import onnxruntime as ort

            options = ort.RunOptions()
            interrupt.on_stop(lambda: setattr(options, "terminate", True))
            try:
                interrupt.check()
                p = self._prepare(phonemes, style, speed, adapter, unknown, options)
                audio = None if p is None else p.vocode(0, p.frames, options)
            except Exception as e:
                if interrupt.stopped:  # onnxruntime's error for a terminated run
                    raise Cancelled("synthesis interrupted by a more urgent request") from e
                raise
        if p is None or audio is None:
            return SynthOutput(np.zeros(0, np.float32), np.zeros(0, np.int64))
        return SynthOutput(audio, p.durations, HOP)

    def stream(self, phonemes: str, style, speed: float = 1.0, adapter: Path | None = None,
               unknown: Literal["error", "skip"] = "error") -> Iterator[tuple[np.ndarray, bool]]:
        """The audio of ``synthesize`` in growing chunks, as (audio, last), the first after
        ~0.3 s of work (``kokoro.chunks``); nothing for a string with no speakable symbols.

        The chunks join into one signal of the same length, nearly the same audio (the decoder's
        instance norms see crops). Decoding speed is measured as it goes, and each chunk is planned
        to be ready before the audio sent so far has played; on a machine too busy for that the
        chunks shrink to ``chunks.MIN_CHUNK`` and playback may wait between them.
        """
        p = self._prepare(phonemes, style, speed, adapter, unknown)
        if p is None:
            return
        frames = p.frames
        stitch = chunks.Stitcher(HOP)
        done, cut = 0, chunks.first_cut(p.n, frames)
        started = sent = None
        decoded = spent = 0.0  # frames decoded and seconds spent on them, for the speed
        while True:
            span = chunks.crop(done, frames if cut is None else cut, frames)
            t0 = time.perf_counter()
            audio = p.vocode(span[0], span[3])
            now = time.perf_counter()
            decoded, spent = decoded + span[3] - span[0], spent + now - t0
            piece = stitch.add(span, audio, last=cut is None)
            if started is None:
                started, sent = now, 0.0
            sent += len(piece) / SAMPLE_RATE
            yield piece, cut is None
            if cut is None:
                return
            done = cut
            # audio not yet played if playback began with the first chunk: what the next must beat
            buffered = sent - (time.perf_counter() - started)
            cut = chunks.next_cut(p.n, done, frames, chunks.budget(buffered, spent / decoded))
