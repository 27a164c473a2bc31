"""Built-in English voices (issue #11): listed with licence, the English default, and their quality.

The quality test renders the same ten English sentences with every built-in English voice and every
Kokoro stock voice through the public ``ownvoice.speak`` API, then judges them with real models:
Whisper tiny.en (WER), DNSMOS (speechmos, overall MOS) and resemblyzer (similarity to the held-out
clips of the voice's source speaker, which its recipe in ``voice.json`` names).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ownvoice.engine.eval_sentences import ENGLISH

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


def test_tuning_sentences_used_to_build_the_voices_are_not_the_test_sentences():
    from ownvoice.engine.eval_sentences import ENGLISH_TUNING
    from ownvoice.engine.wer import words

    assert len(ENGLISH_TUNING) >= 2 * len(SENTENCES)
    said = {" ".join(words(s)) for s in SENTENCES}
    assert not said & {" ".join(words(s)) for s in ENGLISH_TUNING}


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Every built-in English and stock voice on the same sentences: WER, DNSMOS, similarities."""
    if not (SPEECH / "MANIFEST.tsv").exists():
        pytest.skip(f"the shared speech corpus is not at {SPEECH}")
    import json
    import os

    from ownvoice.engine.voice_judge import judge, speaker_centroid
    from ownvoice.voice_store.builtin import STOCK_DESCRIPTIONS

    old_home = os.environ.get("OWNVOICE_HOME")
    os.environ["OWNVOICE_HOME"] = str(tmp_path_factory.mktemp("judged-home"))
    try:
        scores = {vid: judge(vid, SENTENCES) for vid in [*BUILTINS, *sorted(STOCK_DESCRIPTIONS)]}
    finally:
        if old_home is None:
            os.environ.pop("OWNVOICE_HOME", None)
        else:
            os.environ["OWNVOICE_HOME"] = old_home
    stock = [v for v in scores if v in STOCK_DESCRIPTIONS]
    sims = {}
    for vid in BUILTINS:
        meta = json.loads((PACKAGED / vid / "voice.json").read_text(encoding="utf-8"))
        centroid = speaker_centroid([SPEECH / p for p in meta["recipe"]["held_out_clips"]])
        sims[vid] = {v: scores[v].similarity(centroid) for v in [vid, *stock]}
    print(f"\n{'voice':14} {'WER':>6} {'DNSMOS':>7}  similarity to each built-in's speaker")
    for v, j in scores.items():
        sim = "  ".join(f"{b}={sims[b][v]:.3f}" for b in BUILTINS if v in sims[b])
        print(f"{v:14} {j.wer:6.3f} {j.mos:7.3f}  {sim}")
    return scores, stock, sims


# Measured on these sentences (2 cores, stop 24): WER female 0/101 words, male 1 (jm_kumo 1); DNSMOS
# female 3.402, male 3.405 vs 3.385 for the best stock voice (jm_kumo); similarity 0.765 / 0.686 to
# their speakers vs at most 0.613 / 0.577 for a stock voice.


@pytest.mark.slow
@pytest.mark.parametrize("vid", BUILTINS)
def test_builtin_english_voice_is_understood_at_least_as_well_as_the_best_stock_voice(judged, vid):
    scores, stock, _ = judged
    best = min(scores[v].wer for v in stock)
    assert scores[vid].wer <= best, f"{vid} WER {scores[vid].wer:.3f} > best stock {best:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("vid", BUILTINS)
def test_builtin_voice_is_closer_to_its_speaker_than_any_stock_voice(judged, vid):
    _, stock, sims = judged
    sim = sims[vid]
    assert all(sim[vid] > sim[v] for v in stock), f"{vid} is not the closest to its speaker: {sim}"


@pytest.mark.slow
@pytest.mark.parametrize("vid", BUILTINS)
def test_builtin_english_voice_sounds_as_clean_as_the_stock_voices(judged, vid):
    scores, stock, _ = judged
    best = max(scores[v].mos for v in stock)
    assert scores[vid].mos >= best, f"{vid} DNSMOS {scores[vid].mos:.2f} < best stock {best:.2f}"
