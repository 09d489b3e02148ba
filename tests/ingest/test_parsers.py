from __future__ import annotations

import codecs
import zipfile
from typing import Any

import pytest

from ragis.errors import CorruptFile, EmptyFile, FileRejected, FileTooLarge, UnsupportedFile
from ragis.ingest import (
    DOCX,
    HTML,
    MARKDOWN,
    PDF,
    PLAIN_TEXT,
    IngestLimits,
    PageText,
    normalize_text,
    parse_document,
)
from support.documents import (
    docx_bytes,
    docx_zip_bomb,
    encrypted_pdf,
    html_page,
    pdf_bytes,
    scanned_pdf,
    zip_bytes,
)

THREE_PAGES = [
    "Alpha page talks about apples and the first chapter.",
    "Bravo page talks about bananas and the second chapter.",
    "Charlie page talks about cherries and the third chapter.",
]


# --- common checks -------------------------------------------------------------------------


def test_an_empty_file_is_rejected_as_empty() -> None:
    with pytest.raises(EmptyFile, match="empty"):
        parse_document(b"", "empty.txt")


@pytest.mark.parametrize("data", [b"   \n\n\t  \r\n", b"\xef\xbb\xbf", b"\x0c\x0c\n"])
def test_a_file_with_only_whitespace_is_rejected_as_empty(data: bytes) -> None:
    with pytest.raises(EmptyFile):
        parse_document(data, "blank.txt")


def test_errors_carry_the_sanitised_file_name() -> None:
    with pytest.raises(EmptyFile) as caught:
        parse_document(b"", "../../etc/\u202epasswd")
    assert caught.value.filename == "passwd"
    assert caught.value.message.startswith("passwd: ")


def test_a_file_over_the_size_limit_is_rejected_before_parsing() -> None:
    with pytest.raises(FileTooLarge, match="limit"):
        parse_document(b"x" * 2048, "big.txt", IngestLimits(max_file_bytes=1024))


def test_text_over_the_character_limit_is_rejected() -> None:
    with pytest.raises(FileTooLarge, match="characters"):
        parse_document(b"word " * 1000, "long.txt", IngestLimits(max_chars=100))


def test_unsupported_files_raise_unsupported_file() -> None:
    with pytest.raises(UnsupportedFile):
        parse_document(b"\x7fELF" + bytes(100), "prog")
    assert issubclass(UnsupportedFile, FileRejected)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pages"):
        IngestLimits(max_pages=0)


# --- plain text and Markdown ---------------------------------------------------------------


def test_utf8_bom_is_removed_and_text_kept() -> None:
    doc = parse_document(codecs.BOM_UTF8 + "Grüße aus Köln\r\nZeile zwei".encode(), "a.txt")
    assert doc.content_type == PLAIN_TEXT
    assert doc.pages == [PageText(None, "Grüße aus Köln\nZeile zwei")]
    assert doc.page_count is None
    assert doc.title is None


def test_latin1_text_is_decoded() -> None:
    doc = parse_document("Le café est très bon à Noël.".encode("latin-1"), "fr.txt")
    assert doc.text == "Le café est très bon à Noël."


def test_utf16_text_is_decoded() -> None:
    doc = parse_document("Ünïcode in UTF-16".encode("utf-16"), "u.txt")
    assert doc.text == "Ünïcode in UTF-16"


def test_normalisation_cleans_whitespace_controls_and_unicode_forms() -> None:
    raw = "e\u0301t\u00e9\x07  double   spaces\u00a0nbsp\r\n\r\n\r\n\r\nnext\u200b para\ttab\x00"
    assert normalize_text(raw) == "été double spaces nbsp\n\nnext para\ttab"


def test_normalisation_joins_hyphenated_line_breaks_only_when_safe() -> None:
    raw = "an exam-\nple of infor-\nmation, a well-\nKnown name, year 2020-\n2021"
    text = normalize_text(raw, dehyphenate=True)
    assert "example" in text
    assert "information" in text
    assert "well-\nKnown" in text
    assert "2020-\n2021" in text
    assert normalize_text("soft\u00ad\nhyphen") == "softhyphen"


def test_markdown_keeps_headings_and_finds_the_title() -> None:
    data = b"# Guide\n\nIntro.\n\n## Install\n\n    pip install x\n\nSub Title\n---------\n\nBody."
    doc = parse_document(data, "guide.md")
    assert doc.content_type == MARKDOWN
    assert doc.title == "Guide"
    assert "## Install" in doc.text
    assert "    pip install x" in doc.text  # indentation of code is kept
    assert "## Sub Title" in doc.text  # a setext heading becomes an ATX heading


