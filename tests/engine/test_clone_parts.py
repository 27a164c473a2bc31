"""Cloning plumbing without training: checkpoints, duration trimming, validation split, LoRA targets,
consent and argument checks, the CLI parser and its progress bar."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ownvoice.engine.clone import checkpoint as ckpt
from ownvoice.engine.clone.dataset import split_validation, trim_durations
from ownvoice.errors import BadInput


def _adam_state() -> tuple[dict[str, torch.Tensor], dict]:
    params = {
        "style": torch.nn.Parameter(torch.randn(256)),
        "lora_A": torch.nn.Parameter(torch.randn(8, 128)),
    }
    opt = torch.optim.Adam(params.values(), lr=0.01)
    (params["style"].square().sum() + params["lora_A"].sum()).backward()
    opt.step()
    return params, opt.state_dict()


def test_checkpoint_round_trip_restores_params_best_optimizer_and_state(tmp_path):
    params, opt_state = _adam_state()
    best = {"decoder/style": torch.arange(128.0)}
    state = {"key": "abc", "history": [[1, 2.5]], "bad": {"decoder": 1}}
    ckpt.save_checkpoint(tmp_path, ckpt.Checkpoint(7, params, best, opt_state, state))
    got = ckpt.load_checkpoint(tmp_path)
    assert got is not None and got.step == 7 and got.state == state
    assert torch.equal(got.params["style"], params["style"].detach())
    assert torch.equal(got.best["decoder/style"], best["decoder/style"])
    fresh = {k: torch.nn.Parameter(torch.zeros_like(v)) for k, v in params.items()}
    opt = torch.optim.Adam(fresh.values(), lr=0.01)
    opt.load_state_dict(got.optimizer)  # the flattened moments fit a fresh optimizer
    assert torch.equal(opt.state_dict()["state"][0]["exp_avg"], opt_state["state"][0]["exp_avg"])


def test_only_the_latest_checkpoint_file_is_kept(tmp_path):
    params, opt_state = _adam_state()
    for step in (2, 4, 6):
        ckpt.save_checkpoint(tmp_path, ckpt.Checkpoint(step, params, {}, opt_state, {}))
    assert [p.name for p in tmp_path.glob("ckpt-*.safetensors")] == ["ckpt-0000006.safetensors"]
    assert ckpt.load_checkpoint(tmp_path).step == 6


def test_damaged_or_missing_checkpoint_is_ignored_not_trusted(tmp_path):
    assert ckpt.load_checkpoint(tmp_path) is None
    params, opt_state = _adam_state()
    path = ckpt.save_checkpoint(tmp_path, ckpt.Checkpoint(3, params, {}, opt_state, {}))
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    assert ckpt.load_checkpoint(tmp_path) is None  # sha256 mismatch
    (tmp_path / ckpt.INDEX).write_text("{not json")
    assert ckpt.load_checkpoint(tmp_path) is None


def test_trim_durations_removes_padding_from_both_ends():
    d = np.array([12, 3, 2, 4, 9, 11])
    out = trim_durations(d, 10, 10)
    assert out.tolist() == [2, 3, 2, 4, 9, 1]
    assert out.sum() == d.sum() - 20
    # padding longer than the boundary token eats into the first phoneme (an alignment error)
    assert trim_durations(np.array([5, 8, 3, 12]), 10, 10).tolist() == [0, 3, 3, 2]


def test_validation_split_holds_out_a_spread_of_segments():
    assert split_validation(2) == [0] or split_validation(2) == [1]
    held = split_validation(20)
    assert len(held) in (2, 3) and len(set(held)) == len(held) and max(held) < 20
    assert max(held) - min(held) >= 7  # spread over the recordings, not the first few
    with pytest.raises(BadInput, match="at least 2"):
        split_validation(1)


def test_lora_targets_are_style_projections_and_never_dilated_convs():
    from ownvoice.engine.clone.lora import target_modules
    from ownvoice.engine.kokoro.model import KokoroModel

    with torch.device("meta"):  # structure only: no weights needed
        model = KokoroModel()
    names = target_modules(model)
    assert len(names) == 74 and sum(n.endswith(".fc") for n in names) == 73
    assert "predictor.duration_proj" in names
    assert all(n.startswith(("predictor.", "decoder.")) for n in names)
    with_convs = target_modules(model, convs=True)
    modules = dict(model.named_modules())
    convs = [n for n in with_convs if isinstance(modules[n], torch.nn.Conv1d)]
    assert convs and all(modules[n].dilation == (1,) for n in convs)
    assert not any(".convs1." in n for n in with_convs)


def test_lora_strength_scales_the_merged_change_for_peft_and_the_fast_merge(tmp_path):
    from peft import PeftModel, get_peft_model

    from ownvoice.engine.clone.lora import lora_config, merged_weights, save_adapter, set_strength

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Conv1d(4, 4, 3))
    base = {k: v.clone() for k, v in net.state_dict().items()}
    peft_model = get_peft_model(net, lora_config(["0", "1"], rank=2))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_()
    folder = save_adapter(peft_model, tmp_path / "lora")
    full = merged_weights(folder, lambda m: base[f"{m}.weight"].numpy())
    assert set_strength(folder, 0.5) == 8.0  # lora_alpha 16 → 8
    half = merged_weights(folder, lambda m: base[f"{m}.weight"].numpy())
    for m in ("0", "1"):
        b = base[f"{m}.weight"].numpy()
        assert np.allclose(half[m] - b, 0.5 * (full[m] - b), atol=1e-6)
    fresh = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Conv1d(4, 4, 3))
    fresh.load_state_dict(base)
    merged = PeftModel.from_pretrained(fresh, str(folder)).merge_and_unload()  # peft reads it too
    assert np.allclose(merged.state_dict()["0.weight"].numpy(), half["0"], atol=1e-6)
    with pytest.raises(BadInput):
        set_strength(folder, 0.0)


def test_training_refuses_without_consent(tmp_path):
    from ownvoice.config import load_config
    from ownvoice.engine.clone import train_voice
    from ownvoice.voice_store import VoiceStore

    store = VoiceStore(tmp_path / "voices")
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    for consent in (None, "", "   "):
        with pytest.raises(BadInput, match="consent"):
            train_voice(store, "me", [wav], "en", consent, config=load_config())
    assert not list((tmp_path / "voices").glob("*-*"))  # nothing stored, nothing started


def test_training_checks_its_arguments_before_any_work(tmp_path):
    from ownvoice.config import load_config
    from ownvoice.engine.clone import train_voice
    from ownvoice.voice_store import VoiceStore

    store, cfg = VoiceStore(tmp_path / "voices"), load_config()
    ok = {"consent": "I agree.", "config": cfg}
    with pytest.raises(BadInput, match="language"):
        train_voice(store, "me", [tmp_path / "a.wav"], "fr", **ok)
    with pytest.raises(BadInput, match="no recordings"):
        train_voice(store, "me", [], "en", **ok)
    with pytest.raises(BadInput, match="max_minutes"):
        train_voice(store, "me", [tmp_path / "a.wav"], "en", max_minutes=0, **ok)
    with pytest.raises(BadInput, match="name"):
        train_voice(store, "  ", [tmp_path / "a.wav"], "en", **ok)


def test_consent_setting_stands_in_for_the_argument(tmp_path, monkeypatch):
    """With the config's standing consent, the check passes and the run goes on to the inputs."""
    from ownvoice.config import load_config
    from ownvoice.engine.clone import pipeline
    from ownvoice.voice_store import VoiceStore

    cfg = load_config().with_values(consent="I am the speaker and agree.")
    monkeypatch.setattr(
        pipeline, "load_model", lambda: (_ for _ in ()).throw(RuntimeError("reached the model"))
    )
    with pytest.raises(RuntimeError, match="reached the model"):
        pipeline.train_voice(
            VoiceStore(tmp_path / "v"), "me", [tmp_path / "x.wav"], "en", config=cfg
        )


