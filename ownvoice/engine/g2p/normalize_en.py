"""English text normalization: numbers, dates, times, money, units, abbreviations, URLs → words.

The lexicon G2P only knows words; everything a person would read differently from its spelling
("$42.50", "2026-11-25", "5km", "e.g.", "me@example.org") is spelled out here first. All patterns
are linear (no nested quantifiers) and the caller caps the text length.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from . import numbers_en as nw
from .units_en import (
    ABBREVIATIONS,
    GREEK,
    MONTHS,
    SYMBOL_WORDS,
    UNITS,
    UNITS_STANDALONE,
    URL_SYMBOLS,
)

_LOGGER = logging.getLogger(__name__)

# Never starts inside a run of digits and every quantifier is bounded: with these two rules no
# pattern below can backtrack quadratically on a long run of digits. Longer runs are read digit
# by digit before any of them is tried (_LONG_DIGITS).
_NUM = r"(?<![\d])(?:\d{1,3}(?:,\d{3}){1,4}(?:\.\d{1,15})?|\d{1,15}(?:\.\d{1,15})?|\.\d{1,15})"
_LONG_DECIMAL = re.compile(r"(?<![\d.])(\d{0,15})\.(\d{16,})")
_LONG_DIGITS = re.compile(r"\d{16,}")
_TLDS = (
    "com|org|net|io|dev|ai|edu|gov|co|uk|de|fr|jp|cn|app|me|info|biz|us|eu|ca|au|ch|nl|se|tv|xyz"
)
_URL = re.compile(
    r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]{1,2000}"
    rf"|\b[a-z0-9][a-z0-9-]{{0,62}}(?:\.[a-z0-9-]{{1,63}}){{0,5}}\.(?:{_TLDS})\b(?:/[^\s<>\"'`]{{0,2000}})?"
)
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUM_DATE = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})\b")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s(\d{{4}})\b)?"
)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?({_MONTH_NAMES})\.?(?:,?\s(\d{{4}})\b)?"
)
_TIME = re.compile(
    r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?([AaPp])\.?[Mm](\.)?(?![A-Za-z]))?(?![\d:])"
)
_HOUR_AMPM = re.compile(r"\b(\d{1,2})\s?([AaPp])\.?[Mm]\b(\.)?")
_CURRENCY_SYMBOLS = "$€£¥￥₹₩₽₿"
_SCALE = r"(?:\s?(thousand|million|billion|trillion)\b|(k|K|M|mn|bn|B|tn|T)\b)"
_MONEY_PRE = re.compile(rf"(-)?([{_CURRENCY_SYMBOLS}])\s?({_NUM}){_SCALE}?")
_MONEY_POST = re.compile(rf"({_NUM})\s?([{_CURRENCY_SYMBOLS}]|\b(?:USD|EUR|GBP|JPY|CNY|RMB|CHF)\b)")
_PERCENT = re.compile(rf"(-)?({_NUM})\s?(%|‰|percent\b)")
_UNIT_NAMES = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_MEASURE = re.compile(rf"(-)?({_NUM})\s?({_UNIT_NAMES})(?![A-Za-z0-9])")
_FILE_EXTS = (
    "md|txt|py|js|ts|tsx|jsx|json|toml|yaml|yml|csv|tsv|pdf|png|jpe?g|gif|svg|wav|mp3|flac|ogg|"
    "m4a|mp4|html?|css|sh|cfg|ini|log|rs|go|cpp|hpp|java|rb|zip|tar|gz|docx?|xlsx?|pptx?|onnx|pt"
)
_FILENAME = re.compile(rf"(?i)\b[\w-]{{1,64}}(?:\.(?:{_FILE_EXTS})){{1,3}}\b(?!\.\w)")
_STANDALONE = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(re.escape(u) for u in UNITS_STANDALONE) + r")(?![A-Za-z0-9])"
)
_DECADE = re.compile(r"(?<![\d,.])'?(\d0|1\d{2}0|20\d0)s\b")
_ORDINAL = re.compile(r"(?<![\d,])(\d{1,3}(?:,\d{3}){1,4}|\d{1,15})(st|nd|rd|th)\b")
_FRACTION = re.compile(r"(?<![\d/.])(\d{1,3})/(\d{1,3})(?![\d/])")
_PHONE = re.compile(r"(?<![\d-])(?:\+?\d{1,3}[ -])?\(?\d{3}\)?[ -]\d{3}-\d{4}(?![\d-])")
_RANGE = re.compile(rf"(?<![\d.-])({_NUM})\s?[–—-]\s?({_NUM})(?![\d.])")
_VERSION = re.compile(r"(?<![\d.])\d{1,6}(?:\.\d{1,6}){2,6}(?![\d.])")
_NEGATIVE = re.compile(rf"(?<![\w.,])[-−]({_NUM})")
_PLUS_NUM = re.compile(rf"(?<![\w.,])\+({_NUM})")
_NUMBER = re.compile(_NUM)
_YEAR_CUE = re.compile(
    r"(?i)\b(?:in|since|by|from|until|till|to|of|year|circa|during|around|before|after)\s$"
)
_ROMAN_CUE = re.compile(
    r"\b(Chapter|Part|Volume|Vol\.|Book|Act|Phase|Section|Stage|Level|Season|Episode|Appendix|"
    r"Article|Title|Class|Type|World War|Super Bowl|Henry|Louis|Elizabeth|George|Charles|Edward|"
    r"Richard|William|James|John|Benedict|Pius|Leo|Gregory|Paul|Clement|Innocent|Philip|Frederick|"
    r"Peter|Catherine|Mary|Victoria|Alexander|Ramesses|Constantine|Napoleon|Ludwig|Gustav)\s"
    r"([IVX]{1,6})\b(?!\.\w)"
)
_REGNAL = re.compile(
    r"^(?:Chapter|Part|Volume|Vol\.|Book|Act|Phase|Section|Stage|Level|Season|"
    r"Episode|Appendix|Article|Title|Class|Type|World War|Super Bowl)$"
)
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_HASHTAG = re.compile(r"(?<![\w#])#(?=[A-Za-z])")
_HASH_NUM = re.compile(r"(?<![\w#])#\s?(?=\d)")
_SHARP = re.compile(r"\b([A-G])#")
_CPP = re.compile(r"\b([A-Za-z])\+\+")
_DASHES = re.compile(r"\s?-{2,3}\s?|\s-\s")
_SPACES = re.compile(r"\s+")
# CJK punctuation that ends up in an English run ("…去了Tokyo。") keeps its pause
_CJK_PUNCT = str.maketrans(
    {
        "。": ".",
        "、": ",",
        "「": "“",
        "」": "”",
        "『": "“",
        "』": "”",
        "【": "(",
        "】": ")",
        "・": " ",
    }
)
_MAX_TOKEN = 40  # characters; "pneumonoultramicroscopicsilicovolcanoconiosis" is 45 but rare
_LONG_TOKEN = re.compile(r"\S{41,}")


def _roman(s: str) -> int | None:
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for i, ch in enumerate(s):
        v = values[ch]
        total += -v if i + 1 < len(s) and values[s[i + 1]] > v else v
    # only canonical spellings (reject "IIII", "VV", "IIV"...)
    return total if 0 < total < 40 and _to_roman(total) == s else None


def _to_roman(n: int) -> str:
    out = ""
    for v, sym in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out, n = out + sym, n - v
    return out


def _roman_sub(m: re.Match) -> str:
    cue, numeral = m.group(1), m.group(2)
    n = _roman(numeral)
    if n is None or (numeral == "I" and not _REGNAL.match(cue)):
        return m.group(0)
    if _REGNAL.match(cue):
        return f"{cue} {nw.cardinal(n)}"
    return f"{cue} the {nw.ordinal(n)}"


def _speak_chars(piece: str) -> str:
    """Spoken form of one URL/email piece: words stay words, digits are read, symbols named."""
    out: list[str] = []
    for tok in re.findall(r"[A-Za-z]+|\d+|[^A-Za-z\d]", piece):
        if tok.isdigit():
            out.append(
                nw.cardinal(tok) if len(tok) <= 4 and not tok.startswith("0") else nw.digits(tok)
            )
        elif tok.isalpha():
            out.append(tok)
        else:
            out.append(URL_SYMBOLS.get(tok, ""))
    return " ".join(w for w in out if w)


def _url(m: re.Match) -> str:
    url = m.group(0)
    trail = ""
    while url and url[-1] in ".,;:!?)]}'\"":
        url, trail = url[:-1], url[-1] + trail
    body = re.sub(r"(?i)^(?:https?|ftp)://", "", url).rstrip("/")
    host, _, path = body.partition("/")
    host = re.sub(r"(?i)^www\.", "w w w.", host)
    spoken = _speak_chars(host)
    segments = [s for s in path.split("/") if s][:3]  # a long path is noise when spoken
    for seg in segments:
        spoken += " slash " + _speak_chars(seg.split("?")[0].split("#")[0])
    return f"{spoken}{trail}"


def _email(m: re.Match) -> str:
    user, _, domain = m.group(0).partition("@")
    return f"{_speak_chars(user)} at {_speak_chars(domain)}"


def _date_words(year: int, month: int, day: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{_MONTH_BY_NUMBER[month]} {nw.ordinal(day)}, {nw.year(year)}"


_MONTH_BY_NUMBER = {
    i + 1: n
    for i, n in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ]
    )
}


def _iso_date(m: re.Match) -> str:
    words = _date_words(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return words if words else m.group(0)


def _num_date(m: re.Match) -> str:
    a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
    year = int(y) if len(y) == 4 else (2000 + int(y) if int(y) < 50 else 1900 + int(y))
    # 25/11 can only be day-first; dotted dates are European; otherwise US month-first.
    day_first = a > 12 or (sep == "." and b <= 12)
    month, day = (b, a) if day_first else (a, b)
    words = _date_words(year, month, day)
    return words if words else m.group(0)


def _month_day(m: re.Match) -> str:
    month = MONTHS[m.group(1)]
    day = int(m.group(2))
    if not 1 <= day <= 31:
        return m.group(0)
    words = f"{month} {nw.ordinal(day)}"
    return f"{words}, {nw.year(int(m.group(3)))}" if m.group(3) else words


def _day_month(m: re.Match) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    words = f"the {nw.ordinal(day)} of {MONTHS[m.group(2)]}"
    return f"{words}, {nw.year(int(m.group(3)))}" if m.group(3) else words


def _clock(h: int, mi: int) -> str:
    if mi == 0:
        return nw.cardinal(h)
    return f"{nw.cardinal(h)} {'oh ' if mi < 10 else ''}{nw.cardinal(mi)}"


def _time(m: re.Match) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    sec = int(m.group(3)) if m.group(3) else None
    ampm = m.group(4)
    if h > 24 or mi > 59 or (sec is not None and sec > 59) or (ampm and not 1 <= h <= 12):
        return m.group(0)
    if ampm:
        words = f"{_clock(h, mi)} {ampm.upper()}M"
    elif mi == 0:
        words = f"{nw.cardinal(h)} o'clock" if h <= 12 else f"{nw.cardinal(h)} hundred"
    else:
        words = f"{'oh ' if m.group(1).startswith('0') and h else ''}{_clock(h, mi)}"
    if sec:
        words += f" and {nw.cardinal(sec)} second{'s' if sec != 1 else ''}"
    return words + _kept_period(m, 5 if ampm else 0)


def _kept_period(m: re.Match, group: int) -> str:
    """The period of "p.m." doubles as a full stop when a sentence ends there."""
    if not group or not m.group(group):
        return ""
    rest = m.string[m.end() :]
    return "." if not rest.strip() or re.match(r"\s+[A-Z]", rest) else ""


def _hour_ampm(m: re.Match) -> str:
    h = int(m.group(1))
    if not 1 <= h <= 12:
        return m.group(0)
    return f"{nw.cardinal(h)} {m.group(2).upper()}M" + _kept_period(m, 3)


def _money_pre(m: re.Match) -> str:
    scale = m.group(4) or m.group(5)
    amount = ("-" if m.group(1) else "") + m.group(3)
    return nw.money(amount, m.group(2), scale)


def _money_post(m: re.Match) -> str:
    return nw.money(m.group(1), m.group(2))


def _percent(m: re.Match) -> str:
    word = "per mille" if m.group(3) == "‰" else "percent"
    return f"{'minus ' if m.group(1) else ''}{nw.number(m.group(2))} {word}"


def _measure(m: re.Match) -> str:
    one, many = UNITS[m.group(3)]
    amount = m.group(2)
    value = amount.replace(",", "")
    words = nw.number(value)
    unit = one if value in ("1", "1.0") else many
    return f"{'minus ' if m.group(1) else ''}{words} {unit}"


def _decade(m: re.Match) -> str:
    digits = m.group(1)
    if len(digits) == 2:  # '80s → "eighties"
        return nw.plural_word(nw.cardinal(int(digits))) if digits != "00" else "two thousands"
    return nw.plural_word(nw.year(int(digits)))


def _ordinal(m: re.Match) -> str:
    return nw.ordinal(m.group(1))


_FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def _fraction(m: re.Match) -> str:
    a, b = int(m.group(1)), int(m.group(2))
    if b == 0:
        return f"{nw.cardinal(a)} over zero"
    if (a, b) == (24, 7):
        return "twenty-four seven"
    if b in _FRACTION_NAMES:
        return f"{nw.cardinal(a)} {_FRACTION_NAMES[b][0 if a == 1 else 1]}"
    if 3 <= b <= 10 and a < b:
        name = nw.ordinal(b)
        return f"{nw.cardinal(a)} {name if a == 1 else name + 's'}"
    return f"{nw.cardinal(a)} over {nw.cardinal(b)}"


def _phone(m: re.Match) -> str:
    return " " + ", ".join(nw.digits(g) for g in re.findall(r"\d+", m.group(0))) + " "


def _range(m: re.Match) -> str:
    return f"{_plain_number(m.group(1), m.string, m.start(1))} to {nw.number(m.group(2))}"


def _version(m: re.Match) -> str:
    return " point ".join(nw.cardinal(p) for p in m.group(0).split("."))


def _plain_number(s: str, text: str = "", start: int = 0) -> str:
    plain = s.replace(",", "")
    if plain.isdigit() and len(plain) == 4 and "," not in s:
        # A bare four-digit number in this range is far more often a year than a count.
        n = int(plain)
        before = text[max(0, start - 12) : start]
        if 1000 <= n <= 2099 and (n >= 1100 or _YEAR_CUE.search(before)):
            return nw.year(n)
    return nw.number(s)


def _number(m: re.Match) -> str:
    return _plain_number(m.group(0), m.string, m.start())


def _strip_marks(text: str) -> str:
    """NFKC, then drop accents from Latin letters (café → cafe): the lexicon is plain ASCII."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _final_cleanup(text: str) -> str:
    out: list[str] = []
    dropped: list[str] = []
    for ch in text:
        if ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        elif ch in GREEK:
            out.append(f" {GREEK[ch]} ")
        elif ch in "“”…—":
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
        else:
            dropped.append(ch)
    if dropped:
        _LOGGER.debug(
            "English normalization dropped unspeakable characters %r", "".join(dropped)[:40]
        )
    return "".join(out)