def test_markdown_front_matter_is_dropped_and_its_title_used() -> None:
    data = b'---\ntitle: "Front Title"\ntags: [a, b]\n---\n# Heading\n\nText.'
    doc = parse_document(data, "post.md")
    assert doc.title == "Front Title"
    assert doc.text == "# Heading\n\nText."


# --- HTML ----------------------------------------------------------------------------------


def test_html_keeps_visible_text_and_drops_scripts_styles_and_metadata() -> None:
    body = """
    <header><nav><a href="/">Home</a></nav></header>
    <h1>Main Heading</h1>
    <p>First   paragraph with <b>bold</b> and
       <a href="#">a link</a>.</p>
    <h2>Second &amp; Last</h2>
    <ul><li>one</li><li>two</li></ul>
    <table><tr><th>Name</th><th>Qty</th></tr><tr><td>Apple</td><td>3</td></tr></table>
    <template><p>template-marker</p></template>
    <svg viewBox="0 0 1 1"><title>svg-title-marker</title><text>svg-text-marker</text></svg>
    <style>p { color: blue }</style>
    <pre>code   keeps
  its spacing</pre>
    """
    doc = parse_document(html_page("Page Title", body), "page.html")
    assert doc.content_type == HTML
    assert doc.title == "Page Title"
    text = doc.text
    for marker in ("marker", "trackingMarker", "color", "font-family", "description"):
        assert marker not in text
    assert "# Main Heading" in text
    assert "First paragraph with bold and a link." in text
    assert "## Second & Last" in text
    assert "- one\n- two" in text
    assert "Name | Qty\nApple | 3" in text
    assert "Home" in text
    assert "code keeps\nits spacing" in text


def test_html_without_title_uses_the_first_h1() -> None:
    doc = parse_document(b"<html><body><h1>Only <i>H1</i></h1><p>x</p></body></html>", "a.htm")
    assert doc.title == "Only H1"


def test_html_in_a_declared_legacy_charset_is_decoded() -> None:
    markup = '<html><head><meta charset="windows-1252"></head><body><p>“Déjà vu”</p></body></html>'
    doc = parse_document(markup.encode("cp1252"), "old.html")
    assert doc.text == "“Déjà vu”"


def test_html_with_only_scripts_is_empty() -> None:
    with pytest.raises(EmptyFile):
        parse_document(b"<html><script>alert(1)</script><style>x{}</style></html>", "s.html")


# --- PDF -----------------------------------------------------------------------------------


def test_a_three_page_pdf_keeps_each_page_text_and_number() -> None:
    doc = parse_document(pdf_bytes(THREE_PAGES, title="Fruit Book"), "fruit.pdf")
    assert doc.content_type == PDF
    assert doc.page_count == 3
    assert doc.title == "Fruit Book"
    assert [page.page for page in doc.pages] == [1, 2, 3]
    for page, expected in zip(doc.pages, THREE_PAGES, strict=True):
        assert page.text == expected


def test_pdf_pages_without_text_are_left_out_but_counted() -> None:
    doc = parse_document(pdf_bytes(["first", "", "third"]), "gap.pdf")
    assert doc.page_count == 3
    assert [(page.page, page.text) for page in doc.pages] == [(1, "first"), (3, "third")]


def test_pdf_line_break_hyphenation_is_undone() -> None:
    doc = parse_document(pdf_bytes(["An exam-\nple of hyphen-\nation."]), "h.pdf")
    assert doc.text == "An example of hyphenation."


def test_a_pdf_that_needs_a_password_is_corrupt_with_a_clear_reason() -> None:
    data = encrypted_pdf(["secret"], user_password="open-sesame", owner_password="owner")
    with pytest.raises(CorruptFile, match="password") as caught:
        parse_document(data, "locked.pdf")
    assert "remove the password" in caught.value.reason


def test_a_pdf_encrypted_without_a_user_password_is_read() -> None:
    data = encrypted_pdf(["readable by anyone"], user_password="", owner_password="owner")
    assert parse_document(data, "restricted.pdf").text == "readable by anyone"


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_pdf_is_corrupt(cut: float) -> None:
    data = pdf_bytes(THREE_PAGES)
    with pytest.raises(CorruptFile, match="damaged"):
        parse_document(data[: int(len(data) * cut)], "cut.pdf")