def test_cli_registers_voice_train_with_its_options():
    from ownvoice.cli import build_parser

    args = build_parser().parse_args(
        [
            "voice",
            "train",
            "Me",
            "a.wav",
            "b.flac",
            "--lang",
            "zh",
            "--no-lora",
            "--max-minutes",
            "3",
            "--consent",
            "I agree",
        ]
    )
    assert args.name == "Me" and [p.name for p in args.paths] == ["a.wav", "b.flac"]
    assert (
        args.lang == "zh"
        and args.lora is False
        and args.max_minutes == 3.0
        and args.consent == "I agree"
    )
    default = build_parser().parse_args(["voice", "train", "Me", "a.wav"])
    assert default.lora is True and default.strength is None  # None: TrainOptions' default
    assert build_parser().parse_args(["voice", "train", "Me", "a.wav", "--strength", "0.5"]).strength == 0.5
    assert default.denoise is None  # None: the train_denoise setting (off)


def test_cli_denoise_and_strength_reach_the_trainer_options(tmp_path, monkeypatch):
    import ownvoice.engine.clone as clone
    from ownvoice.cli import main
    from ownvoice.errors import BadInput

    monkeypatch.setenv("OWNVOICE_HOME", str(tmp_path / "home"))
    wav = tmp_path / "me.wav"
    wav.write_bytes(b"RIFF0000WAVE")
    seen = []

    def fake_train(*args, options=None, **kw):
        seen.append(options)
        raise BadInput("stop here")

    monkeypatch.setattr(clone, "train_voice", fake_train)
    for flags in ([], ["--denoise", "on", "--strength", "0.5"], ["--denoise", "auto"]):
        assert main(["voice", "train", "Me", str(wav), "--consent", "ok", *flags]) == 1
    assert [(o.denoise, o.lora_strength) for o in seen] == [(False, 0.75), (True, 0.5), (None, 0.75)]
    (tmp_path / "home" / "config").mkdir(parents=True, exist_ok=True)
    (tmp_path / "home" / "config" / "config.toml").write_text('train_denoise = "auto"\n')
    for flags in ([], ["--denoise", "off"]):  # the setting is the default; the flag wins
        assert main(["voice", "train", "Me", str(wav), "--consent", "ok", *flags]) == 1
    assert [o.denoise for o in seen[3:]] == [None, False]


