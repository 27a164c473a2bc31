"""The sentence audio cache: lossless round trip, LRU cap, and no torn reads under concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ownvoice.errors import BadInput
from ownvoice.notes.cache import AudioCache, cache_key

REPO = Path(__file__).resolve().parents[2]


def _key(i: int) -> str:
    return cache_key(f"sentence {i}", "en", "voice", 1, "engine-1", 1.0)


def test_round_trip_is_lossless_and_keeps_the_sample_rate(tmp_path):
    cache = AudioCache(tmp_path, 10_000_000)
    audio = np.random.default_rng(0).uniform(-1, 1, 12345).astype(np.float32)
    cache.put(_key(1), audio, 22050)
    got, rate = cache.get_with_rate(_key(1))
    assert rate == 22050 and got.dtype == np.float32 and np.array_equal(got, audio)
    assert np.array_equal(cache.get(_key(1)), audio)
    assert cache.path_for(_key(1)).relative_to(tmp_path).parts[0] == _key(1)[:2]


def test_empty_and_column_audio_are_stored_as_mono(tmp_path):
    cache = AudioCache(tmp_path, 10_000_000)
    cache.put(_key(1), np.zeros(0, dtype=np.float32), 24000)
    assert cache.get(_key(1)).shape == (0,)
    cache.put(_key(2), np.ones((10, 1), dtype=np.float32) * 0.5, 24000)
    assert cache.get(_key(2)).shape == (10,)


def test_cache_key_changes_with_every_input():
    base = ("Hello.", "en", "v", 1, "e1", 1.0)
    keys = {cache_key(*base)}
    for i, other in enumerate(["Hello!", "zh", "w", 2, "e2", 1.25]):
        args = list(base)
        args[i] = other
        keys.add(cache_key(*args))
    assert len(keys) == 7 and all(len(k) == 64 for k in keys)
    assert cache_key(*base) == cache_key(*base)


def test_miss_bad_key_and_bad_audio(tmp_path):
    cache = AudioCache(tmp_path, 10_000_000)
    assert cache.get(_key(9)) is None
    with pytest.raises(BadInput):
        cache.get("../../etc/passwd")
    with pytest.raises(BadInput, match="NaN"):
        cache.put(_key(1), np.array([0.0, np.nan], dtype=np.float32), 24000)
    with pytest.raises(BadInput, match="mono"):
        cache.put(_key(1), np.zeros((2, 100), dtype=np.float32), 24000)
    with pytest.raises(BadInput):
        AudioCache(tmp_path, 0)


def test_unreadable_entry_is_a_miss_and_is_removed(tmp_path):
    cache = AudioCache(tmp_path, 10_000_000)
    path = cache.path_for(_key(1))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"RIFF garbage")
    assert cache.get(_key(1)) is None
    assert not path.exists()


def test_lru_evicts_the_least_recently_used_beyond_the_cap(tmp_path):
    audio = np.zeros(1000, dtype=np.float32)  # ~4 KB per entry
    cache = AudioCache(tmp_path, 4000 * 3 + 2000)  # room for three and a half
    for i in range(3):
        cache.put(_key(i), audio, 24000)
        time.sleep(0.02)
    assert cache.get(_key(0)) is not None  # 0 is now the most recently used
    time.sleep(0.02)
    cache.put(_key(3), audio, 24000)
    present = [i for i in range(4) if _key(i) in cache]
    assert present == [0, 2, 3]
    stats = cache.stats()
    assert stats["entries"] == 3 and stats["bytes"] <= cache.max_bytes and stats["evictions"] == 1


def test_stats_count_hits_misses_and_puts(tmp_path):
    cache = AudioCache(tmp_path, 10_000_000)
    cache.put(_key(1), np.ones(10, dtype=np.float32), 24000)
    cache.get(_key(1))
    cache.get(_key(2))
    s = cache.stats()
    assert (s["hits"], s["misses"], s["puts"], s["entries"]) == (1, 1, 1, 1)
    assert s["bytes"] == cache.path_for(_key(1)).stat().st_size


def _payload(i: int, version: int) -> np.ndarray:
    """A distinct, self-checking array: constant value, length tied to the value."""
    value = (i * 7 + version) % 97 / 100.0
    return np.full(2000 + 37 * ((i * 7 + version) % 97), value, dtype=np.float32)


def _valid(samples: np.ndarray) -> bool:
    if len(samples) == 0:
        return False
    v = samples[0]
    return bool(np.all(samples == v)) and len(samples) == 2000 + 37 * round(v * 100)


def test_threads_never_see_a_partial_entry_even_while_evicting(tmp_path, caplog):
    cache = AudioCache(tmp_path, 400_000)  # small cap: eviction runs during the test
    stop = threading.Event()
    bad: list[str] = []
    reads = [0]

    def writer(seed: int) -> None:
        version = seed
        while not stop.is_set():
            for i in range(30):
                cache.put(_key(i), _payload(i, version), 24000)
            version += 1

    def reader() -> None:
        while not stop.is_set():
            for i in range(30):
                got = cache.get(_key(i))
                if got is not None:
                    reads[0] += 1
                    if not _valid(got):
                        bad.append(f"entry {i}: {len(got)} samples")

    threads = [threading.Thread(target=writer, args=(s,)) for s in range(2)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join()
    assert not bad
    assert "unreadable" not in caplog.text  # no torn file was ever seen (and silently dropped)
    assert reads[0] > 50
    assert cache.stats()["bytes"] <= 400_000 + 30 * 20_000  # bounded (one writer round over)


_OTHER_PROCESS = r"""
import sys, time
import numpy as np
from ownvoice.notes.cache import AudioCache, cache_key
root, seconds = sys.argv[1], float(sys.argv[2])
cache = AudioCache(root, 400_000)
def key(i): return cache_key(f"sentence {i}", "en", "voice", 1, "engine-1", 1.0)
def payload(i, v):
    x = (i * 7 + v) % 97
    return np.full(2000 + 37 * x, x / 100.0, dtype=np.float32)
bad = reads = 0
v = 1000
end = time.time() + seconds
while time.time() < end:
    for i in range(30):
        cache.put(key(i), payload(i, v), 24000)
        got = cache.get(key((i * 11) % 30))
        if got is not None:
            reads += 1
            ok = len(got) > 0 and (got == got[0]).all() and len(got) == 2000 + 37 * int(round(got[0] * 100))
            bad += not ok
    v += 1
print(reads, bad)
sys.exit(1 if bad else 0)
"""


def test_two_processes_share_the_cache_without_torn_reads(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path), "2.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    cache = AudioCache(tmp_path, 400_000)
    bad = reads = 0
    version = 0
    end = time.time() + 2.5
    while time.time() < end:
        for i in range(30):
            got = cache.get(_key(i))
            if got is not None:
                reads += 1
                bad += not _valid(got)
            cache.put(_key((i * 13) % 30), _payload((i * 13) % 30, version), 24000)
        version += 1
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    other_reads, other_bad = map(int, out.split())
    assert bad == 0 and other_bad == 0
    assert reads > 20 and other_reads > 20
