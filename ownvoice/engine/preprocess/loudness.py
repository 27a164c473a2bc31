"""Loudness normalization: one gain per file so speech sits near -23 dBFS RMS with peaks <= -1 dBFS.

-23 LUFS (EBU R128) is approximated by the RMS of VAD speech frames: for speech the K-weighting
changes the figure by about a dB, which does not matter for training. One gain per file keeps the
natural loudness contour inside it.
"""

from __future__ import annotations

import math

TARGET_DBFS = -23.0  # dBFS, RMS of speech frames
PEAK_DBFS = -1.0  # dBFS, highest sample after the gain
MAX_GAIN_DB = 30.0  # dB: beyond this we would mostly be amplifying the noise floor


def normalize_gain(speech_power: float, peak: float) -> float:
    """Linear gain for a file with mean speech power ``speech_power`` and sample peak ``peak``."""
    if speech_power <= 0 or peak <= 0:
        return 1.0
    want_db = TARGET_DBFS - 10 * math.log10(speech_power)
    peak_db = PEAK_DBFS - 20 * math.log10(peak)  # most gain the peak allows
    return 10 ** (min(want_db, peak_db, MAX_GAIN_DB) / 20)
