"""PDF: the text layer of each page, with its 1-based page number, through pypdf.

The page count is checked before any text is extracted, and the extracted characters are
counted page by page, so a huge PDF stops early with `FileTooLarge`. pypdf bounds every stream it
decompresses (75 MB by default). A PDF that needs a password, or that pypdf cannot read, raises
`CorruptFile`; one without any text (a scan) raises `EmptyFile`: ragis does no OCR.
"""

from __future__ import annotations

import io

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ragis.errors import CorruptFile, EmptyFile, FileRejected, FileTooLarge
from ragis.ingest.detect import PDF
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.text import normalize_text

__all__ = ["parse_pdf"]

_NEEDS_PASSWORD = "the PDF is protected by a password; remove the password and upload it again"


def parse_pdf(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    try:
        return _parse(data, name, limits)
    except FileRejected:
        raise
    except FileNotDecryptedError as exc:
        raise CorruptFile(name, _NEEDS_PASSWORD) from exc
    except DependencyError as exc:
        raise CorruptFile(name, "the PDF uses an encryption ragis cannot open") from exc
    except Exception as exc:  # pypdf raises many kinds of error on a damaged or hostile file
        raise CorruptFile(name, "the PDF is damaged and cannot be read") from exc


def _parse(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise CorruptFile(name, _NEEDS_PASSWORD)
    page_count = len(reader.pages)
    if page_count == 0:
        raise EmptyFile(name, "the PDF has no pages")
    if page_count > limits.max_pages:
        raise FileTooLarge(
            name, f"the PDF has {page_count:,} pages; the limit is {limits.max_pages:,}"
        )
    pages: list[PageText] = []
    chars = 0
    for number, page in enumerate(reader.pages, start=1):
        text = normalize_text(page.extract_text() or "", dehyphenate=True)
        chars += len(text)
        if chars > limits.max_chars:
            raise FileTooLarge(
                name, f"its text passes the limit of {limits.max_chars:,} characters"
            )
        if text:
            pages.append(PageText(number, text))
    if not pages:
        raise EmptyFile(name, "no text layer (scanned PDF?); OCR is not supported")
    return ParsedDocument(PDF, pages, page_count, _title(reader))


def _title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        raw = metadata.title if metadata is not None else None
    except Exception:  # a broken info dictionary costs only the title
        return None
    if not isinstance(raw, str):
        return None
    title = " ".join(normalize_text(raw).split())
    return title or None
