"""The limits that bound what one upload may cost to ingest, with their defaults.

Every limit exists because a small upload can be built to cost far more than its size: a PDF of
many thousand empty pages, or a 100 KB DOCX whose XML expands to gigabytes. Going over a size,
page or character limit raises `FileTooLarge`; a ZIP built to expand raises `CorruptFile`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ragis.ingest.ocr import OcrSettings

__all__ = ["IngestLimits"]

_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What one uploaded file may cost. The defaults suit a single-user or small-team server."""

    max_file_bytes: int = 64 * _MiB
    """Size of the upload itself."""
    max_pages: int = 2_000
    """Pages of a PDF (counted before any text is extracted)."""
    max_chars: int = 20_000_000
    """Characters of extracted text, for every type (about 5 M tokens, 20 k chunks)."""
    max_unzipped_bytes: int = 200 * _MiB
    """DOCX, PPTX, XLSX, EPUB, ODT: the declared uncompressed size of all ZIP entries together,
    checked before reading."""
    max_zip_ratio: int = 100
    """ZIP-based types: the highest uncompressed/compressed ratio of an entry over 1 MiB."""
    max_zip_entries: int = 10_000
    """ZIP-based types: entries in the ZIP's central directory."""
    max_xml_bytes: int = 64 * _MiB
    """DOCX: bytes read from `word/document.xml` (the read stops there, whatever the ZIP says)."""
    max_rows: int = 200_000
    """XLSX, CSV, TSV: rows of all sheets together (each row costs a line of text)."""
    max_xml_depth: int = 256
    """DOCX: nesting depth of `word/document.xml` (a table in a table is about 5 levels more)."""
    ocr: OcrSettings = field(default_factory=OcrSettings)
    """PDF: how pages without a text layer are read (OCR), and what that may cost."""

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            if isinstance(value, int) and value <= 0:
                raise ValueError(f"IngestLimits.{each.name} must be positive")
