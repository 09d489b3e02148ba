"""Ingestion: uploaded bytes in, clean text and token-aware chunks out.

    data, filename
      -> sanitize_filename   the display name (never a path or a key)
      -> detect_type         from the content first: PDF, Office and ODF, EPUB, HTML, e-mail,
                             CSV/TSV, Markdown, plain text
      -> parse_document      text per page, normalised; FileRejected errors for the rest
      -> Chunker.chunk       chunks of <= 240 all-MiniLM-L6-v2 tokens with 40 tokens of overlap

Everything here is synchronous and CPU-bound: call it from a worker thread in async code.
"""

from __future__ import annotations

from ragis.ingest.chunking import Chunk, Chunker, load_tokenizer
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
    SUPPORTED_TYPES,
    TSV,
    XLSX,
    decode_text,
    detect_type,
)
from ragis.ingest.limits import IngestLimits
from ragis.ingest.names import sanitize_filename
from ragis.ingest.parsers import Attachment, PageText, ParsedDocument, parse_document
from ragis.ingest.parsers.text import normalize_text

__all__ = [
    "CSV",
    "DOCX",
    "EML",
    "EPUB",
    "HTML",
    "MARKDOWN",
    "ODT",
    "PDF",
    "PLAIN_TEXT",
    "PPTX",
    "SUPPORTED_TYPES",
    "TSV",
    "XLSX",
    "Attachment",
    "Chunk",
    "Chunker",
    "IngestLimits",
    "PageText",
    "ParsedDocument",
    "decode_text",
    "detect_type",
    "load_tokenizer",
    "normalize_text",
    "parse_document",
    "sanitize_filename",
]