def test_garbage_after_a_pdf_header_is_corrupt() -> None:
    with pytest.raises(CorruptFile):
        parse_document(b"%PDF-1.7\n" + bytes(range(256)) * 20, "junk.pdf")


def test_a_pdf_without_a_text_layer_is_empty_and_says_why() -> None:
    with pytest.raises(EmptyFile) as caught:
        parse_document(scanned_pdf(), "scan.pdf")
    assert caught.value.reason == "scanned: OCR found no text in it"


def test_a_pdf_over_the_page_limit_is_too_large() -> None:
    with pytest.raises(FileTooLarge, match="3 pages; the limit is 2"):
        parse_document(pdf_bytes(THREE_PAGES), "long.pdf", IngestLimits(max_pages=2))


def test_a_pdf_over_the_character_limit_stops_early() -> None:
    with pytest.raises(FileTooLarge, match="characters"):
        parse_document(pdf_bytes(THREE_PAGES), "long.pdf", IngestLimits(max_chars=80))


# --- DOCX ----------------------------------------------------------------------------------


def test_docx_headings_lists_and_tables_become_structured_text() -> None:
    data = docx_bytes(
        [
            ("title", "Quarterly Report"),
            ("h1", "Summary"),
            ("p", "Revenue grew in every region."),
            ("bullet", "North up 10%"),
            ("bullet", "South up 4%"),
            ("h2", "Details"),
            ("p", "See the table below."),
        ],
        table=[["Region", "Revenue"], ["North", "110"], ["South", "104"]],
    )
    doc = parse_document(data, "report.docx")
    assert doc.content_type == DOCX
    assert doc.page_count is None
    assert doc.title == "Quarterly Report"
    assert doc.text == (
        "# Quarterly Report\n\n# Summary\n\nRevenue grew in every region.\n\n"
        "- North up 10%\n- South up 4%\n\n## Details\n\nSee the table below.\n\n"
        "Region | Revenue\nNorth | 110\nSouth | 104"
    )


def test_docx_title_comes_from_its_properties_when_set() -> None:
    doc = parse_document(docx_bytes([("p", "text")], title="From Properties"), "t.docx")
    assert doc.title == "From Properties"


def test_an_empty_docx_is_empty() -> None:
    with pytest.raises(EmptyFile):
        parse_document(docx_bytes([("p", "   ")]), "blank.docx")


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return docx_zip_bomb(256 * 1024 * 1024)


def test_a_docx_zip_bomb_is_refused_without_unpacking(
    zip_bomb: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(zip_bomb) < 1024 * 1024  # 256 MiB of XML in well under 1 MiB
    # The refusal must come from the archive's directory alone: not one part may be opened.
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def recording_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(getattr(name, "filename", name)))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    with pytest.raises(CorruptFile, match="built to expand"):
        parse_document(zip_bomb, "bomb.docx")
    assert opened == []


def test_a_docx_bomb_is_refused_by_total_size_when_the_ratio_is_allowed(zip_bomb: bytes) -> None:
    limits = IngestLimits(max_zip_ratio=10_000)
    with pytest.raises(FileTooLarge, match="unpacks to 256 MiB; the limit is 200 MiB"):
        parse_document(zip_bomb, "bomb.docx", limits)


def test_docx_xml_over_the_cap_is_refused() -> None:
    data = docx_bytes([("p", "word " * 5000)])
    with pytest.raises(FileTooLarge, match=r"word/document\.xml"):
        parse_document(data, "big.docx", IngestLimits(max_xml_bytes=10_000))


def test_a_truncated_docx_is_corrupt() -> None:
    data = docx_bytes([("p", "hello")])
    with pytest.raises(CorruptFile, match="not a readable ZIP"):
        parse_document(data[: len(data) // 2], "cut.docx")


def test_a_docx_with_broken_xml_is_corrupt() -> None:
    data = zip_bytes({"word/document.xml": b"<w:document><w:body><w:p>unclosed"})
    with pytest.raises(CorruptFile, match="XML"):
        parse_document(data, "bad.docx")


def test_docx_xml_entity_expansion_is_impossible() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""
    with pytest.raises(CorruptFile):
        parse_document(zip_bytes({"word/document.xml": laughs}), "laughs.docx")


def test_docx_external_entities_are_never_fetched() -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"""
    with pytest.raises(CorruptFile):
        parse_document(zip_bytes({"word/document.xml": xxe}), "xxe.docx")
