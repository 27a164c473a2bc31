"""Mandarin text normalization: dates, times, money, units, percent, numbers → Chinese characters.

cn2an does the number words ("2026年" → 二零二六年, "25%" → 百分之二十五); this module first puts
numerals into the shapes cn2an reads well (ISO dates, clock times, currency symbols, units) and
reads ids, phone numbers and over-long numbers digit by digit.
"""

from __future__ import annotations

import logging
import re
import unicodedata

_LOGGER = logging.getLogger(__name__)

_DIGITS = "零一二三四五六七八九"
_CURRENCY = {
    "$": "美元",
    "US$": "美元",
    "€": "欧元",
    "£": "英镑",
    "¥": "元",
    "￥": "元",
    "₩": "韩元",
    "₹": "卢比",
    "HK$": "港元",
}
UNITS_ZH = {
    "km": "公里",
    "m": "米",
    "cm": "厘米",
    "mm": "毫米",
    "kg": "公斤",
    "g": "克",
    "mg": "毫克",
    "t": "吨",
    "l": "升",
    "L": "升",
    "ml": "毫升",
    "mL": "毫升",
    "KB": "千字节",
    "kB": "千字节",
    "MB": "兆字节",
    "GB": "吉字节",
    "TB": "太字节",
    "Hz": "赫兹",
    "kHz": "千赫兹",
    "MHz": "兆赫兹",
    "GHz": "吉赫兹",
    "h": "小时",
    "min": "分钟",
    "s": "秒",
    "ms": "毫秒",
    "W": "瓦",
    "kW": "千瓦",
    "V": "伏",
    "mAh": "毫安时",
}
_SYMBOLS = {
    "&": "和",
    "+": "加",
    "=": "等于",
    "@": "艾特",
    "#": "井号",
    "×": "乘",
    "÷": "除以",
    "±": "正负",
    "≈": "约等于",
    "°": "度",
    "~": "至",
    "～": "至",
    "→": "到",
}

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
_TEMP = re.compile(r"(-)?(\d+(?:\.\d+)?)\s?°\s?([CF])")
_MONEY_PRE = re.compile(r"(US\$|HK\$|[$€£¥￥₩₹])\s?(\d+(?:\.\d+)?)")
_UNIT = re.compile(
    r"(\d)\s?("
    + "|".join(sorted(map(re.escape, UNITS_ZH), key=len, reverse=True))
    + r")(?![A-Za-z])"
)
_PERMILLE = re.compile(r"(\d+(?:\.\d+)?)‰")
_RANGE = re.compile(r"(?<=\d)\s?[-–~～〜]\s?(?=\d)")
_LONG_OR_ZERO = re.compile(r"(?<![\d.])(?:0\d+|\d{11,})(?![\d.])")
_TRAILING_ZEROS = re.compile(r"(\d+\.\d*?)0+(?!\d)")
_ANY_DIGITS = re.compile(r"\d+")


def digits_zh(s: str) -> str:
    """Read digits one by one: "110" → 一一零."""
    return "".join(_DIGITS[int(c)] for c in s if c.isdigit())


def _an2cn(num: str) -> str:
    import cn2an

    try:
        return cn2an.an2cn(num)
    except (ValueError, KeyError, IndexError) as e:  # out of range or odd shape: read the digits
        _LOGGER.debug("cn2an could not read %r (%s); reading digits", num, e)
        return digits_zh(num)


def _date(m: re.Match) -> str:
    y, mo, d = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0)
    return f"{digits_zh(y)}年{_an2cn(str(mo))}月{_an2cn(str(d))}日"


def _time(m: re.Match) -> str:
    h, mi = int(m.group(1)), int(m.group(2))
    sec = m.group(3)
    if h > 24 or mi > 59 or (sec and int(sec) > 59):
        return m.group(0)
    out = f"{_an2cn(str(h))}点"
    if mi:
        out += f"{'零' if mi < 10 else ''}{_an2cn(str(mi))}分"
    elif sec:
        out += "零分"
    if sec and int(sec):
        out += f"{_an2cn(str(int(sec)))}秒"
    return out


def _temp(m: re.Match) -> str:
    unit = "摄氏度" if m.group(3) == "C" else "华氏度"
    return f"{'零下' if m.group(1) else ''}{m.group(2)}{unit}"


def _money(m: re.Match) -> str:
    amount = _TRAILING_ZEROS.sub(r"\1", m.group(2)).rstrip(".")
    return f"{amount}{_CURRENCY[m.group(1)]}"


def _strip_decimal_zeros(text: str) -> str:
    return re.sub(r"(\d+\.\d*?)0+(?=元|美元|欧元|英镑)", r"\1", text).replace(".元", "元")


def normalize_zh(text: str) -> str:
    """Rewrite numerals and symbols of Mandarin text into Chinese characters."""
    import cn2an

    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n")
    text = _THOUSANDS.sub("", text)
    text = _DATE.sub(_date, text)
    text = _TIME.sub(_time, text)
    text = _TEMP.sub(_temp, text)
    text = _MONEY_PRE.sub(_money, text)
    text = _strip_decimal_zeros(text)
    text = _UNIT.sub(lambda m: m.group(1) + UNITS_ZH[m.group(2)], text)
    text = _PERMILLE.sub(lambda m: "千分之" + m.group(1), text)
    text = _RANGE.sub("至", text)
    text = _LONG_OR_ZERO.sub(lambda m: digits_zh(m.group(0)), text)
    try:
        text = cn2an.transform(text, "an2cn")
    except (ValueError, KeyError, IndexError, TypeError) as e:  # shapes cn2an does not expect
        _LOGGER.debug(
            "cn2an.transform failed on %r (%s); converting numbers one by one", text[:80], e
        )
    text = _ANY_DIGITS.sub(lambda m: _an2cn(m.group(0)), text)
    for sym, word in _SYMBOLS.items():
        text = text.replace(sym, word)
    return text.strip()
