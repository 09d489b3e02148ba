"""Tables (XLSX sheets, CSV/TSV) as sections of rows that each carry their header row.

Rows are written one a line, cells joined with ` | `. A table becomes several sections of
about `_SECTION_CHARS` characters, each labelled with its row range ("rows 2–41", prefixed with
the sheet name) and carrying the header row, which the chunker repeats at the top of every chunk:
a chunk of row 900 still says what its columns are.
"""

from __future__ import annotations

from collections.abc import Iterable

from ragis.ingest.parsers import PageText

__all__ = ["row_sections"]

# Under one chunk (240 tokens) of table text even when codes and numbers make it ~2 characters a
# token, so a section is almost always one chunk and its row range is the chunk's; a section the
# chunker still cuts gives each piece the section's range, which covers the piece's rows.
_SECTION_CHARS = 450


def row_sections(
    rows: Iterable[tuple[int, str]], label: str | None, page: int | None = None
) -> list[PageText]:
    """Sections of `rows` ((1-based row number, row text)); the first row is the header."""
    sections: list[PageText] = []
    header: str | None = None
    group: list[tuple[int, str]] = []
    size = 0

    def flush() -> None:
        if not group:
            return
        first, last = group[0][0], group[-1][0]
        span = f"row {first}" if first == last else f"rows {first}\u2013{last}"
        locator = f"{label}, {span}" if label else span
        body = "\n".join(text for _, text in group)
        text = f"{header}\n{body}" if header else body
        sections.append(PageText(page, text, locator, header))

    for number, text in rows:
        if header is None:
            header = text
            continue
        if group and size + len(text) > _SECTION_CHARS:
            flush()
            group, size = [], 0
        group.append((number, text))
        size += len(text) + 1
    flush()
    if not sections and header is not None:  # a table of one row: the header is all there is
        sections.append(PageText(page, header, label or "row 1", None))
    return sections