def test_cli_without_consent_fails_with_a_clear_message(tmp_path, capsys):
    from ownvoice.cli import main

    wav = tmp_path / "me.wav"
    wav.write_bytes(b"RIFF0000WAVE")
    assert main(["voice", "train", "Me", str(wav)]) == 1
    err = capsys.readouterr().err
    assert "consent" in err and "Traceback" not in err


def test_cli_expands_folders_and_rejects_missing_paths(tmp_path):
    from ownvoice.commands.train import expand_paths

    (tmp_path / "b.wav").write_bytes(b"x")
    (tmp_path / "a.flac").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in expand_paths([tmp_path])] == ["a.flac", "b.wav"]
    with pytest.raises(BadInput, match="no such file"):
        expand_paths([tmp_path / "missing.wav"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInput, match="no audio files"):
        expand_paths([empty])


def test_progress_bar_writes_phases_and_training_lines():
    from ownvoice.commands.train import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(out)
    bar({"phase": "prepare", "message": "preparing a.wav", "step": 0, "total": 0})
    bar(
        {
            "phase": "train",
            "message": "step 5",
            "step": 5,
            "total": 20,
            "loss": 3.25,
            "val_loss": 3.5,
            "eta_s": 75,
        }
    )
    bar({"phase": "done", "message": "voice ready", "step": 20, "total": 20})
    text = out.getvalue()
    assert "prepare: preparing a.wav" in text
    assert "5/20" in text and "loss 3.250" in text and "ETA 1:15" in text
    assert "voice ready" in text


def test_public_api_is_lazy_and_complete():
    from ownvoice.engine import clone

    assert set(clone.__all__) == {"TrainOptions", "apply_adapter", "train_voice"}
    assert callable(clone.train_voice) and callable(clone.apply_adapter)
    assert clone.TrainOptions().rank == 8
    json.dumps(clone.TrainOptions().__dict__)  # the options are plain values (they go into reports)
    assert Path(clone.__file__).name == "__init__.py"


def test_initial_voice_candidates_follow_the_speakers_register():
    from ownvoice.engine.clone.style_init import candidates, register_of

    names = ["jf_alpha", "jf_nezumi", "jm_kumo", "jf_tebukuro"]
    assert register_of(98.0) == "m" and register_of(210.0) == "f" and register_of(0.0) is None
    assert candidates(names, "m") == ["jm_kumo"]
    assert candidates(names, "f") == ["jf_alpha", "jf_nezumi", "jf_tebukuro"]
    assert candidates(names, None) == sorted(names)  # unvoiced recordings: every voice competes
