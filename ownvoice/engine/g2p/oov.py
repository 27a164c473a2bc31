"""Pronunciations for English words the lexicon lacks, so that no word is silently dropped.

Order: acronyms are spelled letter by letter; then espeak-ng (GPL, only when the optional extra
``ownvoice[espeak]`` is installed); otherwise the word is covered by the fewest known sub-words
("ownvoice" → own + voice) with simple letter-to-sound rules for the spans in between.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

_LOGGER = logging.getLogger(__name__)

PRIMARY, SECONDARY = "ˈ", "ˌ"
_VOWELS = frozenset("aeiouy")
_MAX_WORD = 40  # longer "words" are cut into pieces of this size before the quadratic search

# Letter-to-sound rules, longest match first: (graphemes, phonemes). Vowel rules carry a flag for
# whether they can take stress. Phonemes use misaki's US set (A=eɪ, I=aɪ, O=oʊ, W=aʊ, Y=ɔɪ).
_RULES: list[tuple[str, str]] = sorted(
    [
        ("tion", "ʃən"),
        ("sion", "ʒən"),
        ("ture", "ʧəɹ"),
        ("cial", "ʃəl"),
        ("tial", "ʃəl"),
        ("ious", "iəs"),
        ("eous", "iəs"),
        ("ough", "O"),
        ("augh", "ɔ"),
        ("eigh", "A"),
        ("igh", "I"),
        ("tch", "ʧ"),
        ("sch", "sk"),
        ("dge", "ʤ"),
        ("que", "k"),
        ("ous", "əs"),
        ("ch", "ʧ"),
        ("sh", "ʃ"),
        ("th", "θ"),
        ("ph", "f"),
        ("gh", "ɡ"),
        ("ck", "k"),
        ("ng", "ŋ"),
        ("nk", "ŋk"),
        ("qu", "kw"),
        ("wh", "w"),
        ("wr", "ɹ"),
        ("kn", "n"),
        ("gn", "n"),
        ("ps", "ps"),
        ("ee", "i"),
        ("ea", "i"),
        ("oo", "u"),
        ("ou", "W"),
        ("ow", "O"),
        ("oi", "Y"),
        ("oy", "Y"),
        ("ai", "A"),
        ("ay", "A"),
        ("ei", "A"),
        ("ey", "A"),
        ("au", "ɔ"),
        ("aw", "ɔ"),
        ("oa", "O"),
        ("ie", "i"),
        ("ue", "u"),
        ("ew", "u"),
        ("ar", "ɑɹ"),
        ("er", "əɹ"),
        ("ir", "ɜɹ"),
        ("ur", "ɜɹ"),
        ("or", "ɔɹ"),
        ("ll", "l"),
        ("ss", "s"),
        ("ff", "f"),
        ("tt", "t"),
        ("pp", "p"),
        ("mm", "m"),
        ("nn", "n"),
        ("rr", "ɹ"),
        ("bb", "b"),
        ("dd", "d"),
        ("gg", "ɡ"),
        ("zz", "z"),
        ("zh", "ʒ"),
        ("kh", "k"),
        ("dj", "ʤ"),
        ("a", "æ"),
        ("b", "b"),
        ("c", "k"),
        ("d", "d"),
        ("e", "ɛ"),
        ("f", "f"),
        ("g", "ɡ"),
        ("h", "h"),
        ("i", "ɪ"),
        ("j", "ʤ"),
        ("k", "k"),
        ("l", "l"),
        ("m", "m"),
        ("n", "n"),
        ("o", "ɑ"),
        ("p", "p"),
        ("q", "k"),
        ("r", "ɹ"),
        ("s", "s"),
        ("t", "t"),
        ("u", "ʌ"),
        ("v", "v"),
        ("w", "w"),
        ("x", "ks"),
        ("y", "i"),
        ("z", "z"),
    ],
    key=lambda r: -len(r[0]),
)
_LONG = {"a": "A", "e": "i", "i": "I", "o": "O", "u": "u", "y": "I"}
_REDUCED = {"æ": "ə", "ɛ": "ə", "ɑ": "ə", "ʌ": "ə"}
_VOWEL_PHONES = frozenset("æɛɪɑʌəiuAIOWYɔɜ")


def letter_to_sound(word: str) -> str:
    """Rough English spelling-to-sound for one lowercase word (stress on the first vowel)."""
    w = word.lower()
    out: list[str] = []
    i = 0
    n = len(w)
    while i < n:
        ch = w[i]
        nxt = w[i + 1] if i + 1 < n else ""
        if ch == "e" and i == n - 1 and n > 2 and out:
            break  # silent final e
        if ch in "cg" and nxt in ("e", "i", "y"):
            out.append("s" if ch == "c" else "ʤ")
            i += 1
            continue
        if ch == "y" and i == 0:
            out.append("j")
            i += 1
            continue
        if ch == "x" and i == 0:
            out.append("z")
            i += 1
            continue
        if ch == "l" and nxt == "e" and i + 2 == n and i > 0 and w[i - 1] not in _VOWELS:
            out.append("əl")
            break
        # magic e: vowel + one consonant + final e → long vowel
        if ch in _LONG and i + 2 == n - 1 and w[-1] == "e" and w[i + 1] not in _VOWELS and n > 3:
            out.append(_LONG[ch])
            i += 1
            continue
        for graph, phon in _RULES:
            if w.startswith(graph, i):
                out.append(phon)
                i += len(graph)
                break
        else:
            i += 1  # not a letter: nothing to say
    return _stress(out)


def _stress(units: list[str]) -> str:
    """Primary stress before the first vowel unit; later short vowels reduce to schwa."""
    result: list[str] = []
    stressed = False
    for unit in units:
        if unit and unit[0] in _VOWEL_PHONES:
            if not stressed:
                result.append(PRIMARY + unit)
                stressed = True
                continue
            unit = _REDUCED.get(unit, unit)
        result.append(unit)
    return "".join(result)


def _demote(ps: str) -> str:
    """Keep the first primary stress of a compound, make the others secondary."""
    first = ps.find(PRIMARY)
    if first < 0:
        return ps
    return ps[: first + 1] + ps[first + 1 :].replace(PRIMARY, SECONDARY)


class BuiltinFallback:
    """Callable for misaki's ``fallback=`` hook: (MToken) → (phonemes, rating)."""

    def __init__(self, lexicon: Any) -> None:
        self.lexicon = lexicon
        self._espeak: Any = None
        self._espeak_checked = False
        self._lock = threading.Lock()

    def _lookup(self, piece: str) -> str | None:
        for table in (self.lexicon.golds, self.lexicon.silvers):
            ps = table.get(piece)
            if isinstance(ps, dict):
                ps = ps.get("DEFAULT")
            if isinstance(ps, str) and ps:
                return ps
        return None

    def _espeak_fallback(self) -> Any:
        """misaki's espeak fallback when the GPL extra is installed, else None (checked once)."""
        with self._lock:
            if not self._espeak_checked:
                self._espeak_checked = True
                try:
                    from misaki import espeak  # imports phonemizer + espeakng_loader lazily

                    self._espeak = espeak.EspeakFallback(british=False)
                    _LOGGER.info("espeak-ng found: used for out-of-vocabulary English words")
                except (ImportError, OSError, RuntimeError) as e:  # missing or broken install
                    _LOGGER.debug("espeak-ng fallback unavailable (%s); using built-in rules", e)
            return self._espeak

    def spell(self, word: str) -> str | None:
        """Letter names, e.g. "GPU" → "ʤˌipˌiˈju"."""
        letters = [c for c in word if c.isalpha() and c.isascii()]
        if not letters:
            return None
        ps, _ = self.lexicon.get_NNP("".join(letters))
        return ps

    def compose(self, word: str) -> str:
        """Cover ``word`` with known sub-words (≥3 letters) and letter-to-sound for the gaps."""
        w = word.lower()
        if len(w) > _MAX_WORD:
            return _demote(
                "".join(self.compose(w[i : i + _MAX_WORD]) for i in range(0, len(w), _MAX_WORD))
            )
        n = len(w)
        inf = float("inf")
        best: list[tuple[float, int, str]] = [(0.0, -1, "")] + [(inf, -1, "")] * n
        for end in range(1, n + 1):
            for start in range(end):
                if best[start][0] == inf:
                    continue
                piece = w[start:end]
                ps = self._lookup(piece) if len(piece) >= 3 else None
                if ps is not None:
                    cost = 1.0 + (0.3 if len(piece) == 3 else 0.0)
                    kind = "lex"
                else:
                    cost = 0.8 + 0.55 * len(piece)
                    kind = "lts"
                total = best[start][0] + cost
                if total < best[end][0]:
                    best[end] = (total, start, kind)
        pieces: list[str] = []
        end = n
        while end > 0:
            _, start, kind = best[end]
            piece = w[start:end]
            pieces.append(self._lookup(piece) if kind == "lex" else letter_to_sound(piece))
            end = start
        return _demote("".join(reversed([p or "" for p in pieces])))

    def word(self, text: str) -> str | None:
        """Phonemes for one out-of-vocabulary token (may include an 's or hyphens)."""
        core = re.sub(r"[^A-Za-z'\-]", "", text)
        suffix = ""
        if core.lower().endswith("'s"):
            core, suffix = core[:-2], "z"
        elif core.endswith("'"):
            core = core[:-1]
        parts = [p for p in re.split(r"[-']", core) if p]
        if not parts:
            return None
        out = []
        for part in parts:
            known = self._lookup(part) or self._lookup(part.lower())
            if known is not None:
                out.append(known)
                continue
            vowels = sum(c in "aeiouyAEIOUY" for c in part)
            if (part.isupper() and len(part) <= 5) or vowels == 0 or len(part) == 1:
                out.append(self.spell(part) or "")
                continue
            espeak = self._espeak_fallback()
            if espeak is not None:
                try:
                    from misaki.token import MToken

                    ps, _ = espeak(MToken(text=part, tag="NN", whitespace=""))
                    if ps:
                        out.append(ps)
                        continue
                except (OSError, RuntimeError, ValueError) as e:  # pragma: no cover - optional
                    _LOGGER.debug("espeak failed on %r: %s", part, e)
            out.append(self.compose(part))
        ps = " ".join(p for p in out if p)
        if ps and suffix:  # possessive 's sounds like the plural: cats, dogs, horses
            ps += "s" if ps[-1] in "ptkfθ" else ("ᵻz" if ps[-1] in "szʃʒʧʤ" else suffix)
        return ps or None

    def __call__(self, token: Any) -> tuple[str | None, int | None]:
        text = getattr(token, "text", str(token))
        ps = self.word(text)
        if ps:
            _LOGGER.debug("out-of-vocabulary word %r read as /%s/", text, ps)
            return ps, 1
        _LOGGER.debug("no pronunciation for %r", text)
        return None, None
