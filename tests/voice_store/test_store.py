import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownvoice.errors import BadInput, Conflict, NotFound, TooLarge
from ownvoice.voice_store import BuiltinVoices, VoiceStore
from ownvoice.voice_store import archive as archive_mod
from ownvoice.voice_store.schema import ID_RE

REPO = Path(__file__).resolve().parents[2]


def _style(seed=0, n=1):
    return np.random.default_rng(seed).standard_normal((n, 256)).astype(np.float32)


def _make(store, name="Me", seed=0, **kw):
    return store.create(name, languages=["en"], consent="I am the speaker and I agree.",
                        style=_style(seed), embedding=np.ones(256, np.float32) / 16, **kw)


@pytest.fixture
def store(tmp_path):
    return VoiceStore(tmp_path / "voices")


def test_create_get_round_trip(store):
    v = _make(store, "Anna")
    got = store.get(v.id)
    assert got.name == "Anna" and got.version == 1
    np.testing.assert_array_equal(got.style(), _style(0))
    assert got.embedding().shape == (256,)
    assert got.meta["consent"]["statement"].startswith("I am the speaker")
    assert set(got.meta["files"]) == {"style.safetensors", "embedding.safetensors"}


def test_update_writes_new_version_and_keeps_tensors(store):
    v = _make(store)
    v2 = store.update(v.id, metrics={"similarity": 0.8})
    assert v2.version == 2 and v2.metrics if hasattr(v2, "metrics") else v2.meta["metrics"]
    np.testing.assert_array_equal(store.get(v.id).style(), _style(0))
    v3 = store.update(v.id, style=_style(1))
    assert v3.version == 3
    np.testing.assert_array_equal(store.get(v.id).style(), _style(1))
    # only the current and previous versions are kept
    kept = sorted(p.name for p in (store.root / v.id).iterdir() if p.name.startswith("v"))
    assert kept == ["v000002", "v000003"]


def test_rename_keeps_id_and_delete_removes(store):
    v = _make(store, "Old")
    assert store.rename(v.id, "New").id == v.id
    assert store.find("new").id == v.id
    store.delete(v.id)
    with pytest.raises(NotFound):
        store.get(v.id)
    assert not any(p.name.startswith(".deleted") for p in store.root.iterdir())


def test_lora_adapter_folder_is_stored(store, tmp_path):
    lora = tmp_path / "adapter"
    lora.mkdir()
    (lora / "adapter_config.json").write_text("{}")
    (lora / "adapter_model.safetensors").write_bytes(b"x")
    (lora / "notes.pkl").write_bytes(b"never copied")
    v = _make(store, lora_dir=lora)
    assert sorted(p.name for p in v.lora_dir().iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]


def test_consent_is_required(store):
    with pytest.raises(BadInput, match="consent"):
        store.create("X", languages=["en"], consent="  ", style=_style())


def test_unknown_and_pathlike_ids_are_refused(store):
    with pytest.raises(NotFound):
        store.get("nobody-123456")
    for bad in ("../etc", "a/b", "", ".hidden", "A" * 200, "x\x00y"):
        with pytest.raises(BadInput):
            store.get(bad)


def test_builtin_voices_are_listed_and_read_only(tmp_path):
    store = VoiceStore(tmp_path / "v", BuiltinVoices())
    ids = [v.id for v in store.list()]
    assert {"jf_alpha", "jm_kumo"} <= set(ids)
    kumo = store.get("jm_kumo")
    assert kumo.builtin and kumo.style().shape == (510, 256)
    assert "Apache-2.0" in kumo.meta["licence"]
    with pytest.raises(Conflict):
        store.delete("jm_kumo")
    with pytest.raises(Conflict):
        store.rename("jm_kumo", "mine now")
    assert store.get("default").id in ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(
    st.text(min_size=0, max_size=300),
    st.sampled_from(["../x", "..", "/etc/passwd", "😀🎙️", "名前", "a" * 300, "", "  ", "con", "x\ny"]),
))
def test_any_name_gives_a_safe_id_or_a_clear_error(tmp_path_factory, name):
    store = VoiceStore(tmp_path_factory.mktemp("h"))
    try:
        v = _make(store, name)
    except BadInput as e:
        assert str(e)
        return
    assert ID_RE.match(v.id)
    assert (store.root / v.id).resolve().parent == store.root.resolve()
    assert store.get(v.id).name == name.strip() or store.get(v.id).name  # NFC-normalized


def test_export_import_round_trip(store, tmp_path):
    v = _make(store, "Travel")
    path = store.export(v.id, tmp_path)
    other = VoiceStore(tmp_path / "other")
    w = other.import_(path)
    assert w.name == "Travel" and w.id != "" and w.version == 1
    np.testing.assert_array_equal(w.style(), v.style())
    assert w.meta["consent"] == v.meta["consent"]


