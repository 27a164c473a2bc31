"""Per-sentence audio cache: content-addressed float WAV files with an LRU size cap.

Layout: ``<root>/<key[:2]>/<key>.wav`` (32-bit float WAV: lossless for the engine's float32 output,
sample rate in the header). Writes go through ``ownvoice.atomic`` (temp file, fsync, rename), so a
reader in any thread or process sees a whole file or none. A read "touches" the file's mtime, and
eviction deletes the least recently used files once the total passes ``max_bytes``; a reader that
loses the race to eviction simply misses (an open file stays readable after unlink on POSIX; on
other systems the read fails and counts as a miss).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .. import atomic
from ..errors import BadInput

_LOGGER = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when the key recipe or the file layout changes
_KEY = re.compile(r"[0-9a-f]{64}")
_LOW_WATER = 0.9  # evict down to 90 % of the cap so that every put does not trigger a scan
_STALE_TMP_S = 3600.0  # temp files of crashed writers older than this are removed by eviction


def cache_key(
    text: str,
    lang: str,
    voice_id: str,
    voice_version: str | int,
    engine_version: str,
    speed: float,
) -> str:
    """sha256 hex of everything that changes a sentence's audio."""
    payload = json.dumps(
        [
            CACHE_FORMAT,
            text,
            lang,
            str(voice_id),
            str(voice_version),
            str(engine_version),
            round(float(speed), 3),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AudioCache:
    """Sentence audio on disk, keyed by :func:`cache_key`, capped at ``max_bytes`` (LRU)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise BadInput("cache max_bytes must be a positive integer")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._evict_lock = threading.Lock()
        self._size: int | None = None  # bytes on disk as this process believes; rescanned on evict
        self.hits = self.misses = self.puts = self.evictions = 0

    # ---- paths --------------------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise BadInput("cache key must be 64 lower-case hex characters (see cache_key)")
        return self.root / key[:2] / f"{key}.wav"

    def __contains__(self, key: str) -> bool:
        return self.path_for(key).is_file()

    # ---- read ---------------------------------------------------------------------------------
    def get_with_rate(self, key: str) -> tuple[np.ndarray, int] | None:
        """``(samples, sample_rate)`` for ``key``, or None on a miss; a hit counts as a use (LRU)."""
        path = self.path_for(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (FileNotFoundError, IsADirectoryError):
            return self._miss()
        except OSError as e:  # e.g. removed by a concurrent eviction on a non-POSIX system
            _LOGGER.debug("cache read of %s failed: %s", path, e)
            return self._miss()
        try:
            samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
        except (sf.LibsndfileError, RuntimeError, ValueError) as e:
            _LOGGER.warning("dropping unreadable cache entry %s: %s", path, e)
            self._unlink(path)
            return self._miss()
        try:
            os.utime(path)  # LRU: mtime is the last use (atime is unreliable: noatime/relatime)
        except OSError:
            pass
        with self._lock:
            self.hits += 1
        return np.ascontiguousarray(samples.reshape(-1), dtype=np.float32), int(rate)

    def get(self, key: str) -> np.ndarray | None:
        """The samples for ``key`` or None (use :meth:`get_with_rate` to check the rate too)."""
        hit = self.get_with_rate(key)
        return None if hit is None else hit[0]

    def _miss(self) -> None:
        with self._lock:
            self.misses += 1

    # ---- write --------------------------------------------------------------------------------
    def put(self, key: str, samples: np.ndarray, sample_rate: int) -> None:
        """Store ``samples`` (mono) atomically; evicts least recently used entries over the cap."""
        path = self.path_for(key)
        audio = np.asarray(samples, dtype=np.float32)
        if audio.ndim != 1:
            audio = audio.reshape(-1) if 1 in audio.shape or audio.ndim == 0 else None
            if audio is None:
                raise BadInput("cache stores mono audio: samples must be one-dimensional")
        if not np.all(np.isfinite(audio)):
            raise BadInput("refusing to cache audio with NaN or infinite samples")
        if (
            isinstance(sample_rate, bool)
            or not isinstance(sample_rate, (int, np.integer))
            or not (1000 <= int(sample_rate) <= 384000)
        ):
            raise BadInput(f"bad sample rate {sample_rate!r}")
        buf = io.BytesIO()
        sf.write(buf, audio, int(sample_rate), format="WAV", subtype="FLOAT")
        data = buf.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            old = path.stat().st_size
        except OSError:
            old = 0
        atomic.write_bytes(path, data)
        with self._lock:
            self.puts += 1
            if self._size is not None:
                self._size += len(data) - old
            over = self._size is None or self._size > self.max_bytes
        if over:
            self.evict()

    # ---- eviction -----------------------------------------------------------------------------
    def _scan(self) -> list[tuple[int, int, Path]]:
        """(mtime_ns, size, path) of every entry; removes temp files left by crashed writers."""
        entries: list[tuple[int, int, Path]] = []
        now = time.time()
        try:
            subdirs = list(os.scandir(self.root))
        except FileNotFoundError:
            return entries
        for sub in subdirs:
            if not sub.is_dir(follow_symlinks=False) or len(sub.name) != 2:
                continue
            try:
                files = list(os.scandir(sub.path))
            except FileNotFoundError:
                continue
            for f in files:
                try:
                    st = f.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if f.name.startswith("."):
                    if f.name.endswith(".tmp") and now - st.st_mtime > _STALE_TMP_S:
                        self._unlink(Path(f.path))
                    continue
                if f.name.endswith(".wav"):
                    entries.append((st.st_mtime_ns, st.st_size, Path(f.path)))
        return entries

    def evict(self) -> int:
        """Delete least recently used entries until the total is under the cap; returns bytes freed."""
        if not self._evict_lock.acquire(blocking=False):
            return 0  # another thread is already evicting
        try:
            entries = self._scan()
            total = sum(e[1] for e in entries)
            freed = 0
            if total > self.max_bytes:
                target = int(self.max_bytes * _LOW_WATER)
                entries.sort(key=lambda e: e[0])
                for _, size, path in entries:
                    if total - freed <= target:
                        break
                    if self._unlink(path):
                        freed += size
                        with self._lock:
                            self.evictions += 1
            with self._lock:
                self._size = total - freed
            if freed:
                _LOGGER.info("audio cache: evicted %d bytes (cap %d)", freed, self.max_bytes)
            return freed
        finally:
            self._evict_lock.release()

    @staticmethod
    def _unlink(path: Path) -> bool:
        try:
            path.unlink()
            return True
        except FileNotFoundError:
            return False
        except OSError as e:
            _LOGGER.debug("could not remove %s: %s", path, e)
            return False

    def clear(self) -> None:
        """Remove every entry."""
        for _, _, path in self._scan():
            self._unlink(path)
        with self._lock:
            self._size = 0

    def stats(self) -> dict[str, Any]:
        """Entries and bytes on disk, the cap, and this process's hit/miss/put/eviction counts."""
        entries = self._scan()
        size = sum(e[1] for e in entries)
        with self._lock:
            self._size = size
            return {
                "root": str(self.root),
                "entries": len(entries),
                "bytes": size,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
                "puts": self.puts,
                "evictions": self.evictions,
            }
