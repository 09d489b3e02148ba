"""What an upload really is, decided from its bytes first and its name second.

`detect_type` returns one of the content types ragis reads, or raises `UnsupportedFile`
naming what the file seems to be. The order matters: a PDF or ZIP signature wins over any name
(a ZIP's parts tell DOCX, XLSX, PPTX, ODT and EPUB apart), known binary signatures are refused,
and only then is the file read as text, where sniffing (or the name) finds HTML and the name
decides between e-mail (with its headers), CSV, TSV, Markdown and plain text.

`decode_text` is the one place that turns text bytes into `str`: BOMs first, then strict UTF-8,
then (for mostly-UTF-8 data with a few bad bytes) UTF-8 with replacement, then cp1252, then
latin-1, which never fails.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile

from ragis.errors import UnsupportedFile
from ragis.ingest.names import sanitize_filename

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
    "decode_text",
    "detect_type",
    "looks_binary",
]

PLAIN_TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
EPUB = "application/epub+zip"
CSV = "text/csv"
TSV = "text/tab-separated-values"
EML = "message/rfc822"
SUPPORTED_TYPES = (PLAIN_TEXT, MARKDOWN, HTML, PDF, DOCX, PPTX, XLSX, ODT, EPUB, CSV, TSV, EML)

_MARKDOWN_SUFFIXES = frozenset({"md", "markdown", "mdown", "mkd"})
_HTML_SUFFIXES = frozenset({"html", "htm", "xhtml"})
_ZIP_SUFFIXES = {"docx": DOCX, "docm": DOCX, "pptx": PPTX, "xlsx": XLSX, "xlsm": XLSX}
_ZIP_SUFFIXES.update({"odt": ODT, "epub": EPUB})
# The headers an e-mail starts with (RFC 5322 and what mail programs write when saving one).
_EML_HEADERS = re.compile(
    r"^(?:from|to|subject|date|received|return-path|message-id|mime-version|delivered-to|"
    r"x-[a-z0-9-]+|reply-to|cc|content-type)[ \t]*:",
    re.IGNORECASE,
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_SAMPLE = 64 * 1024
_MAX_CONTROL_RATIO = 0.05

# Signatures that no text file starts with: refused whatever the name says.
_STRONG_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Java class or Mach-O executable"),
    (b"\x00asm", "a WebAssembly module"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Microsoft Office file; save it as .docx or PDF",
    ),
    (b"{\\rtf", "an RTF document; save it as .docx or PDF"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an Ogg media file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"%!PS", "a PostScript file; convert it to PDF"),
)
# Short signatures: used only to name a file that the binary check has already refused.
_WEAK_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"ID3", "an MP3 audio file"),
    (b"BM", "a BMP image"),
    (b"\x00\x00\x01\x00", "an icon image"),
)
_RIFF_KINDS = {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}
_HTML_START = ("<!doctype html", "<html", "<head", "<body")
_HTML_TAG = re.compile(r"<(?:html|head|body)[\s>]")
_SVG_TAG = re.compile(r"<svg[\s>]")


def detect_type(data: bytes, filename: str) -> str:
    """Return the content type of `data`; raise `UnsupportedFile` for anything ragis cannot read."""
    name = sanitize_filename(filename)
    suffix = name.rpartition(".")[2].lower() if "." in name else ""

    if _is_pdf(data, suffix):
        return PDF
    if data.startswith(_ZIP_MAGIC):
        return _zip_type(data, name, suffix)
    kind = _strong_magic(data)
    if kind is not None:
        raise UnsupportedFile(name, f"this looks like {kind}, which ragis cannot read")
    if looks_binary(data):
        kind = _weak_magic(data) or "a binary file"
        raise UnsupportedFile(name, f"this looks like {kind}, not a document ragis can read")

    head = decode_text(data[:1024]).lstrip("\ufeff \t\r\n").lower()
    if _is_html(head):
        return HTML
    if suffix == "eml" and _EML_HEADERS.match(head):
        return EML
    if suffix == "csv":
        return CSV
    if suffix == "tsv" or suffix == "tab":
        return TSV
    if head.startswith("<") and _SVG_TAG.search(head):
        raise UnsupportedFile(name, "this looks like an SVG image, which ragis cannot read")
    if suffix in _MARKDOWN_SUFFIXES:
        return MARKDOWN
    if suffix in _HTML_SUFFIXES:
        return HTML
    return PLAIN_TEXT


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: NUL bytes (outside UTF-16/32) or many control characters."""
    if _utf16_or_32(data):
        return False
    if b"\x00" in data:
        return True
    sample = decode_text(data[:_SAMPLE])
    if not sample:
        return False
    controls = sum(
        1 for char in sample if char not in "\n\r\t\f\v\x1b" and unicodedata.category(char) == "Cc"
    )
    return controls / len(sample) > _MAX_CONTROL_RATIO


def decode_text(data: bytes) -> str:
    """Decode text bytes of an unknown encoding; never raises (latin-1 is the last resort)."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few broken bytes (a cut file), rather than a single-byte encoding."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = sum(1 for char in text if char > "\x7f" and char != "\ufffd")
    return good > 0 and bad * 10 <= good


def _utf16_or_32(data: bytes) -> bool:
    return data.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
    )


def _is_pdf(data: bytes, suffix: str) -> bool:
    if data[:1024].lstrip(b" \t\r\n\x00\xef\xbb\xbf")[:5] == b"%PDF-":
        return True
    # PDF readers accept the header anywhere in the first KiB; trust that only with the name.
    return suffix == "pdf" and data.find(b"%PDF-", 0, 1024) >= 0


def _is_html(head: str) -> bool:
    if head.startswith(_HTML_START):
        return True
    return head.startswith("<") and _HTML_TAG.search(head) is not None


def _strong_magic(data: bytes) -> str | None:
    for magic, kind in _STRONG_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[data[8:12]]
    if data[4:8] == b"ftyp":
        return "an MP4/QuickTime media file"
    if data[257:262] == b"ustar":
        return "a tar archive"
    return None


def _weak_magic(data: bytes) -> str | None:
    for magic, kind in _WEAK_MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _zip_type(data: bytes, name: str, suffix: str) -> str:
    """DOCX is a ZIP holding `word/document.xml`; only the central directory is read here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = _small_entry(archive, "mimetype") if "mimetype" in names else ""
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, ValueError, EOFError):
        if suffix in _ZIP_SUFFIXES:
            # let the parser of the type the name claims report the damage as a corrupt file
            return _ZIP_SUFFIXES[suffix]
        raise UnsupportedFile(name, "this looks like a damaged ZIP archive") from None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    if "ppt/presentation.xml" in names:
        return PPTX
    if mimetype == ODT and "content.xml" in names:
        return ODT
    if mimetype == EPUB:
        return EPUB
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        kind = "an OpenDocument file other than text; save it as .odt or PDF"
    else:
        kind = "a ZIP archive; upload the documents inside it one by one"
    raise UnsupportedFile(name, f"this is {kind}")


def _small_entry(archive: zipfile.ZipFile, entry: str) -> str:
    with archive.open(entry) as handle:
        return handle.read(100).decode("ascii", errors="replace").strip()
