"""Golden tests: Markdown in, the exact spoken sentences out, one case per reading rule or syntax."""

from __future__ import annotations

import pytest

from ownvoice.notes import build_script

CASES = [
    # --- paragraphs and inline formatting
    ("plain_paragraph", "Hello world. This is a test.", {}, ["Hello world.", "This is a test."]),
    ("paragraph_gets_final_period", "Hello world", {}, ["Hello world."]),
    ("soft_wrapped_lines_join", "First line\ncontinues here.", {}, ["First line continues here."]),
    ("hard_break_is_a_space", "Line one  \nline two", {}, ["Line one line two."]),
    (
        "emphasis_kept_as_plain_text",
        "Some *emphasis*, **strong**, ~~struck~~ and _under_ text.",
        {},
        ["Some emphasis, strong, struck and under text."],
    ),
    ("inline_code_read_as_text", "Run `npm install` now.", {}, ["Run npm install now."]),
    (
        "entities_and_escapes",
        "Tom &amp; Jerry \\*not emphasis\\*.",
        {},
        ["Tom & Jerry *not emphasis*."],
    ),
    (
        "html_tags_stripped",
        "Some <b>bold</b> and <span class='x'>span</span>.",
        {},
        ["Some bold and span."],
    ),
    ("html_comment_skipped", "Before <!-- hidden --> after.", {}, ["Before after."]),
    (
        "html_block_text_read",
        "<div>\nInside <i>html</i> &amp; more\n</div>",
        {},
        ["Inside html & more."],
    ),
    ("front_matter_skipped", "---\ntitle: Secret\ntags: [a]\n---\nBody text.", {}, ["Body text."]),
    ("thematic_break_silent", "One.\n\n---\n\nTwo.", {}, ["One.", "Two."]),
    # --- headings
    ("atx_headings", "# Title\n\n## Sub ##\n\nText.", {}, ["Title.", "Sub.", "Text."]),
    ("setext_heading", "Title\n=====\n\nBody", {}, ["Title.", "Body."]),
    ("heading_with_link", "## See [the docs](https://x.org)", {}, ["See the docs."]),
    # --- links and URLs
    ("link_text", "See [the docs](https://x.org) today.", {}, ["See the docs today."]),
    (
        "link_announce",
        "See [the docs](https://x.org) today.",
        {"links": "announce"},
        ["See link to the docs today."],
    ),
    ("reference_link", "See [docs][1].\n\n[1]: https://x.org", {}, ["See docs."]),
    ("autolink_says_link", "Go to <https://example.com/a>.", {}, ["Go to link."]),
    ("bare_url_says_link", "Visit https://example.com/page?q=1 now.", {}, ["Visit link now."]),
    (
        "bare_url_domain",
        "Visit https://www.example.com/page now.",
        {"urls": "domain"},
        ["Visit example dot com now."],
    ),
    ("image_skipped", "Look ![a cat](cat.png) here.", {}, ["Look here."]),
    (
        "image_announced",
        "Look ![a cat](cat.png) here.",
        {"embeds": "announce"},
        ["Look image: a cat here."],
    ),
    # --- code and math
    (
        "code_block_announced",
        "Intro.\n\n```python\nprint(1)\n```\n\nOutro.",
        {},
        ["Intro.", "Code block.", "Outro."],
    ),
    (
        "code_block_read",
        "Intro.\n\n```python\nx = 1\nprint(x)\n```\n\nOutro.",
        {"code_blocks": "read"},
        ["Intro.", "x = 1.", "print(x).", "Outro."],
    ),
    (
        "code_block_skipped",
        "Intro.\n\n```\ncode\n```\n\nOutro.",
        {"code_blocks": "skip"},
        ["Intro.", "Outro."],
    ),
    (
        "indented_code_block",
        "Text.\n\n    code here\n\nMore.",
        {},
        ["Text.", "Code block.", "More."],
    ),
    ("inline_math_formula", "Energy is $E=mc^2$ here.", {}, ["Energy is formula here."]),
    (
        "inline_math_verbalized",
        "Area is $\\pi r^2$ and $\\frac{a}{b}$.",
        {"math": "verbalize"},
        ["Area is pi r squared and a over b."],
    ),
    ("math_block_formula", "$$\n\\sum_{i=1}^{n} x_i\n$$", {}, ["Formula."]),
    (
        "math_block_verbalized",
        "$$\n\\sqrt{x} \\le y\n$$",
        {"math": "verbalize"},
        ["the square root of x is less than or equal to y."],
    ),
    ("dollar_amounts_are_not_math", "It costs $5 and $10.", {}, ["It costs $5 and $10."]),
    # --- lists and tables
    ("bullet_list_items_are_sentences", "- one\n- two\n- three", {}, ["one.", "two.", "three."]),
    ("ordered_list", "1. First step\n2. Second step", {}, ["First step.", "Second step."]),
    (
        "nested_list",
        "- parent\n  - child\n    - grandchild\n- sibling",
        {},
        ["parent.", "child.", "grandchild.", "sibling."],
    ),
    (
        "task_list_states",
        "- [ ] buy milk\n- [x] call mom",
        {},
        ["To do: buy milk.", "Done: call mom."],
    ),
    (
        "task_list_without_states",
        "- [ ] buy milk\n- [x] call mom",
        {"tasks": False},
        ["buy milk.", "call mom."],
    ),
    (
        "table_rows_with_headers",
        "| Name | Age |\n|---|---|\n| Alice | 30 |\n| Bob | 25 |",
        {},
        ["Name: Alice, Age: 30.", "Name: Bob, Age: 25."],
    ),
    ("table_without_header_text", "| | |\n|---|---|\n| a | b |", {}, ["a, b."]),
    ("table_empty_cell_skipped", "| Name | Note |\n|---|---|\n| Carol | |", {}, ["Name: Carol."]),
    # --- footnotes
    (
        "footnote_read_at_end",
        "Text with a note[^1]. More text.\n\n[^1]: The note.",
        {},
        ["Text with a note.", "More text.", "Footnote 1: The note."],
    ),
    (
        "footnote_skipped",
        "Text with a note[^1].\n\n[^1]: The note.",
        {"footnotes": "skip"},
        ["Text with a note."],
    ),
    (
        "inline_footnote",
        "Claim^[source here] stands.",
        {},
        ["Claim stands.", "Footnote 1: source here."],
    ),
    # --- Obsidian syntax
    ("wikilink_name", "See [[My Note]].", {}, ["See My Note."]),
    ("wikilink_alias", "See [[My Note|this one]].", {}, ["See this one."]),
    ("wikilink_heading", "See [[My Note#Part Two]].", {}, ["See My Note, Part Two."]),
    ("wikilink_path_and_extension", "Read [[folder/Sub Note.md]]", {}, ["Read Sub Note."]),
    ("wikilink_block_ref", "See [[My Note#^abc123]].", {}, ["See My Note."]),
    (
        "wikilink_announce",
        "See [[My Note|this one]].",
        {"links": "announce"},
        ["See link to this one."],
    ),
    ("embed_skipped", "Before ![[Other note]] after.", {}, ["Before after."]),
    (
        "embed_announced",
        "Before ![[Other note]] and ![[pic.png]] after.",
        {"embeds": "announce"},
        ["Before embedded note Other note and embedded image pic after."],
    ),
    ("embed_unclosed_is_text", "Read this and ![[draft", {}, ["Read this and ![[draft."]),
    ("dotfile_keeps_its_space", "Edit the .env file .", {}, ["Edit the .env file."]),
    ("tags_read", "Tagged #project/alpha and #to-do.", {}, ["Tagged project alpha and to do."]),
    ("tags_skipped", "Ready. #todo #later", {"tags": "skip"}, ["Ready."]),
    ("not_tags", "C# and issue #12 are fine.", {}, ["C# and issue #12 are fine."]),
    ("comment_inline", "Visible %%hidden%% text.", {}, ["Visible text."]),
    (
        "comment_multiline_block",
        "Before.\n\n%%\nsecret\n\nmore secret\n%%\n\nAfter.",
        {},
        ["Before.", "After."],
    ),
    ("comment_inside_paragraph_lines", "Start %%a\nb%% end.", {}, ["Start end."]),
    ("comment_unclosed_hides_rest", "Before.\n\n%%\nrest of the note", {}, ["Before."]),
    ("highlight", "This is ==very important== stuff.", {}, ["This is very important stuff."]),
    ("block_id_silent", "A paragraph. ^abc-123\n\nNext\n\n^id2", {}, ["A paragraph.", "Next."]),
    (
        "callout_with_title",
        "> [!warning] Careful now\n> Body text.",
        {},
        ["Careful now.", "Body text."],
    ),
    ("callout_without_title_says_type", "> [!tip]\n> Use it.", {}, ["Tip.", "Use it."]),
    ("callout_foldable", "> [!faq]- Why *this*?\n> Because.", {}, ["Why this?", "Because."]),
    ("plain_blockquote", "> Quoted text.\n> More", {}, ["Quoted text.", "More."]),
    # --- sentence splitting, CJK and languages
    (
        "abbreviations_do_not_split",
        "Dr. Smith met Mr. Jones, e.g. at noon, vs. the others etc. and left. Then he went home.",
        {},
        [
            "Dr. Smith met Mr. Jones, e.g. at noon, vs. the others etc. and left.",
            "Then he went home.",
        ],
    ),
    (
        "decimals_and_ellipsis",
        "Pi is 3.14... roughly. Wait… what? Yes!",
        {},
        ["Pi is 3.14... roughly.", "Wait… what?", "Yes!"],
    ),
    (
        "initials",
        "J. R. R. Tolkien wrote it. It sold well.",
        {},
        ["J. R. R. Tolkien wrote it.", "It sold well."],
    ),
    (
        "quotes_stay_with_sentence",
        'He said "Stop." Then he left.',
        {},
        ['He said "Stop."', "Then he left."],
    ),
    (
        "chinese_punctuation",
        "我今天很好。你呢？我也是！",
        {},
        ["我今天很好。", "你呢？", "我也是！"],
    ),
    (
        "japanese_punctuation",
        "今日は良い天気です。散歩しましょう！",
        {},
        ["今日は良い天気です。", "散歩しましょう！"],
    ),
    (
        "mixed_chinese_english",
        "我今天用 Python 写代码。Then English follows.",
        {},
        ["我今天用 Python 写代码。", "Then English follows."],
    ),
    ("cjk_heading_gets_cjk_stop", "# 第一章\n\n内容", {}, ["第一章。", "内容。"]),
    ("cjk_soft_break_no_space", "这是第一行\n这是第二行。", {}, ["这是第一行这是第二行。"]),
]

# Expected language per sentence, for the cases where it matters.
LANGS = {
    "chinese_punctuation": ["zh", "zh", "zh"],
    "japanese_punctuation": ["ja", "ja"],
    "mixed_chinese_english": ["zh", "en"],
    "plain_paragraph": ["en", "en"],
}


@pytest.mark.parametrize(
    ("markdown", "rules", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_markdown_is_read_as_expected(markdown, rules, expected):
    assert [s.text for s in build_script(markdown, rules)] == expected


@pytest.mark.parametrize("case_id", sorted(LANGS))
def test_each_sentence_gets_its_language(case_id):
    markdown, rules = next((c[1], c[2]) for c in CASES if c[0] == case_id)
    assert [s.lang for s in build_script(markdown, rules)] == LANGS[case_id]


def test_there_are_at_least_forty_golden_cases_with_unique_ids():
    ids = [c[0] for c in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