def _zip(path, members, *, symlink=None, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return path


def _good_members(store, tmp_path):
    v = _make(store, "Src")
    path = store.export(v.id, tmp_path / "good.zip")
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize("attack", [
    "traversal", "absolute", "symlink", "unknown_member", "bad_version", "zip_bomb",
    "not_zip", "missing_style", "bad_json", "checksum", "too_many",
])
def test_malicious_archives_are_refused_and_store_unchanged(store, tmp_path, attack):
    members = _good_members(store, tmp_path)
    before = sorted(p.name for p in store.root.iterdir())
    path = tmp_path / f"{attack}.zip"
    if attack == "traversal":
        _zip(path, {**members, "../evil.safetensors": b"x"})
    elif attack == "absolute":
        _zip(path, {**members, "/tmp/evil.safetensors": b"x"})
    elif attack == "symlink":
        _zip(path, members, symlink="lora/adapter_model.safetensors")
    elif attack == "unknown_member":
        _zip(path, {**members, "run.py": b"import os"})
    elif attack == "bad_version":
        meta = json.loads(members["voice.json"])
        meta["format_version"] = 99
        _zip(path, {**members, "voice.json": json.dumps(meta)})
    elif attack == "zip_bomb":
        _zip(path, {**members, "extra.safetensors": b"\0" * (20 << 20)})
    elif attack == "not_zip":
        path.write_bytes(b"this is not a zip file at all")
    elif attack == "missing_style":
        _zip(path, {k: v for k, v in members.items() if k != "style.safetensors"})
    elif attack == "bad_json":
        _zip(path, {**members, "voice.json": b"{not json"})
    elif attack == "checksum":
        _zip(path, {**members, "style.safetensors": members["style.safetensors"][:-4] + b"abcd"})
    elif attack == "too_many":
        _zip(path, {**members, **{f"x{i}.safetensors".replace("0", "o"): b"" for i in range(40)}})
    with pytest.raises(BadInput) as e:
        store.import_(path)
    assert str(e.value)
    assert sorted(p.name for p in store.root.iterdir()) == before


def test_oversized_archive_is_refused(store, tmp_path, monkeypatch):
    monkeypatch.setattr(archive_mod, "MAX_ARCHIVE_BYTES", 100)
    members = _good_members(store, tmp_path)
    path = _zip(tmp_path / "big.zip", members)
    with pytest.raises(TooLarge):
        store.import_(path)


_WRITER = """
import sys, numpy as np
from pathlib import Path
from ownvoice.voice_store import VoiceStore
store = VoiceStore(Path(sys.argv[1]))
tag, n = sys.argv[2], int(sys.argv[3])
ids = []
for i in range(n):
    v = store.create(f"{tag}-{i}", languages=["en"], consent="ok",
                     style=np.full((1, 256), i, np.float32))
    store.update(v.id, metrics={"i": i})
    ids.append(v.id)
print(" ".join(ids))
"""


def test_two_processes_writing_concurrently_lose_nothing(tmp_path):
    root = tmp_path / "voices"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(root), tag, "8"],
                              stdout=subprocess.PIPE, text=True) for tag in ("a", "b")]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    store = VoiceStore(root)
    voices = {v.id: v for v in store.list()}
    assert set(voices) == set(outs[0]) | set(outs[1]) and len(voices) == 16
    for v in voices.values():
        assert v.version == 2
        i = v.meta["metrics"]["i"]
        assert float(v.style()[0, 0]) == i


_KILLED = """
import sys, numpy as np, os
from pathlib import Path
from ownvoice.voice_store import VoiceStore
store = VoiceStore(Path(sys.argv[1]))
vid = sys.argv[2]
print("ready", flush=True)
i = 0
while True:
    i += 1
    store.update(vid, style=np.full((510, 256), i, np.float32), metrics={"i": i})
"""


def test_sigkill_during_saves_leaves_old_or_new_voice(tmp_path):
    root = tmp_path / "voices"
    store = VoiceStore(root)
    v = store.create("Crashy", languages=["en"], consent="ok", style=np.zeros((510, 256), np.float32))
    for delay in (0.05, 0.2, 0.35, 0.5, 0.8):
        p = subprocess.Popen([sys.executable, "-c", _KILLED, str(root), v.id], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        store.recover()
        got = VoiceStore(root).get(v.id)
        style = got.style()
        assert style.shape == (510, 256)
        # a consistent version: tensors match the metadata written with them
        i = got.meta["metrics"].get("i", 0)
        assert np.all(style == i)
