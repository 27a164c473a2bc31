"""Japanese text normalization: put numerals, dates, times, money and units into forms
pyopenjtalk reads correctly ("14:30" → 14時30分, "$5" → 5ドル, "5km" → 5キロメートル).

The digits themselves stay digits: pyopenjtalk reads them with the right counter sound changes
(3本 さんぼん, 1本 いっぽん, 30分 さんじゅっぷん), which a digit-to-kana table would get wrong.
"""

from __future__ import annotations

import re
import unicodedata

_CURRENCY = {
    "$": "ドル",
    "US$": "ドル",
    "€": "ユーロ",
    "£": "ポンド",
    "¥": "円",
    "￥": "円",
    "₩": "ウォン",
}
UNITS_JA = {
    "km": "キロメートル",
    "m": "メートル",
    "cm": "センチメートル",
    "mm": "ミリメートル",
    "kg": "キログラム",
    "g": "グラム",
    "mg": "ミリグラム",
    "t": "トン",
    "l": "リットル",
    "L": "リットル",
    "ml": "ミリリットル",
    "mL": "ミリリットル",
    "KB": "キロバイト",
    "kB": "キロバイト",
    "MB": "メガバイト",
    "GB": "ギガバイト",
    "TB": "テラバイト",
    "Hz": "ヘルツ",
    "kHz": "キロヘルツ",
    "MHz": "メガヘルツ",
    "GHz": "ギガヘルツ",
    "h": "時間",
    "min": "分",
    "s": "秒",
    "ms": "ミリ秒",
    "W": "ワット",
    "kW": "キロワット",
    "V": "ボルト",
    "mAh": "ミリアンペアアワー",
}
_SYMBOLS = {
    "&": "アンド",
    "+": "プラス",
    "=": "イコール",
    "@": "アット",
    "#": "シャープ",
    "×": "かける",
    "÷": "わる",
    "±": "プラスマイナス",
    "≈": "ニアリーイコール",
    "→": "から",
    "°": "度",
}

_LONG_DIGITS = re.compile(r"\d{16,}")
_KANJI_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
_TEMP = re.compile(r"(-)?(\d+(?:\.\d+)?)\s?°\s?([CF])")
_MONEY_PRE = re.compile(r"(US\$|[$€£¥￥₩])\s?(\d+(?:\.\d+)?)")
_UNIT = re.compile(
    r"(\d)\s?("
    + "|".join(sorted(map(re.escape, UNITS_JA), key=len, reverse=True))
    + r")(?![A-Za-z])"
)
_RANGE = re.compile(r"(?<=\d)\s?[-–~〜～]\s?(?=\d)")
_NEGATIVE = re.compile(r"(?<![\w.])-(?=\d)")
_TRAILING_ZEROS = re.compile(r"(\d+\.\d*?)0+(?!\d)")


def _date(m: re.Match) -> str:
    mo, d = int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return f"{m.group(1)}年{mo}月{d}日"


def _time(m: re.Match) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    sec = m.group(3)
    if h > 24 or mi > 59 or (sec and int(sec) > 59):
        return m.group(0)
    out = f"{h}時" + (f"{mi}分" if mi else "")
    if sec and int(sec):
        out += f"{int(sec)}秒"
    return out


def _money(m: re.Match) -> str:
    amount = _TRAILING_ZEROS.sub(r"\1", m.group(2)).rstrip(".")
    return f"{amount}{_CURRENCY[m.group(1)]}"


def normalize_ja(text: str) -> str:
    """Rewrite numerals and symbols of Japanese text into forms pyopenjtalk reads naturally."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n")
    text = _THOUSANDS.sub("", text)
    # ids and runaway digit strings: digit by digit, not as one astronomically large number
    text = _LONG_DIGITS.sub(lambda m: m.group(0).translate(_KANJI_DIGITS), text)
    text = _DATE.sub(_date, text)
    text = _TIME.sub(_time, text)
    text = _TEMP.sub(lambda m: f"{'マイナス' if m.group(1) else ''}{m.group(2)}度", text)
    text = _MONEY_PRE.sub(_money, text)
    text = _UNIT.sub(lambda m: m.group(1) + UNITS_JA[m.group(2)], text)
    text = _RANGE.sub("から", text)
    text = _NEGATIVE.sub("マイナス", text)
    text = text.replace("%", "パーセント").replace("‰", "パーミル")
    for sym, word in _SYMBOLS.items():
        text = text.replace(sym, word)
    return text.strip()
