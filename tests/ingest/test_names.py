from __future__ import annotations

import pytest

from ragis.ingest import sanitize_filename
from ragis.ingest.names import MAX_FILENAME_CHARS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("C:y.pdf", "y.pdf"),
        ("/abs/path/to/notes.md", "notes.md"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("a\x00b.txt", "ab.txt"),
        ("line\nbreak\r\n.txt", "line break .txt"),
        ("tab\tname.txt", "tab name.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("zero\u200bwidth\ufeff.md", "zerowidth.md"),
        ("bad\udcffbyte.txt", "badbyte.txt"),
        ('what?<>:"|*.txt', "what_______.txt"),
        ("  spaced   out  .txt ", "spaced out .txt"),
        ("cafe\u0301.txt", "café.txt"),
        ("Résumé 履歴書.docx", "Résumé 履歴書.docx"),
    ],
)
def test_sanitize_filename_keeps_only_a_printable_base_name(raw: str, expected: str) -> None:
    assert sanitize_filename(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "..", ".", "/", "dir/", "\x00\x01", "\u202e", "C:\\"])
def test_sanitize_filename_is_never_empty(raw: str) -> None:
    assert sanitize_filename(raw) == "upload"


def test_sanitize_filename_bounds_a_very_long_name_and_keeps_its_extension() -> None:
    name = sanitize_filename("a" * 10_000 + ".pdf")
    assert len(name) == MAX_FILENAME_CHARS
    assert name.endswith(".pdf")
    assert len(sanitize_filename("b" * 10_000)) == MAX_FILENAME_CHARS


def test_sanitize_filename_output_never_holds_a_separator_or_control_character() -> None:
    nasty = "../\\..\x00\x1f\x7f\n/\u2028name\u2029\u202a.txt"
    name = sanitize_filename(nasty)
    assert "/" not in name
    assert "\\" not in name
    assert all(ch.isprintable() for ch in name)
    assert name == "name .txt"  # line and paragraph separators count as spaces
