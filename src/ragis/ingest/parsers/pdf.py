"""PDF: the text layer of each page, with its 1-based page number, through pypdf; OCR for scans.

The page count is checked before any text is extracted, and the extracted characters are
counted page by page, so a huge PDF stops early with `FileTooLarge`. pypdf bounds every stream it
decompresses (75 MB by default). A PDF that needs a password, or that pypdf cannot read, raises
`CorruptFile`.

A page without a text layer is a scan: it is read by OCR (`ragis.ingest.ocr`) when Tesseract is
installed and RAGIS_OCR is not off, at most `ocr.max_pages` of them within `ocr.budget` seconds.
The pages that could not be read are named in the document's `warnings`; if no page has text at
all, the file is refused (`EmptyFile`, "scanned: install tesseract-ocr to read it").
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ragis.errors import CorruptFile, EmptyFile, FileRejected, FileTooLarge
from ragis.ingest.detect import PDF
from ragis.ingest.limits import IngestLimits
from ragis.ingest.ocr import OcrError, OcrSettings, find_tesseract, read_page
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
    texts: dict[int, str] = {}
    scanned: list[int] = []
    chars = 0
    for number, page in enumerate(reader.pages, start=1):
        text = normalize_text(page.extract_text() or "", dehyphenate=True)
        chars = _count(name, chars, text, limits)
        if text:
            texts[number] = text
        else:
            scanned.append(number)
    ocr = _Ocr()
    if scanned:
        ocr = _read_scanned(data, scanned, limits.ocr)
        for number, text in ocr.texts.items():
            chars = _count(name, chars, text, limits)
            texts[number] = text
    if not texts:
        raise EmptyFile(name, ocr.empty_reason())
    pages = [PageText(number, texts[number]) for number in sorted(texts)]
    return ParsedDocument(PDF, pages, page_count, _title(reader), warnings=tuple(ocr.warnings))


def _count(name: str, chars: int, text: str, limits: IngestLimits) -> int:
    chars += len(text)
    if chars > limits.max_chars:
        raise FileTooLarge(name, f"its text passes the limit of {limits.max_chars:,} characters")
    return chars


@dataclass(slots=True)
class _Ocr:
    """What OCR made of the scanned pages: their text, and sentences about the rest."""

    texts: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None

    def empty_reason(self) -> str:
        """Why a file whose pages all came out empty has no text."""
        return self.reason or (self.warnings[0] if self.warnings else "there is no text in it")


# No page is begun with less time than this left: Tesseract cannot read one that fast, and the
# page would end as a timeout warning instead of the budget's (two clock reads can fall within a
# microsecond, so a budget of ~0 sometimes left a positive sliver for the first page).
_MIN_PAGE_SECONDS = 0.01


def _read_scanned(data: bytes, scanned: Sequence[int], settings: OcrSettings) -> _Ocr:
    """OCR of the `scanned` page numbers, within the settings' page count, page time and budget."""
    result = _Ocr()
    why_not = settings.unavailable()
    binary = find_tesseract(settings.command)
    if why_not is not None or binary is None:
        why_not = why_not or "install tesseract-ocr to read it"
        result.reason = f"scanned: {why_not}"
        result.warnings.append(f"{_pages(scanned)} scanned: {why_not}")
        return result
    import pypdfium2  # type: ignore[import-untyped]  # the renderer, only when a scan arrives

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        result.warnings.append(f"{_pages(scanned)} scanned, not read: PDFium cannot open the file")
        return result
    try:
        deadline = time.monotonic() + settings.budget
        for index, number in enumerate(scanned):
            left = deadline - time.monotonic()
            if index >= settings.max_pages or left < _MIN_PAGE_SECONDS:
                limit = (
                    f"OCR reads at most {settings.max_pages} pages a file (RAGIS_OCR_MAX_PAGES)"
                    if index >= settings.max_pages
                    else f"OCR used its {settings.budget:g} s for this file"
                )
                result.warnings.append(f"{_pages(scanned[index:])} scanned, not read: {limit}")
                break
            try:
                text = _read(document, number, settings, binary, min(settings.page_timeout, left))
            except OcrError as exc:
                result.warnings.append(f"page {number} scanned, not read: {exc}")
                continue
            text = normalize_text(text, dehyphenate=True)
            if text:
                result.texts[number] = text
    finally:
        document.close()
    if not result.texts and not result.warnings:
        result.reason = "scanned: OCR found no text in it"
    return result


def _read(document: Any, number: int, settings: OcrSettings, binary: str, timeout: float) -> str:
    import pypdfium2

    try:
        page = document[number - 1]
    except (pypdfium2.PdfiumError, IndexError) as exc:
        raise OcrError("PDFium cannot open the page") from exc
    try:
        return read_page(page, settings, binary, timeout)
    finally:
        page.close()


def _pages(numbers: Sequence[int]) -> str:
    """ "page 3" or "pages 2, 5–7" (runs of consecutive pages as ranges)."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    text = ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)
    return f"page {text}" if len(numbers) == 1 else f"pages {text}"


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
