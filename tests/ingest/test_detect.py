from __future__ import annotations

import codecs
import gzip

import pytest

from ragis.errors import UnsupportedFile
from ragis.ingest import (
    CSV,
    DOCX,
    EML,
    EPUB,
    HTML,
    MARKDOWN,
    ODT,
    PDF,
    PLAIN_TEXT,
    PPTX,
    TSV,
    XLSX,
    decode_text,
    detect_type,
)
from support.documents import docx_bytes, html_page, pdf_bytes, png_bytes, zip_bytes


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return pdf_bytes(["hello"])


@pytest.fixture(scope="module")
def docx() -> bytes:
    return docx_bytes([("p", "hello")])


def test_detects_each_supported_type_by_content(pdf: bytes, docx: bytes) -> None:
    assert detect_type(pdf, "a.pdf") == PDF
    assert detect_type(docx, "a.docx") == DOCX
    assert detect_type(html_page("t", "<p>x</p>"), "a.html") == HTML
    assert detect_type(b"# Title\n\ntext", "a.md") == MARKDOWN
    assert detect_type(b"# Title\n\ntext", "a.markdown") == MARKDOWN
    assert detect_type(b"just some text", "a.txt") == PLAIN_TEXT


def test_a_pdf_named_txt_is_a_pdf(pdf: bytes) -> None:
    assert detect_type(pdf, "notes.txt") == PDF
    assert detect_type(pdf, "no-extension") == PDF


def test_a_docx_named_otherwise_is_a_docx(docx: bytes) -> None:
    assert detect_type(docx, "archive.zip") == DOCX
    assert detect_type(docx, "file.txt") == DOCX


def test_text_named_pdf_or_docx_is_text() -> None:
    assert detect_type(b"plain words, no PDF here", "fake.pdf") == PLAIN_TEXT
    assert detect_type(b"plain words", "fake.docx") == PLAIN_TEXT


def test_html_is_sniffed_whatever_the_name() -> None:
    assert detect_type(b"<!DOCTYPE html><html><body>x</body></html>", "page.txt") == HTML
    assert detect_type(b"\xef\xbb\xbf  \n<html lang='en'><p>x", "noname") == HTML
    assert detect_type(b"<!-- generated -->\n<html>\n<body>x</body>", "x.md") == HTML
    assert detect_type(b"<p>a fragment</p>", "fragment.htm") == HTML


def test_markdown_that_mentions_html_tags_stays_markdown() -> None:
    text = b"# Notes\n\nUse <html> and <body> tags carefully.\n"
    assert detect_type(text, "notes.md") == MARKDOWN


def test_a_png_named_txt_is_rejected_as_an_image() -> None:
    with pytest.raises(UnsupportedFile, match="PNG image") as caught:
        detect_type(png_bytes(), "photo.txt")
    assert caught.value.filename == "photo.txt"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00", "GIF image"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP image"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(64), "ELF executable"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64), "Windows executable"),
        (gzip.compress(b"hello"), "gzip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "legacy Microsoft Office"),
        (b"{\\rtf1\\ansi hello}", "RTF document"),
        (b"SQLite format 3\x00" + bytes(84), "SQLite database"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(16), "MP4"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG image"),
    ],
)
def test_known_binary_formats_are_rejected_by_name(data: bytes, kind: str) -> None:
    with pytest.raises(UnsupportedFile, match=kind):
        detect_type(data, "upload.txt")


def test_a_zip_that_is_not_a_docx_is_rejected() -> None:
    data = zip_bytes({"readme.txt": b"hello", "data/x.csv": b"a,b"})
    with pytest.raises(UnsupportedFile, match="ZIP archive"):
        detect_type(data, "fake.docx")


def test_office_zips_are_told_apart_by_their_parts_not_their_names() -> None:
    xlsx = zip_bytes({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"})
    assert detect_type(xlsx, "sheet.txt") == XLSX
    pptx = zip_bytes({"ppt/presentation.xml": b"<p/>", "[Content_Types].xml": b"<Types/>"})
    assert detect_type(pptx, "deck.docx") == PPTX
    odt = zip_bytes({"mimetype": ODT.encode(), "content.xml": b"<x/>"})
    assert detect_type(odt, "doc.zip") == ODT
    epub = zip_bytes({"mimetype": EPUB.encode(), "META-INF/container.xml": b"<x/>"})
    assert detect_type(epub, "book") == EPUB


def test_other_opendocument_files_are_named() -> None:
    ods = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    with pytest.raises(UnsupportedFile, match="OpenDocument"):
        detect_type(ods, "sheet.ods")


def test_text_types_are_told_apart_by_name_and_headers() -> None:
    assert detect_type(b"a,b\n1,2\n", "t.csv") == CSV
    assert detect_type(b"a\tb\n1\t2\n", "t.tsv") == TSV
    assert detect_type(b"From: a@b.c\nSubject: hi\n\nbody\n", "m.eml") == EML
    assert detect_type(b"just some words\n", "m.eml") == PLAIN_TEXT


def test_a_damaged_zip_is_rejected_unless_named_docx(docx: bytes) -> None:
    broken = docx[:100]
    with pytest.raises(UnsupportedFile, match="damaged ZIP"):
        detect_type(broken, "x.zip")
    assert detect_type(broken, "x.docx") == DOCX  # the DOCX parser then says it is corrupt


def test_nul_bytes_or_many_control_characters_mean_binary() -> None:
    with pytest.raises(UnsupportedFile, match="binary file"):
        detect_type(b"abc\x00def" * 10, "x.txt")
    with pytest.raises(UnsupportedFile, match="binary file"):
        detect_type(bytes(range(1, 32)) * 20 + b"some text", "x.txt")


def test_text_in_any_common_encoding_is_text() -> None:
    assert detect_type(codecs.BOM_UTF8 + "héllo".encode(), "a.txt") == PLAIN_TEXT
    assert detect_type("café crème".encode("latin-1"), "a.txt") == PLAIN_TEXT
    assert detect_type("héllo wörld".encode("utf-16"), "a.txt") == PLAIN_TEXT
    assert detect_type(b"col1\tcol2\r\n1\t2\r\n\x0c", "data.tsv") == TSV
    assert detect_type(b"", "empty.txt") == PLAIN_TEXT


def test_decode_text_handles_boms_and_single_byte_encodings() -> None:
    assert decode_text(codecs.BOM_UTF8 + "naïve".encode()) == "naïve"
    assert decode_text("naïve".encode("utf-16")) == "naïve"
    assert decode_text(codecs.BOM_UTF16_BE + "ok".encode("utf-16-be")) == "ok"
    assert decode_text("café".encode("latin-1")) == "café"
    assert decode_text("“quoted” – dash".encode("cp1252")) == "“quoted” – dash"
    assert decode_text(b"\x81\x8d\x8f") == "\x81\x8d\x8f"  # not cp1252: latin-1 never fails


def test_decode_text_keeps_utf8_with_a_few_broken_bytes_as_utf8() -> None:
    data = ("ünïcödé text " * 20).encode() + b"\xff"
    text = decode_text(data)
    assert text.startswith("ünïcödé")
    assert text.endswith("\ufffd")
