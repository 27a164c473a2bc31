"""English number words (cardinal, ordinal, year, decimal, money) in US style, for normalization.

num2words writes British "one hundred and five" with commas; the commas would become pauses and
the "and" sounds foreign in US English, so both are removed here.
"""

from __future__ import annotations

import logging

from num2words import num2words

_LOGGER = logging.getLogger(__name__)

MAX_CARDINAL_DIGITS = 15  # beyond "hundreds of trillions" a number is an id: read digit by digit
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _clean(words: str) -> str:
    return words.replace(",", "").replace(" and ", " ").strip()


def digits(s: str) -> str:
    """Read a string of digits one by one ("007" → "zero zero seven")."""
    return " ".join(_DIGITS[int(c)] for c in s if c.isdigit())


def cardinal(n: int | str) -> str:
    """Cardinal words: 1234 → "one thousand two hundred thirty-four"."""
    s = str(n).replace(",", "")
    neg = s.startswith("-")
    s = s.lstrip("-+")
    if not s.isdigit():
        raise ValueError(f"not an integer: {n!r}")
    if len(s) > MAX_CARDINAL_DIGITS:
        words = digits(s)
    else:
        words = _clean(num2words(int(s), lang="en"))
    return f"minus {words}" if neg else words


def ordinal(n: int | str) -> str:
    """Ordinal words: 21 → "twenty-first"."""
    s = str(n).replace(",", "")
    if not s.isdigit() or len(s) > MAX_CARDINAL_DIGITS:
        return digits(s)
    return _clean(num2words(int(s), lang="en", to="ordinal"))


def year(n: int) -> str:
    """A year as people say it: 1984 "nineteen eighty-four", 2005 "two thousand five", 1900."""
    if n < 0:
        return cardinal(-n) + " BC"
    if 2000 <= n <= 2009 or n < 1000 or n % 1000 == 0:
        return cardinal(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return f"{cardinal(hi)} hundred"
    if lo < 10:
        return f"{cardinal(hi)} oh {cardinal(lo)}"
    return f"{cardinal(hi)} {cardinal(lo)}"


def plural_word(words: str) -> str:
    """Pluralize the last word of a number ("nineteen ninety" → "nineteen nineties")."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def decimal(s: str) -> str:
    """A decimal or integer string: "3.14" → "three point one four", "1,500" → cardinal."""
    s = s.replace(",", "")
    neg = s.startswith("-")
    s = s.lstrip("-+")
    whole, _, frac = s.partition(".")
    if not frac:
        words = cardinal(whole) if whole else "zero"
    else:
        head = cardinal(whole) if whole else ""
        words = f"{head} point {digits(frac)}".strip()
    return f"minus {words}" if neg else words


def number(s: str) -> str:
    """Any plain numeral: leading zeros read digit by digit, otherwise cardinal or decimal."""
    raw = s.replace(",", "")
    body = raw.lstrip("-+")
    if "." not in body and len(body) > 1 and body.startswith("0"):
        words = digits(body)
        return f"minus {words}" if raw.startswith("-") else words
    return decimal(raw)


# symbol → (singular, plural, subunit singular, subunit plural); None = no subunit in speech
CURRENCIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None),
    "￥": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", None, None),
    "₽": ("ruble", "rubles", "kopek", "kopeks"),
    "₿": ("bitcoin", "bitcoins", None, None),
    "USD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "JPY": ("yen", "yen", None, None),
    "CNY": ("yuan", "yuan", None, None),
    "RMB": ("yuan", "yuan", None, None),
    "CHF": ("franc", "francs", "centime", "centimes"),
}
SCALES = {
    "k": "thousand",
    "K": "thousand",
    "m": "million",
    "M": "million",
    "mn": "million",
    "bn": "billion",
    "B": "billion",
    "b": "billion",
    "tn": "trillion",
    "T": "trillion",
    "thousand": "thousand",
    "million": "million",
    "billion": "billion",
    "trillion": "trillion",
}


def money(amount: str, currency: str, scale: str | None = None) -> str:
    """Spoken amount: ("42.50", "$") → "forty-two dollars and fifty cents"."""
    one, many, sub_one, sub_many = CURRENCIES[currency]
    raw = amount.replace(",", "")
    neg = raw.startswith("-")
    raw = raw.lstrip("-+")
    sign = "minus " if neg else ""
    if scale:
        return f"{sign}{decimal(raw)} {SCALES[scale]} {many}"
    whole, _, frac = raw.partition(".")
    whole = whole or "0"
    if frac and (len(frac) != 2 or sub_one is None):
        return f"{sign}{decimal(raw)} {many}"
    cents = int(frac) if frac else 0
    units = int(whole) if len(whole) <= MAX_CARDINAL_DIGITS else -1
    head = f"{cardinal(whole)} {one if units == 1 else many}"
    if not cents:
        return sign + head
    tail = f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}"
    if units == 0:
        return sign + tail
    return f"{sign}{head} and {tail}"
