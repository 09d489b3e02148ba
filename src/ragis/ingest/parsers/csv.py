"""CSV and TSV: rows grouped under their header row (repeated in each chunk), located as
"rows a–b". The stdlib `csv` reads them, the delimiter sniffed from the start of the file (TSV is
always tab), with a cap on a single field and on the number of rows.
"""

from __future__ import annotations

import csv
import io

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest.detect import CSV, TSV, decode_text
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import ParsedDocument
from ragis.ingest.parsers.rows import row_sections

__all__ = ["parse_csv", "parse_tsv"]

_SNIFF_CHARS = 64 * 1024
_MAX_FIELD_CHARS = 1024 * 1024


def parse_csv(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    return _parse(data, name, limits, CSV)


def parse_tsv(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    return _parse(data, name, limits, TSV)


def _parse(data: bytes, name: str, limits: IngestLimits, content_type: str) -> ParsedDocument:
    text = decode_text(data).lstrip("\ufeff")
    delimiter = "\t" if content_type == TSV else _sniff(text[:_SNIFF_CHARS])
    # A process-wide setting of the csv module: fine in the parse sandbox's one-file child.
    csv.field_size_limit(_MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, str]] = []
    try:
        for number, record in enumerate(reader, start=1):
            if number > limits.max_rows:
                raise FileTooLarge(
                    name, f"it has more than {limits.max_rows:,} rows; that is the limit"
                )
            cells = [" ".join(cell.split()) for cell in record]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                rows.append((number, " | ".join(cells)))
    except csv.Error as exc:
        raise CorruptFile(name, f"the file cannot be read as {_kind(content_type)}: {exc}") from exc
    return ParsedDocument(content_type, row_sections(rows, None), None, None)


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _kind(content_type: str) -> str:
    return "CSV" if content_type == CSV else "TSV"
