"""EPUB: the chapters in spine order, a section each, located by the chapter's title.

`zipsafe` checks the ZIP and refuses any entity declaration first. The package files
(`META-INF/container.xml`, the OPF) are parsed by defusedxml with DTDs forbidden; each chapter's
XHTML goes through the HTML parser (html.parser expands no entity, fetches nothing). The
chapter count is limited by `IngestLimits.max_pages`.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest.detect import EPUB, decode_text
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.html import html_to_text
from ragis.ingest.parsers.zipsafe import open_checked, read_part

__all__ = ["parse_epub"]

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_XML_ERRORS = (ParseError, DefusedXmlException, ValueError)
_FIRST_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def parse_epub(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    with open_checked(data, name, "EPUB", limits) as archive:
        container = _xml(read_part(archive, "META-INF/container.xml", name, "EPUB", limits), name)
        rootfile = container.find(f"{_CONTAINER}rootfiles/{_CONTAINER}rootfile")
        opf_path = rootfile.get("full-path", "") if rootfile is not None else ""
        if not opf_path:
            raise CorruptFile(name, "the EPUB is damaged: it names no package file")
        opf = _xml(read_part(archive, opf_path, name, "EPUB", limits), name)
        chapters = _spine(opf, posixpath.dirname(opf_path))
        if len(chapters) > limits.max_pages:
            raise FileTooLarge(
                name, f"it has {len(chapters):,} chapters; the limit is {limits.max_pages:,}"
            )
        pages = [
            _chapter(archive, path, number, name, limits)
            for number, path in enumerate(chapters, start=1)
        ]
    title_element = opf.find(f"{_OPF}metadata/{_DC_TITLE}")
    title = " ".join((title_element.text or "").split()) if title_element is not None else ""
    return ParsedDocument(EPUB, pages, None, title or None)


def _xml(data: bytes, name: str) -> Element:
    try:
        return fromstring(data, forbid_dtd=True)
    except _XML_ERRORS as exc:
        raise CorruptFile(name, "the EPUB is damaged: its package XML cannot be read") from exc


def _spine(opf: Element, base: str) -> list[str]:
    """The archive paths of the spine's documents, in reading order."""
    manifest = {
        item.get("id", ""): item.get("href", "")
        for item in opf.iter(f"{_OPF}item")
        if "html" in item.get("media-type", "")
    }
    paths: list[str] = []
    for itemref in opf.iter(f"{_OPF}itemref"):
        href = manifest.get(itemref.get("idref", ""))
        if href:
            paths.append(posixpath.normpath(posixpath.join(base, unquote(href))))
    return paths


def _chapter(
    archive: zipfile.ZipFile, path: str, number: int, name: str, limits: IngestLimits
) -> PageText:
    text, title = html_to_text(decode_text(read_part(archive, path, name, "EPUB", limits)))
    heading = _FIRST_HEADING.search(text)
    label = heading.group(1).strip() if heading else (title or "").strip()
    locator = f"chapter {number}: {label}" if label else f"chapter {number}"
    return PageText(None, text, locator[:200])
