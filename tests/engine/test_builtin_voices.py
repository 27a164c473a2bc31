"""Built-in English voices (issue #11): listed with licence, the English default, and their quality.

The quality test renders the same ten English sentences with every built-in English voice and every
Kokoro stock voice through the public ``ownvoice.speak`` API, then judges them with real models:
Whisper tiny.en (WER), DNSMOS (speechmos, overall MOS) and resemblyzer (similarity to the held-out
clips of the voice's source speaker, which its recipe in ``voice.json`` names).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ownvoice.engine.eval_sentences import ENGLISH
from ownvoice.engine.wer import word_errors, words

SPEECH = Path(__file__).resolve().parents[2] / ".." / "shared" / "speech"
PACKAGED = Path(__file__).resolve().parents[2] / "ownvoice" / "voices"
SENTENCES = ENGLISH


def _english_builtins() -> list[str]:
    import json

    if not PACKAGED.is_dir():
        return []
    out = []
    for vj in sorted(PACKAGED.glob("*/voice.json")):
        meta = json.loads(vj.read_text(encoding="utf-8"))
        if "en" in meta.get("languages", []):
            out.append(meta["id"])
    return out


BUILTINS = _english_builtins()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OWNVOICE_HOME", str(tmp_path))
    return tmp_path


def test_there_is_an_english_female_and_male_builtin_voice():
    assert "ov_en_female" in BUILTINS and "ov_en_male" in BUILTINS


def test_builtin_voices_carry_licence_recipe_and_small_artefacts(home):
    from ownvoice.config import get_paths
    from ownvoice.voice_store import BuiltinVoices, VoiceStore

    store = VoiceStore(get_paths().voices, BuiltinVoices())
    listed = {v.id: v for v in store.list()}
    for vid in BUILTINS:
        v = listed[vid]
        assert v.builtin and v.meta["licence"] and v.meta["attribution"]
        assert v.meta["recipe"]["script"] == "tools/build_builtin_voices.py"
        assert v.meta["recipe"]["held_out_clips"], "tests need held-out clips of the source speaker"
        assert v.lora_dir() is not None and v.style().shape[-1] == 256
        size = sum(p.stat().st_size for p in (PACKAGED / vid).rglob("*") if p.is_file())
        assert size < 4 << 20, f"{vid} ships {size} bytes; built-in voices must stay small"


def test_default_is_english_female_for_english_and_japanese_stock_for_japanese(home):
    from ownvoice.config import get_paths
    from ownvoice.voice_store import BuiltinVoices, VoiceStore

    b = VoiceStore(get_paths().voices, BuiltinVoices()).builtins
    assert b.default_for("en").id == "ov_en_female"
    assert b.default_for("ja").id.startswith("j")


def test_voices_show_prints_licence_and_attribution(home, capsys):
    from ownvoice.cli import main

    assert main(["voices", "show", "ov_en_male"]) == 0
    out = capsys.readouterr().out
    assert "CC BY 4.0" in out and "LibriSpeech" in out


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Every built-in English and stock voice on the same sentences: WER, DNSMOS, similarities."""
    if not (SPEECH / "MANIFEST.tsv").exists():
        pytest.skip(f"the shared speech corpus is not at {SPEECH}")
    import json
    import os

    import soxr
    from speechmos import dnsmos

    import ownvoice
    from ownvoice.engine.preprocess.decode import decode
    from ownvoice.engine.preprocess.transcribe import join_words, transcribe_words
    from ownvoice.engine.speaker import get_encoder
    from ownvoice.voice_store.builtin import STOCK_DESCRIPTIONS

    old_home = os.environ.get("OWNVOICE_HOME")
    os.environ["OWNVOICE_HOME"] = str(tmp_path_factory.mktemp("judged-home"))
    try:
        enc = get_encoder()
        n_words = sum(len(words(s)) for s in SENTENCES)
        scores: dict[str, dict] = {}
        for vid in [*BUILTINS, *sorted(STOCK_DESCRIPTIONS)]:
            errors, mos, embs = 0, [], []
            for text in SENTENCES:
                speech = ownvoice.speak(text, voice=vid, lang="en")
                x = soxr.resample(speech.samples, speech.sample_rate, 16000).astype(np.float32)
                errors += word_errors(text, join_words(transcribe_words(x, "en")))
                mos.append(dnsmos.run(np.clip(x, -1, 1), 16000)["ovrl_mos"])
                embs.append(enc.embed(x))
            scores[vid] = {"wer": errors / n_words, "mos": float(np.mean(mos)), "embs": np.stack(embs)}
    finally:
        if old_home is None:
            os.environ.pop("OWNVOICE_HOME", None)
        else:
            os.environ["OWNVOICE_HOME"] = old_home
    stock = [v for v in scores if v in STOCK_DESCRIPTIONS]
    sims = {}
    for vid in BUILTINS:
        meta = json.loads((PACKAGED / vid / "voice.json").read_text(encoding="utf-8"))
        held = [decode(SPEECH / p, rates=(16000,)).at(16000) for p in meta["recipe"]["held_out_clips"]]
        centroid = enc.embed_many(held)
        sims[vid] = {v: float(np.mean(scores[v]["embs"] @ centroid)) for v in [vid, *stock]}
    print(f"\n{'voice':14} {'WER':>6} {'DNSMOS':>7}  similarity to each built-in's speaker")
    for v in scores:
        sim = "  ".join(f"{b}={sims[b][v]:.3f}" for b in BUILTINS if v in sims[b])
        print(f"{v:14} {scores[v]['wer']:6.3f} {scores[v]['mos']:7.3f}  {sim}")
    return scores, stock, sims


