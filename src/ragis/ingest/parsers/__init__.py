"""`parse_document`: uploaded bytes in, clean text per page out.

It checks the size, detects the type from the content (`ragis.ingest.detect`), hands the bytes to
the parser of that type and checks what came back: no text raises `EmptyFile`, too much text
`FileTooLarge`. Every parser returns text already normalised by `normalize_text`. The parser
modules (and so pypdf, defusedxml) are imported only when a file of their type arrives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from ragis.errors import EmptyFile, FileTooLarge
from ragis.ingest.detect import (
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
    detect_type,
)
from ragis.ingest.limits import IngestLimits
from ragis.ingest.names import sanitize_filename

__all__ = ["DEFAULT_LIMITS", "Attachment", "PageText", "ParsedDocument", "Parser", "parse_document"]

DEFAULT_LIMITS = IngestLimits()


@dataclass(frozen=True, slots=True)
class PageText:
    """The text of one page or section: `page` is 1-based for PDF and slides, None for types
    without pages; `locator` is a reader's label finer than the page ("slide 4", "Sheet1, rows
    2–41", a chapter title), kept by every chunk of the section; `header` (a table's header row)
    is repeated at the top of each chunk the chunker cuts from the section."""

    page: int | None
    text: str
    locator: str | None = None
    header: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried inside another (an e-mail's attachment), ingested as its own document."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A parsed upload; `pages` holds only pages with text, `page_count` counts them all (PDF)."""

    content_type: str
    pages: list[PageText]
    page_count: int | None
    title: str | None
    attachments: tuple[Attachment, ...] = ()
    warnings: tuple[str, ...] = ()
    """Sentences about text that could not be read ("pages 3–4 scanned: install tesseract-ocr
    to read it"), shown with the upload's result."""

    @property
    def text(self) -> str:
        """All the text, pages separated by a blank line."""
        return "\n\n".join(page.text for page in self.pages)


Parser = Callable[[bytes, str, IngestLimits], ParsedDocument]
"""A parser takes the bytes, the sanitised display name (for errors) and the limits."""


def parse_document(
    data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS
) -> ParsedDocument:
    """Detect, parse and normalise an upload; raise a `FileRejected` error if ragis cannot."""
    name = sanitize_filename(filename)
    if not data:
        raise EmptyFile(name, "the file is empty")
    if len(data) > limits.max_file_bytes:
        raise FileTooLarge(
            name, f"the file has {_mib(len(data))}; the limit is {_mib(limits.max_file_bytes)}"
        )
    content_type = detect_type(data, filename)
    document = _parser_for(content_type)(data, name, limits)
    pages = [page for page in document.pages if page.text]
    if not pages and not document.attachments:
        raise EmptyFile(name, "there is no text in this file")
    chars = sum(len(page.text) for page in pages)
    if chars > limits.max_chars:
        raise FileTooLarge(
            name, f"it holds {chars:,} characters of text; the limit is {limits.max_chars:,}"
        )
    if len(pages) != len(document.pages):
        document = dataclasses.replace(document, pages=pages)
    return document


def _parser_for(content_type: str) -> Parser:
    if content_type == PDF:
        from ragis.ingest.parsers.pdf import parse_pdf

        return parse_pdf
    if content_type == DOCX:
        from ragis.ingest.parsers.docx import parse_docx

        return parse_docx
    if content_type == HTML:
        from ragis.ingest.parsers.html import parse_html

        return parse_html
    if content_type == PPTX:
        from ragis.ingest.parsers.pptx import parse_pptx

        return parse_pptx
    if content_type == XLSX:
        from ragis.ingest.parsers.xlsx import parse_xlsx

        return parse_xlsx
    if content_type in {CSV, TSV}:
        from ragis.ingest.parsers.csv import parse_csv, parse_tsv

        return parse_csv if content_type == CSV else parse_tsv
    if content_type == EPUB:
        from ragis.ingest.parsers.epub import parse_epub

        return parse_epub
    if content_type == ODT:
        from ragis.ingest.parsers.odt import parse_odt

        return parse_odt
    if content_type == EML:
        from ragis.ingest.parsers.eml import parse_eml

        return parse_eml
    from ragis.ingest.parsers.text import parse_markdown, parse_plain_text

    if content_type == MARKDOWN:
        return parse_markdown
    assert content_type == PLAIN_TEXT, content_type
    return parse_plain_text


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
