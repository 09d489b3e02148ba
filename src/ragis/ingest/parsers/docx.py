"""DOCX: paragraphs, headings (as `#` lines), list items and tables (one row a line, cells
joined with ` | `), read straight from the XML of `word/document.xml`.

A DOCX is a ZIP, and a ZIP can be a bomb, so before anything is decompressed the central
directory is checked: entry count, the declared uncompressed total, and the compression ratio of
every large entry. The parts are then read with a hard byte cap (the read stops there whatever
the headers claim) and parsed by defusedxml with DTDs and entities forbidden, so no entity
expansion and no external fetch can happen. `word/document.xml` is parsed as a stream: each
top-level paragraph or table is turned into text and dropped (cleared and detached from the
body, so millions of empty paragraphs cost no memory) before the next one is read. XML nested
deeper than `IngestLimits.max_xml_depth` is refused as it is read: real documents stay far
below it, and the walks over a block's content recurse once per nested table or control.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest.detect import DOCX
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.text import normalize_text
from ragis.ingest.parsers.zipsafe import ZIP_ERRORS, check_directory, read_part

__all__ = ["parse_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_BODY, _P, _TBL, _TR, _TC = _W + "body", _W + "p", _W + "tbl", _W + "tr", _W + "tc"
_CONTAINERS = frozenset({_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "smartTag"})
_NOT_TEXT = frozenset({_W + "pPr", _W + "rPr", _W + "del", _W + "moveFrom", _MC_FALLBACK})
_VAL = _W + "val"

_MiB = 1024 * 1024
_SMALL_PART_CAP = 8 * _MiB
_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_HEADING_ID = re.compile(r"^heading([1-9])$", re.IGNORECASE)
_XML_ERRORS = (ParseError, DefusedXmlException, ValueError)


def parse_docx(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (*ZIP_ERRORS, ValueError) as exc:
        raise CorruptFile(name, "the DOCX is damaged: it is not a readable ZIP archive") from exc
    with archive:
        check_directory(archive, name, "DOCX", limits)
        document = read_part(archive, "word/document.xml", name, "DOCX", limits)
        styles = _read_optional(archive, "word/styles.xml", name, limits)
        core = _read_optional(archive, "docProps/core.xml", name, limits)
    reader = _BodyReader(_heading_levels(styles, name), limits, name)
    text = normalize_text(reader.read(document))
    return ParsedDocument(DOCX, [PageText(None, text)], None, _core_title(core) or reader.title)


def _read_optional(
    archive: zipfile.ZipFile, part: str, name: str, limits: IngestLimits
) -> bytes | None:
    if part not in archive.namelist():
        return None
    return read_part(archive, part, name, "DOCX", limits, cap=_SMALL_PART_CAP)


def _parse_small(data: bytes, name: str) -> Element:
    try:
        return fromstring(data, forbid_dtd=True)
    except _XML_ERRORS as exc:
        raise CorruptFile(name, "the DOCX is damaged: its XML cannot be read") from exc


def _heading_levels(styles: bytes | None, name: str) -> dict[str, int]:
    """Map paragraph style ids to heading levels: "heading N" names, Title, outline levels."""
    if styles is None:
        return {}
    own: dict[str, int] = {}
    based_on: dict[str, str] = {}
    for style in _parse_small(styles, name).iter(_W + "style"):
        style_id = style.get(_W + "styleId")
        if not style_id or style.get(_W + "type", "paragraph") != "paragraph":
            continue
        level = _style_level(style)
        if level is not None:
            own[style_id] = level
        parent = style.find(_W + "basedOn")
        if parent is not None and parent.get(_VAL):
            based_on[style_id] = parent.get(_VAL, "")
    levels: dict[str, int] = {}
    for style_id in based_on.keys() | own.keys():
        current, seen = style_id, set[str]()
        while current not in own and current in based_on and current not in seen:
            seen.add(current)
            current = based_on[current]
        if current in own:
            levels[style_id] = own[current]
    return levels


def _style_level(style: Element) -> int | None:
    name_element = style.find(_W + "name")
    style_name = (name_element.get(_VAL, "") if name_element is not None else "").strip()
    found = _HEADING_NAME.match(style_name)
    if found:
        return int(found.group(1))
    if style_name.lower() == "title":
        return 1
    outline = style.find(f"{_W}pPr/{_W}outlineLvl")
    return _outline_level(outline)


def _outline_level(outline: Element | None) -> int | None:
    if outline is None:
        return None
    value = outline.get(_VAL, "")
    return int(value) + 1 if value.isdigit() and int(value) < 6 else None


def _core_title(core: bytes | None) -> str | None:
    if core is None:
        return None
    try:
        root = fromstring(core, forbid_dtd=True)
    except _XML_ERRORS:
        return None  # a broken metadata part costs only the title
    element = root.find(_DC_TITLE)
    title = " ".join((element.text or "").split()) if element is not None else ""
    return title or None


class _BodyReader:
    """Turns the body of `word/document.xml` into text, one top-level block at a time."""

    def __init__(self, heading_levels: dict[str, int], limits: IngestLimits, name: str) -> None:
        self._levels = heading_levels
        self._max_chars = limits.max_chars
        self._max_depth = limits.max_xml_depth
        self._name = name
        self._chars = 0
        self.title: str | None = None

    def read(self, document: bytes) -> str:
        out: list[str] = []
        previous_kind = ""
        for kind, text in self._blocks(document):
            if out:
                out.append("\n" if kind == previous_kind and kind in {"list", "row"} else "\n\n")
            out.append(text)
            previous_kind = kind
            self._chars += len(text)
            if self._chars > self._max_chars:
                raise FileTooLarge(
                    self._name, f"its text passes the limit of {self._max_chars:,} characters"
                )
        return "".join(out)

    def _blocks(self, document: bytes) -> Iterator[tuple[str, str]]:
        stack: list[Element] = []
        try:
            events = iterparse(io.BytesIO(document), events=("start", "end"), forbid_dtd=True)
            for event, element in events:
                if event == "start":
                    stack.append(element)
                    if len(stack) > self._max_depth:
                        raise CorruptFile(
                            self._name,
                            f"the DOCX nests its XML more than {self._max_depth} levels deep",
                        )
                    continue
                stack.pop()
                if len(stack) == 2 and stack[1].tag == _BODY:
                    yield from self._block(element)
                    element.clear()
                    # Detached too: a cleared element still costs ~100 bytes while it stays
                    # in the body, and it is the body's only child, so this is O(1).
                    stack[1].remove(element)
        except _XML_ERRORS as exc:
            raise CorruptFile(self._name, "the DOCX is damaged: its XML cannot be read") from exc

    def _block(self, element: Element) -> Iterator[tuple[str, str]]:
        if element.tag == _P:
            block = self._paragraph(element)
            if block is not None:
                yield block
        elif element.tag == _TBL:
            for row in _table_rows(element):
                yield "row", row
        elif element.tag in _CONTAINERS:
            for child in element:
                yield from self._block(child)

    def _paragraph(self, paragraph: Element) -> tuple[str, str] | None:
        text = _paragraph_text(paragraph).strip()
        if not text:
            return None
        properties = paragraph.find(_W + "pPr")
        level = None
        is_list = False
        if properties is not None:
            style = properties.find(_W + "pStyle")
            style_id = style.get(_VAL, "") if style is not None else ""
            level = self._levels.get(style_id) or _fallback_level(style_id)
            level = _outline_level(properties.find(_W + "outlineLvl")) or level
            is_list = properties.find(_W + "numPr") is not None or style_id.lower().startswith(
                "list"
            )
        if level is not None:
            heading = " ".join(text.split())
            if self.title is None and level == 1:
                self.title = heading
            return "heading", f"{'#' * level} {heading}"
        if is_list:
            return "list", f"- {text}"
        return "paragraph", text


def _fallback_level(style_id: str) -> int | None:
    found = _HEADING_ID.match(style_id)
    if found:
        return int(found.group(1))
    return 1 if style_id.lower() == "title" else None


def _paragraph_text(paragraph: Element) -> str:
    parts: list[str] = []
    for element in _text_elements(paragraph):
        tag = element.tag
        if tag == _W + "t":
            parts.append(element.text or "")
        elif tag == _W + "tab":
            parts.append("\t")
        elif tag in {_W + "br", _W + "cr"}:
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _P and parts:
            parts.append("\n")  # a paragraph inside a text box
    return "".join(parts)


def _text_elements(root: Element) -> Iterator[Element]:
    """Document-order walk that skips properties, deleted text and duplicate fallbacks."""
    stack = [iter(root)]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
            continue
        if element.tag in _NOT_TEXT:
            continue
        yield element
        stack.append(iter(element))


def _table_rows(table: Element) -> Iterator[str]:
    for row in _children(table, _TR):
        cells = [_cell_text(cell) for cell in _children(row, _TC)]
        if any(cells):
            yield " | ".join(cells)


def _children(element: Element, tag: str) -> Iterator[Element]:
    """Children with `tag`, looking through content controls (`w:sdt`) and custom XML."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _CONTAINERS:
            yield from _children(child, tag)


def _cell_text(cell: Element) -> str:
    parts: list[str] = []
    for child in cell:
        if child.tag == _P:
            parts.append(" ".join(_paragraph_text(child).split()))
        elif child.tag == _TBL:
            parts.append(" / ".join(_table_rows(child)))
        elif child.tag in _CONTAINERS:
            parts.append(_cell_text(child))
    return " ".join(part for part in parts if part)
