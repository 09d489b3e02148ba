"""PPTX: each slide's text (titles first, then shapes in reading order, tables row by row) and
its speaker notes, a page per slide, located as "slide N".

The ZIP and its XML are checked by `zipsafe` before python-pptx (lxml, entities not resolved)
reads a byte; the slide count is limited by `IngestLimits.max_pages`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest.detect import PPTX
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.text import normalize_text
from ragis.ingest.parsers.zipsafe import open_checked

__all__ = ["parse_pptx"]

_MAX_GROUP_DEPTH = 32


def parse_pptx(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    open_checked(data, name, "PPTX", limits).close()
    from pptx import Presentation

    try:
        presentation = Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
    except Exception as exc:  # python-pptx raises KeyError, lxml errors, ValueError...
        raise CorruptFile(name, "the PPTX is damaged: python-pptx cannot read it") from exc
    if len(slides) > limits.max_pages:
        raise FileTooLarge(
            name, f"it has {len(slides):,} slides; the limit is {limits.max_pages:,}"
        )
    pages: list[PageText] = []
    title: str | None = None
    for number, slide in enumerate(slides, start=1):
        parts = list(_slide_parts(slide))
        if title is None and parts and parts[0].startswith("# "):
            title = parts[0][2:]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(f"Notes: {notes.text.strip()}")
        text = normalize_text("\n\n".join(parts))
        pages.append(PageText(number, text, f"slide {number}"))
    core_title = (presentation.core_properties.title or "").strip()
    return ParsedDocument(PPTX, pages, len(slides), core_title or title)


def _slide_parts(slide: Any) -> Iterator[str]:
    title_shape = slide.shapes.title
    if title_shape is not None and title_shape.has_text_frame and title_shape.text.strip():
        yield f"# {' '.join(title_shape.text.split())}"
    shapes = [shape for shape in slide.shapes if shape is not title_shape]
    yield from _shapes_text(_reading_order(shapes), 0)


def _reading_order(shapes: list[Any]) -> list[Any]:
    """Top to bottom, then left to right; shapes without a position keep their XML order."""
    return sorted(shapes, key=lambda shape: ((shape.top or 0), (shape.left or 0)))


def _shapes_text(shapes: list[Any], depth: int) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6 and depth < _MAX_GROUP_DEPTH:  # a group
            yield from _shapes_text(_reading_order(list(shape.shapes)), depth + 1)
        elif getattr(shape, "has_table", False):
            for row in shape.table.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    yield " | ".join(cells)
        elif getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
            yield shape.text_frame.text.strip()