def _known_gap(vid: str, measured: str, strict: bool = True) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=strict, reason=f"issue #11 open: {vid} {measured}")


# DNSMOS: the clones carry some of their sources' room sound (LJ Speech reverb, LibriSpeech noise);
# at LoRA strength 0.25 the female voice is within 0.01 of the best stock voice, so a different CPU's
# rounding may flip it: not strict. The male voice (LibriSpeech 2033, whose real clips score 3.26)
# is 0.06 below at strength 0.1, and 0.05 below even with its fitted style alone.
_CLEAN_GAPS = {
    "ov_en_female": ("DNSMOS 3.39 vs 3.40 for the best stock voice (jm_kumo)", False),
    "ov_en_male": ("DNSMOS 3.33 vs 3.40 for the best stock voice (jm_kumo)", True),
}
_WER_GAPS: dict[str, str] = {}  # female 0 word errors in 101, male 1 (jm_kumo: 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "vid", [pytest.param(v, marks=_known_gap(v, _WER_GAPS[v], strict=False)) if v in _WER_GAPS else v for v in BUILTINS]
)
def test_builtin_english_voice_is_understood_at_least_as_well_as_the_best_stock_voice(judged, vid):
    scores, stock, _ = judged
    best = min(scores[v]["wer"] for v in stock)
    assert scores[vid]["wer"] <= best, f"{vid} WER {scores[vid]['wer']:.3f} > best stock {best:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("vid", BUILTINS)
def test_builtin_voice_is_closer_to_its_speaker_than_any_stock_voice(judged, vid):
    _, stock, sims = judged
    sim = sims[vid]
    assert all(sim[vid] > sim[v] for v in stock), f"{vid} is not the closest to its speaker: {sim}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "vid", [pytest.param(v, marks=_known_gap(v, *_CLEAN_GAPS[v])) if v in _CLEAN_GAPS else v for v in BUILTINS]
)
def test_builtin_english_voice_sounds_as_clean_as_the_stock_voices(judged, vid):
    scores, stock, _ = judged
    best = max(scores[v]["mos"] for v in stock)
    assert scores[vid]["mos"] >= best, f"{vid} DNSMOS {scores[vid]['mos']:.2f} < best stock {best:.2f}"
