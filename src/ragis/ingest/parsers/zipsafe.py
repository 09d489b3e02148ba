"""Opening an untrusted ZIP-based document (PPTX, XLSX, EPUB, ODT) safely.

Before any part is decompressed, the central directory is checked (entry count, declared
uncompressed total, ratio of every large entry), as for DOCX. Then every XML part is read with a
hard cap and refused if it declares a DTD or an entity: python-pptx (lxml) and openpyxl parse
the parts themselves, so the refusal happens here, before they see a byte.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest.limits import IngestLimits

__all__ = ["ZIP_ERRORS", "check_directory", "open_checked", "read_part"]

_MiB = 1024 * 1024
_RATIO_CHECKED_FROM = _MiB
_HTML_SUFFIXES = (".xhtml", ".html", ".htm")
_XML_SUFFIXES = (".xml", ".rels", ".opf", ".ncx", *_HTML_SUFFIXES)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def open_checked(data: bytes, name: str, kind: str, limits: IngestLimits) -> zipfile.ZipFile:
    """The archive, once its directory and its XML parts passed the checks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (*ZIP_ERRORS, ValueError) as exc:
        raise CorruptFile(name, f"the {kind} is damaged: it is not a readable ZIP archive") from exc
    try:
        check_directory(archive, name, kind, limits)
        for entry in archive.infolist():
            if entry.filename.lower().endswith(_XML_SUFFIXES):
                xml = read_part(archive, entry.filename, name, kind, limits)
                _refuse_dtd(xml, entry.filename.lower().endswith(_HTML_SUFFIXES), name, kind)
    except BaseException:
        archive.close()
        raise
    return archive


def read_part(
    archive: zipfile.ZipFile,
    part: str,
    name: str,
    kind: str,
    limits: IngestLimits,
    *,
    cap: int | None = None,
) -> bytes:
    """A part's bytes, read with a hard cap (`cap`, else the limits' XML cap) whatever the ZIP
    headers claim."""
    cap = limits.max_xml_bytes if cap is None else cap
    try:
        entry = archive.getinfo(part)
    except KeyError:
        raise CorruptFile(name, f"the {kind} has no {part}") from None
    if entry.file_size > cap:
        raise FileTooLarge(name, f"its {part} is over the limit of {cap / _MiB:,.0f} MiB")
    try:
        with archive.open(entry) as handle:
            data = handle.read(cap + 1)
    except ZIP_ERRORS as exc:
        raise CorruptFile(name, f"the {kind} is damaged: {part} cannot be unpacked") from exc
    if len(data) > cap:
        raise FileTooLarge(name, f"its {part} is over the limit of {cap / _MiB:,.0f} MiB")
    return data


def check_directory(archive: zipfile.ZipFile, name: str, kind: str, limits: IngestLimits) -> None:
    """Refuse a ZIP bomb from its central directory alone, before decompressing anything."""
    entries = archive.infolist()
    if len(entries) > limits.max_zip_entries:
        raise FileTooLarge(
            name,
            f"the {kind} holds {len(entries):,} parts; the limit is {limits.max_zip_entries:,}",
        )
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _RATIO_CHECKED_FROM and ratio > limits.max_zip_ratio:
            raise CorruptFile(
                name,
                f"the {kind} is built to expand: one part grows {ratio:,.0f}x when unpacked "
                f"(the limit is {limits.max_zip_ratio}x)",
            )
    if total > limits.max_unzipped_bytes:
        raise FileTooLarge(
            name,
            f"the {kind} unpacks to {total / _MiB:,.0f} MiB; "
            f"the limit is {limits.max_unzipped_bytes / _MiB:,.0f} MiB",
        )


def _refuse_dtd(xml: bytes, html: bool, name: str, kind: str) -> None:
    # Office and EPUB package parts never declare a DTD; one that does is an entity-expansion
    # attempt. EPUB's XHTML chapters carry `<!DOCTYPE html ...>` (read by html.parser, which
    # expands no entity), so there only an entity declaration is refused.
    text = xml.replace(b"\x00", b"").upper()
    if b"<!ENTITY" in text or (not html and b"<!DOCTYPE" in text):
        raise CorruptFile(name, f"the {kind} declares an XML DTD or entities, which ragis refuses")