def normalize_en(text: str) -> str:
    """Rewrite English text so that every token is a word the lexicon can read."""
    text = (
        _strip_marks(text.translate(_CJK_PUNCT))
        .replace("’", "'")
        .replace("‘", "'")
        .replace("−", "-")
    )
    text = _SPACES.sub(" ", text)
    text = _LONG_DECIMAL.sub(lambda m: nw.decimal(f"{m.group(1)}.{m.group(2)}"), text)
    text = _LONG_DIGITS.sub(lambda m: f" {nw.digits(m.group(0))} ", text)
    text = _EMAIL.sub(_email, text)
    text = _URL.sub(_url, text)
    text = _FILENAME.sub(lambda m: m.group(0).replace(".", " dot "), text)
    for pattern, repl in ABBREVIATIONS:
        text = pattern.sub(repl, text)
    text = _ISO_DATE.sub(_iso_date, text)
    text = _NUM_DATE.sub(_num_date, text)
    text = _MONTH_DAY.sub(_month_day, text)
    text = _DAY_MONTH.sub(_day_month, text)
    text = _TIME.sub(_time, text)
    text = _HOUR_AMPM.sub(_hour_ampm, text)
    text = _PHONE.sub(_phone, text)
    text = _MONEY_PRE.sub(_money_pre, text)
    text = _MONEY_POST.sub(_money_post, text)
    text = _PERCENT.sub(_percent, text)
    text = _DECADE.sub(_decade, text)
    text = _MEASURE.sub(_measure, text)
    text = _STANDALONE.sub(lambda m: UNITS_STANDALONE[m.group(1)], text)
    text = _ORDINAL.sub(_ordinal, text)
    text = _FRACTION.sub(_fraction, text)
    text = _VERSION.sub(_version, text)
    text = _RANGE.sub(_range, text)
    text = _NEGATIVE.sub(lambda m: "minus " + nw.number(m.group(1)), text)
    text = _PLUS_NUM.sub(lambda m: "plus " + nw.number(m.group(1)), text)
    text = _ROMAN_CUE.sub(_roman_sub, text)
    text = _HASH_NUM.sub("number ", text)
    text = _HASHTAG.sub("hashtag ", text)
    text = _SHARP.sub(r"\1 sharp", text)
    text = _CPP.sub(r"\1 plus plus", text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _NUMBER.sub(_number, text)
    text = _DASHES.sub(" — ", text)
    for sym, word in SYMBOL_WORDS.items():
        if sym in text:
            text = text.replace(sym, f" {word} " if word else " ")
    text = _final_cleanup(text)
    text = _LONG_TOKEN.sub(_break_token, text)
    return _SPACES.sub(" ", text).strip()


def _break_token(m: re.Match) -> str:
    """Split a runaway token ("one-one-one-…"): misaki's sub-token merging is cubic in its length."""
    pieces = re.sub(r"[^A-Za-z']+", " ", m.group(0)).split()
    return " ".join(p[i : i + _MAX_TOKEN] for p in pieces for i in range(0, len(p), _MAX_TOKEN))
