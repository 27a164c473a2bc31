"""Reading note files: missing, binary, huge and badly encoded files give clear errors or text."""

from __future__ import annotations

import pytest

from ownvoice.errors import BadInput, NotFound, TooLarge
from ownvoice.notes import read_note
from ownvoice.notes.source import looks_binary


def test_reads_utf8_and_drops_a_bom(tmp_path):
    p = tmp_path / "n.md"
    p.write_bytes("\ufeff# Café 你好\n".encode())
    assert read_note(p) == "# Café 你好\n"


def test_invalid_utf8_is_decoded_with_replacement_and_logged(tmp_path, caplog):
    p = tmp_path / "n.md"
    p.write_bytes(b"caf\xe9 au lait. \xff\xfe ok")
    text = read_note(p)
    assert text.startswith("caf\ufffd au lait.") and text.endswith(" ok")
    assert "not valid UTF-8" in caplog.text


def test_binary_file_named_md_is_not_a_text_file(tmp_path):
    p = tmp_path / "image.md"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(BadInput, match="not a text file"):
        read_note(p)


def test_mostly_control_bytes_is_binary_but_text_with_tabs_is_not():
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary(b"col1\tcol2\r\n" * 100)


def test_huge_note_is_refused_before_reading(tmp_path):
    p = tmp_path / "big.md"
    with open(p, "wb") as f:
        f.truncate(20 * 1024 * 1024)  # sparse 20 MB: the size check must come first
    with pytest.raises(TooLarge, match="MB"):
        read_note(p)


def test_missing_note_is_not_found_and_folder_is_bad_input(tmp_path):
    with pytest.raises(NotFound):
        read_note(tmp_path / "gone.md")
    with pytest.raises(BadInput, match="folder"):
        read_note(tmp_path)
