"""Judge a voice by ear-like models: intelligibility (Whisper WER), cleanness (DNSMOS), likeness.

Used by the built-in voice tests and by ``tools/build_builtin_voices.py`` (which picks among
training runs on ``eval_sentences.ENGLISH_TUNING``), so both measure the same way: each sentence
goes through the public ``ownvoice.speak`` API, is resampled to 16 kHz, transcribed by the offline
Whisper, scored by DNSMOS (``speechmos``, a development extra) and embedded by the speaker encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASR_RATE = 16000


@dataclass(frozen=True)
class Judged:
    """One voice on a list of sentences."""

    voice: str
    wer: float  # word errors / reference words, all sentences together
    mos: float  # mean DNSMOS overall (P.835 OVRL, 1-5)
    embs: np.ndarray  # (sentences, dim) unit speaker embeddings

    def similarity(self, centroid: np.ndarray) -> float:
        """Mean cosine similarity of the sentences to a speaker's (unit) centroid."""
        return float(np.mean(self.embs @ centroid))


def judge(voice: str, sentences: Sequence[str], lang: str = "en") -> Judged:
    """Speak every sentence with ``voice`` and judge it (needs the ``speechmos`` extra)."""
    import soxr
    from speechmos import dnsmos

    from .. import speech
    from .preprocess.transcribe import join_words, transcribe_words
    from .speaker import get_encoder
    from .wer import word_errors, words

    enc = get_encoder()
    errors, mos, embs = 0, [], []
    for text in sentences:
        said = speech.speak(text, voice=voice, lang=lang)
        x = soxr.resample(said.samples, said.sample_rate, ASR_RATE).astype(np.float32)
        errors += word_errors(text, join_words(transcribe_words(x, lang)))
        mos.append(dnsmos.run(np.clip(x, -1, 1), ASR_RATE)["ovrl_mos"])
        embs.append(enc.embed(x))
    n_words = sum(len(words(s)) for s in sentences)
    return Judged(voice, errors / max(1, n_words), float(np.mean(mos)), np.stack(embs))


def speaker_centroid(paths: Sequence[Path]) -> np.ndarray:
    """The speaker encoder's unit centroid of real recordings (e.g. a voice's held-out clips)."""
    from .preprocess.decode import decode
    from .speaker import get_encoder

    return get_encoder().embed_many([decode(p, rates=(ASR_RATE,)).at(ASR_RATE) for p in paths])
