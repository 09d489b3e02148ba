"""XLSX: every sheet as a table, its first non-empty row as the header repeated in each chunk,
formula cells as the values Excel cached when it saved, located as "Sheet, rows a–b".

`zipsafe` checks the ZIP and refuses DTDs before openpyxl (read-only, streaming, defusedxml when
installed) reads it. Rows are counted against `max_rows`, so a sheet of a million rows stops
early instead of filling memory.
"""

from __future__ import annotations

import datetime as dt
import io

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest.detect import XLSX
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.rows import row_sections
from ragis.ingest.parsers.zipsafe import open_checked

__all__ = ["parse_xlsx"]


def parse_xlsx(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    open_checked(data, name, "XLSX", limits).close()
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    pages: list[PageText] = []
    rows_seen = 0
    chars = 0
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                rows: list[tuple[int, str]] = []
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    rows_seen += 1
                    if rows_seen > limits.max_rows:
                        raise FileTooLarge(
                            name, f"it has more than {limits.max_rows:,} rows; that is the limit"
                        )
                    cells = [_cell(value) for value in values]
                    while cells and not cells[-1]:
                        cells.pop()
                    if cells:
                        line = " | ".join(cells)
                        chars += len(line)
                        if chars > limits.max_chars:
                            raise FileTooLarge(
                                name,
                                f"its text passes the limit of {limits.max_chars:,} characters",
                            )
                        rows.append((number, line))
                pages.extend(row_sections(rows, sheet.title))
        finally:
            workbook.close()
    except FileTooLarge:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, TypeError, XML errors...
        raise CorruptFile(name, "the XLSX is damaged: openpyxl cannot read it") from exc
    return ParsedDocument(XLSX, pages, None, None)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())
