from __future__ import annotations

import pytest

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest import CSV, TSV, Chunker, parse_document


def test_rows_are_grouped_under_their_header_with_row_locators() -> None:
    data = b"city;population\r\nLyon;522000\r\nNantes;320000\r\n"
    parsed = parse_document(data, "cities.csv")
    assert parsed.content_type == CSV
    assert [(page.locator, page.text) for page in parsed.pages] == [
        ("rows 2\u20133", "city | population\nLyon | 522000\nNantes | 320000")
    ]


def test_quoted_fields_keep_their_delimiters_and_newlines() -> None:
    data = b'name,note\n"Smith, J.","line one\nline two"\n'
    parsed = parse_document(data, "people.csv")
    assert parsed.pages[0].text == "name | note\nSmith, J. | line one line two"


def test_tsv_is_split_at_tabs() -> None:
    parsed = parse_document(b"a\tb, c\n1\t2, 3\n", "t.tsv")
    assert parsed.content_type == TSV
    assert parsed.pages[0].text == "a | b, c\n1 | 2, 3"


def test_every_chunk_repeats_the_header_and_names_its_rows() -> None:
    lines = ["sku,name,colour"] + [f"S{n:04},widget number {n},blue" for n in range(300)]
    chunks = Chunker().chunk(parse_document("\n".join(lines).encode(), "items.csv"))
    assert len(chunks) > 3
    assert all(c.text.startswith("sku | name | colour") for c in chunks)
    assert chunks[0].locator is not None
    assert chunks[0].locator.startswith("rows 2\u2013")
    assert chunks[-1].locator is not None
    assert chunks[-1].locator.endswith("\u2013301")


def test_a_million_rows_stop_at_the_row_limit() -> None:
    data = b"n\n" + b"1\n" * 1_000_000
    with pytest.raises(FileTooLarge, match="more than 200,000 rows"):
        parse_document(data, "many.csv")


def test_a_field_over_the_field_limit_is_corrupt() -> None:
    data = b'a,b\n"' + b"x" * (2 * 1024 * 1024) + b'",1\n'
    with pytest.raises(CorruptFile, match="cannot be read as CSV"):
        parse_document(data, "huge.csv")


def test_a_binary_file_named_csv_is_not_read_as_one() -> None:
    from ragis.errors import UnsupportedFile

    with pytest.raises(UnsupportedFile):
        parse_document(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image.csv")


def test_a_header_only_file_is_its_header() -> None:
    parsed = parse_document(b"only,a,header\n", "h.csv")
    assert parsed.pages[0].text == "only | a | header"
