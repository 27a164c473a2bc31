"""Golden tests of text normalization (numbers, dates, times, money, units, abbreviations, URLs)."""

from __future__ import annotations

import time

import pytest

from ownvoice.engine.g2p.normalize_en import normalize_en
from ownvoice.engine.g2p.normalize_ja import normalize_ja
from ownvoice.engine.g2p.normalize_zh import normalize_zh

EN_CASES = [
    # numbers
    (
        "I have 1,234,567 apples.",
        "I have one million two hundred thirty-four thousand five hundred sixty-seven apples.",
    ),
    ("It is -3.5 degrees.", "It is minus three point five degrees."),
    ("the 1st, 2nd, 3rd and 21st", "the first, second, third and twenty-first"),
    ("007", "zero zero seven"),
    ("1/2", "one half"),
    ("pages 10-20", "pages ten to twenty"),
    ("Python 3.11.2", "Python three point eleven point two"),
    ("call 555-123-4567", "call five five five, one two three, four five six seven"),
    # years
    ("In 1984 and 2005.", "In nineteen eighty-four and two thousand five."),
    ("the 1990s", "the nineteen nineties"),
    # dates
    ("on 2026-11-25", "on November twenty-fifth, twenty twenty-six"),
    ("on 25/11/2026", "on November twenty-fifth, twenty twenty-six"),
    ("Nov 25, 2026", "November twenty-fifth, twenty twenty-six"),
    # times
    ("at 14:30", "at fourteen thirty"),
    ("at 2:05 pm", "at two oh five PM"),
    ("at 9:00", "at nine o'clock"),
    ("ends at 5 p.m. Then", "ends at five PM. Then"),
    # currency and percent
    ("$42.50", "forty-two dollars and fifty cents"),
    ("€3", "three euros"),
    ("¥500", "five hundred yen"),
    ("£1.01", "one pound and one penny"),
    ("$1.5M", "one point five million dollars"),
    ("$0.99", "ninety-nine cents"),
    ("25%", "twenty-five percent"),
    # units
    ("5km", "five kilometers"),
    ("1 kg", "one kilogram"),
    ("20°C", "twenty degrees Celsius"),
    ("16 GB", "sixteen gigabytes"),
    ("3.2 GHz", "three point two gigahertz"),
    # abbreviations
    ("Dr. Smith", "Doctor Smith"),
    ("Mr. Jones", "Mister Jones"),
    ("e.g. this, i.e. that, etc.", "for example this, that is that, etcetera."),
    ("cats vs. dogs", "cats versus dogs"),
    # URLs, emails, symbols
    ("https://example.com/docs", "example dot com slash docs"),
    ("Mail me@example.org.", "Mail me at example dot org."),
    ("Edit config.toml and notes.md.", "Edit config dot toml and notes dot md."),
    ("R&D", "R and D"),
    ("C++", "C plus plus"),
    ("#1", "number one"),
    ("a+b=c", "a plus b equals c"),
    # Roman numerals only where unambiguous; the pronoun I is left alone
    ("World War II", "World War two"),
    ("Henry VIII", "Henry the eighth"),
    ("I am fine", "I am fine"),
    ("café", "cafe"),
]

ZH_CASES = [
    ("2026年11月25日", "二零二六年十一月二十五日"),
    ("2026-11-25", "二零二六年十一月二十五日"),
    ("14:30开会", "十四点三十分开会"),
    ("9:05", "九点零五分"),
    ("增长了25%", "增长了百分之二十五"),
    ("花了¥42.50", "花了四十二点五元"),
    ("$100", "一百美元"),
    ("1,234人", "一千二百三十四人"),
    ("气温-3°C", "气温零下三摄氏度"),
    ("5kg", "五公斤"),
    ("3.14", "三点一四"),
    ("电话13812345678", "电话一三八一二三四五六七八"),
    ("第3名", "第三名"),
    ("3-5天", "三至五天"),
]

JA_CASES = [
    ("2026-11-25", "2026年11月25日"),
    ("14:30", "14時30分"),
    ("3,000円", "3000円"),
    ("$5", "5ドル"),
    ("5km", "5キロメートル"),
    ("-5°C", "マイナス5度"),
    ("3〜5人", "3から5人"),
    ("50%", "50パーセント"),
    ("１２３", "123"),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_english_normalization_spells_out(text: str, expected: str) -> None:
    assert normalize_en(text) == expected


@pytest.mark.parametrize(("text", "expected"), ZH_CASES)
def test_mandarin_normalization_spells_out(text: str, expected: str) -> None:
    assert normalize_zh(text) == expected


@pytest.mark.parametrize(("text", "expected"), JA_CASES)
def test_japanese_normalization_prepares_numbers(text: str, expected: str) -> None:
    assert normalize_ja(text) == expected


def test_english_normalization_leaves_no_digits_or_symbols() -> None:
    text = "On 3/4 of 2,500 km², 99.9% of #2 @ 10:15:30 cost ~$3k + £7 = 12×3 ÷ 4 ± 1 → ∞ 🎉"
    out = normalize_en(text)
    assert not any(ch.isdigit() for ch in out), out
    assert all(ch.isascii() or ch in "“”…—" for ch in out), out


@pytest.mark.parametrize(
    "text",
    [
        "1" * 9999,
        "1-" * 4999,
        "1," * 4999,
        "a." * 4999,
        "www." * 2499,
        "a@b." * 2499,
        "1.1." * 2499,
    ],
)
def test_english_normalization_is_linear_on_pathological_input(text: str) -> None:
    start = time.perf_counter()
    out = normalize_en(text)
    assert time.perf_counter() - start < 5.0
    assert max((len(tok) for tok in out.split()), default=0) <= 40
