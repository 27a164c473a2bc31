"""int8 for the decoder's cheapest-to-quantize convolutions: the ``vocode8`` graph.

On 2 cores the fp32 convolutions run near the CPU's peak, so only fewer bits make the decoder
faster: onnxruntime's static int8 convolution (QLinearConv, uint8 activations, per-channel int8
weights) is ~3x faster than fp32 on the same shapes. Which convolutions may lose precision was
measured (DNSMOS on ``eval_sentences.ENGLISH``, paired per sentence, 4 voices): the
generator's 256-channel residual blocks (``resblocks.0-2``) and its first noise block
(``noise_res.0``) keep DNSMOS within about two standard errors (-0.014..+0.015) and make
synthesis 1.2x faster; quantizing the 128-channel blocks at 4800 frames/s as well would nearly
double the speed but cost the stock voices 0.034 DNSMOS, so they stay fp32, as do the text side
and everything LoRA adapts.

Activation ranges are calibrated once, at export, on fixed phoneme strings spoken by the stock
voices, in 80-frame windows (as the streamed decoder sees them), clipping at the 99.999th
percentile: plain min/max ranges wasted resolution on rare peaks (lower DNSMOS).
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np

from ...audio_constants import HOP, SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

QUANTIZED = tuple(f"model.decoder.generator.{b}." for b in ("resblocks.0", "resblocks.1", "resblocks.2", "noise_res.0"))
WINDOW = 80  # frames per calibration window (the calibrator needs equal shapes)
PERCENTILE = 99.999
# Phonemes (Kokoro's symbols), so that export needs no G2P; each >= 2 windows long.
CALIBRATION = (
    "ðə wˈɛðəɹ tˈɜɹnd kˈOld, ænd wi stˈAd ɪnsˈId wɪð tˈi ænd ə ɡˈʊd bˈʊk.",
    "kʊd ju sˈɛnd mi ðə nˈʌmbəɹz bəfˈɔɹ ði ˈɛnd ʌv ðə wˈik? ˈI nˈid ðɛm sˈun.",
    "hi lˈæft kwˈIətli, ðɛn klˈOzd ðə dˈɔɹ bəhˈInd hɪm ænd wˈɔkt əwˈA.",
    "ˈɛvɹi mˈɔɹnɪŋ ðə bˈɜɹdz sˈɪŋ lˈWdli ˌWtsˈId maɪ wˈɪndO, ˈivən ɪn wˈɪntəɹ!",
    "koɲɲiʨiβa, kʲoː βa joi teŋkʲi desɨ ne. asʲita mo haɾe ni naɾɯ to iː desɨ.",
    "ni↓xau↓, ʨi→ntʰjɛ→ntʰjɛ→nʨʰi↘ xə↓n xau↓, wo↓mən tɕʰy↘ kʊ→ŋjɛ↘n san↘pu↘ pa.",
)


def quantized_convs(proto) -> list[str]:
    """Names of the Conv nodes to quantize: those whose weight lies in a ``QUANTIZED`` block."""
    return [n.name for n in proto.graph.node
            if n.op_type == "Conv" and len(n.input) > 1 and n.input[1].startswith(QUANTIZED)]


def calibration_feeds(paths: dict[str, Path], harmonics: int, threads: int = 2) -> list[dict[str, np.ndarray]]:
    """Decoder inputs for ``CALIBRATION`` in each stock voice (two voices a string), windowed."""
    import onnxruntime as ort

    from . import chunks
    from .fast import session_options
    from .runtime import phoneme_vocab, select_style, stock_voices, token_ids

    encode, f0n = (ort.InferenceSession(str(paths[g]), sess_options=session_options(threads),
                                        providers=["CPUExecutionProvider"]) for g in ("encode", "f0n"))
    vocab, voices = phoneme_vocab(), list(stock_voices().values())
    feeds = []
    for i, phonemes in enumerate(CALIBRATION):
        ids = token_ids(phonemes, vocab)  # a symbol outside the vocabulary is a bug here
        for style in (voices[i % len(voices)], voices[(i + 2) % len(voices)]):
            ref = select_style(style, len(ids))[None]
            duration, d, t_en = encode.run(None, {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64), "style": ref,
                "speed": np.ones(1, dtype=np.float32)})
            dur = np.maximum(np.round(duration[0]), 1).astype(np.int64)
            f0, n = f0n.run(None, {"d": np.repeat(d.transpose(0, 2, 1), dur, axis=2), "style": ref})
            t_en = np.repeat(t_en, dur, axis=2)
            for lo in range(0, t_en.shape[2] - WINDOW + 1, WINDOW):
                feeds.append({
                    "t_en": t_en[:, :, lo:lo + WINDOW], "f0": f0[:, 2 * lo:2 * (lo + WINDOW)],
                    "n": n[:, 2 * lo:2 * (lo + WINDOW)], "style": ref,
                    "phase0": chunks.start_phase(f0, 2 * lo, harmonics, SAMPLE_RATE, HOP // 2)})
    return feeds


def quantize_vocoder(src: Path, dst: Path, feeds: list[dict[str, np.ndarray]]) -> None:
    """Write ``src`` (the fp32 vocode graph) with ``quantized_convs`` in int8 to ``dst``."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        """One window at a time (``set_range``): the calibrator keeps every intermediate tensor of
        what it is given, ~0.4 GB a window; given all at once it peaked at 10 GB."""

        def __init__(self) -> None:
            self.set_range(0, len(feeds))

        def __len__(self) -> int:
            return len(feeds)

        def set_range(self, start_index: int, end_index: int) -> None:
            self._it = iter(feeds[start_index:end_index])

        def get_next(self):
            return next(self._it, None)

    nodes = quantized_convs(onnx.load(str(src), load_external_data=False))
    if not nodes:
        raise RuntimeError("no decoder convolutions to quantize: the graph is not the expected one")
    with contextlib.redirect_stdout(io.StringIO()):  # the calibrator prints its progress
        quantize_static(
            str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            nodes_to_quantize=nodes, op_types_to_quantize=["Conv"],
            calibrate_method=CalibrationMethod.Percentile,
            extra_options={"ActivationSymmetric": False, "CalibPercentile": PERCENTILE,
                           "CalibStridedMinMax": 1},  # despite its name: any method, in strides
        )
    _LOGGER.info("quantized %d decoder convolutions from %d calibration windows", len(nodes), len(feeds))
