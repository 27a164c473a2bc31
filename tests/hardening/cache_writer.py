"""Child process for the cache fault test: writes sentence audio into an ``AudioCache`` forever.

Entry i holds ``entry_samples(i)`` under ``entry_key(i)``; the parent SIGKILLs this process at a
random moment and then checks that every entry on disk is whole and holds exactly its samples.
Usage: ``python cache_writer.py CACHE_DIR START``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

RATE = 24000  # Hz


def entry_key(i: int) -> str:
    from ownvoice.notes.cache import cache_key

    return cache_key(f"sentence {i}", "en", "voice", 1, "test", 1.0)


def entry_samples(i: int) -> np.ndarray:
    """Deterministic, different for every entry, 0.2-1.2 s long."""
    n = RATE // 5 + (i * 7919) % RATE
    t = np.arange(n, dtype=np.float32) / RATE
    return (0.2 * np.sin(2 * np.pi * (100 + i % 400) * t)).astype(np.float32)


def main() -> int:
    from ownvoice.notes.cache import AudioCache

    cache = AudioCache(Path(sys.argv[1]), max_bytes=1 << 30)
    i = int(sys.argv[2])
    while True:
        cache.put(entry_key(i), entry_samples(i), RATE)
        print(i, flush=True)
        i += 1


if __name__ == "__main__":
    sys.exit(main())
