from __future__ import annotations

import pytest

from ragis.errors import CorruptFile
from ragis.ingest import ODT, parse_document
from support.documents import zip_bytes

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def odt(body: str) -> bytes:
    content = (
        f'<?xml version="1.0"?><office:document-content {NS}><office:body><office:text>'
        f"{body}</office:text></office:body></office:document-content>"
    )
    return zip_bytes({"mimetype": ODT.encode(), "content.xml": content.encode()})


def test_headings_paragraphs_lists_and_tables_in_order() -> None:
    data = odt(
        '<text:h text:outline-level="1">Pump manual</text:h>'
        '<text:p>Open the<text:s text:c="2"/>valve.<text:line-break/>Then wait.</text:p>'
        '<text:h text:outline-level="2">Parts</text:h>'
        "<text:list><text:list-item><text:p>Impeller</text:p></text:list-item>"
        "<text:list-item><text:p>Seal</text:p></text:list-item></text:list>"
        "<table:table><table:table-row><table:table-cell><text:p>A</text:p></table:table-cell>"
        "<table:table-cell><text:p>B</text:p></table:table-cell></table:table-row></table:table>"
    )
    parsed = parse_document(data, "manual.odt")
    assert parsed.content_type == ODT
    assert parsed.title == "Pump manual"
    assert parsed.text == (
        "# Pump manual\n\nOpen the valve.\nThen wait.\n\n## Parts\n\n- Impeller\n\n- Seal\n\nA | B"
    )


def test_an_odt_with_a_dtd_is_refused() -> None:
    content = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    data = zip_bytes({"mimetype": ODT.encode(), "content.xml": content})
    with pytest.raises(CorruptFile, match="DTD or entities"):
        parse_document(data, "evil.odt")


def test_deep_nesting_is_refused() -> None:
    data = odt("<text:section>" * 300 + "<text:p>x</text:p>" + "</text:section>" * 300)
    with pytest.raises(CorruptFile, match="levels deep"):
        parse_document(data, "deep.odt")


def test_malformed_content_is_corrupt() -> None:
    data = zip_bytes({"mimetype": ODT.encode(), "content.xml": b"<office:text><text:p>"})
    with pytest.raises(CorruptFile, match="ODT is damaged"):
        parse_document(data, "broken.odt")


def test_a_space_run_cannot_be_made_huge_and_spaces_are_normalised() -> None:
    data = odt('<text:p>a<text:s text:c="999999999"/>b</text:p>')
    assert parse_document(data, "spaces.odt").text == "a b"
