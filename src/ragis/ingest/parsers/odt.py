"""ODT: paragraphs, headings (as `#` lines, by their outline level), list items and tables (a
row a line), read from `content.xml` in document order.

`zipsafe` checks the ZIP and refuses DTDs first; `content.xml` is parsed by defusedxml with
DTDs forbidden, and XML nested deeper than `IngestLimits.max_xml_depth` is refused as it is read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ragis.errors import CorruptFile
from ragis.ingest.detect import ODT
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.text import normalize_text
from ragis.ingest.parsers.zipsafe import open_checked, read_part

__all__ = ["parse_odt"]

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}text"
_XML_ERRORS = (ParseError, DefusedXmlException, ValueError)


def parse_odt(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    with open_checked(data, name, "ODT", limits) as archive:
        content = read_part(archive, "content.xml", name, "ODT", limits)
    blocks: list[str] = []
    title: str | None = None
    for kind, text in _blocks(content, name, limits):
        if kind == "h1" and title is None:
            title = text[2:]
        blocks.append(text)
    return ParsedDocument(ODT, [PageText(None, normalize_text("\n\n".join(blocks)))], None, title)


def _blocks(content: bytes, name: str, limits: IngestLimits) -> Iterator[tuple[str, str]]:
    """Top-level blocks of `office:text`, each dropped once read so memory stays flat."""
    stack: list[Element] = []
    try:
        for event, element in iterparse(
            io.BytesIO(content), events=("start", "end"), forbid_dtd=True
        ):
            if event == "start":
                stack.append(element)
                if len(stack) > limits.max_xml_depth:
                    raise CorruptFile(
                        name, f"the ODT nests its XML more than {limits.max_xml_depth} levels deep"
                    )
                continue
            stack.pop()
            if stack and stack[-1].tag == _OFFICE_TEXT:
                yield from _block(element)
                element.clear()
                stack[-1].remove(element)
    except _XML_ERRORS as exc:
        raise CorruptFile(name, "the ODT is damaged: its XML cannot be read") from exc


def _block(element: Element) -> Iterator[tuple[str, str]]:
    if element.tag == f"{_TEXT}h":
        text = " ".join(_text(element).split())
        if text:
            level = element.get(f"{_TEXT}outline-level", "1")
            depth = int(level) if level.isdigit() and 1 <= int(level) <= 6 else 1
            yield f"h{depth}", f"{'#' * depth} {text}"
    elif element.tag == f"{_TEXT}p":
        text = _text(element).strip()
        if text:
            yield "p", text
    elif element.tag == f"{_TEXT}list":
        for item in element.iter(f"{_TEXT}list-item"):
            text = " ".join(_text(item).split())
            if text:
                yield "li", f"- {text}"
    elif element.tag == f"{_TABLE}table":
        for row in element.iter(f"{_TABLE}table-row"):
            cells = [" ".join(_text(cell).split()) for cell in row.iter(f"{_TABLE}table-cell")]
            if any(cells):
                yield "row", " | ".join(cells)
    elif element.tag == f"{_TEXT}section":
        for child in element:
            yield from _block(child)


def _text(element: Element) -> str:
    """The text of an element, with ODF's spaces, tabs and line breaks; notes left out."""
    parts: list[str] = []

    def walk(node: Element) -> None:
        if node.tag in {f"{_TEXT}note", f"{_TEXT}tracked-changes"}:
            return
        if node.tag == f"{_TEXT}s":
            count = node.get(f"{_TEXT}c", "1")
            parts.append(" " * (min(int(count), 100) if count.isdigit() else 1))
        elif node.tag == f"{_TEXT}tab":
            parts.append("\t")
        elif node.tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)
