"""Hostile uploads from issue 12, built in memory (each is small; none is kept on disk).

Each builder returns the file's bytes; `hostile_files()` gives the cases that every parse path
(the sandbox, the gateway) must answer with a 422 and a sentence.
"""

from __future__ import annotations

import io
import os
import zipfile

__all__ = [
    "docx_empty_elements",
    "docx_nested_sdt",
    "docx_nested_tables",
    "hostile_files",
    "html_comment_openers",
    "html_marked_section",
]

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_HEAD = f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode()
_TAIL = b"</w:body></w:document>"
_MiB = 1024 * 1024


def _docx(document_xml_parts: list[bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            entry.write(_HEAD)
            for part in document_xml_parts:
                entry.write(part)
            entry.write(_TAIL)
    return out.getvalue()


def docx_empty_elements(xml_mib: int = 60) -> bytes:
    """A DOCX whose document.xml is `xml_mib` MiB of empty paragraphs (about 2.3 million), each
    with a partly random id, so that the ZIP's ratio (about 8x; the file of issue 12 had 11.5x)
    stays far under the expansion check (100x)."""
    ids = os.urandom(20_000).hex()  # 40,000 four-digit ids: about 1 MiB of paragraphs
    block = b"".join(
        b'<w:p w:rsidR="00%s00"/>' % ids[i : i + 4].encode() for i in range(0, len(ids), 4)
    )
    # The same block again and again: deflate sees only 32 KiB back, so it cannot tell.
    return _docx([block] * round(xml_mib * _MiB / len(block)))


def docx_nested_sdt(depth: int = 5_000) -> bytes:
    """Content controls nested `depth` deep around one paragraph."""
    opening = b"<w:sdt><w:sdtContent>" * depth
    closing = b"</w:sdtContent></w:sdt>" * depth
    return _docx([opening, b"<w:p><w:r><w:t>deep</w:t></w:r></w:p>", closing])


def docx_nested_tables(depth: int = 3_000) -> bytes:
    """Tables nested `depth` deep, each in the only cell of the one around it."""
    opening = b"<w:tbl><w:tr><w:tc>" * depth
    closing = b"<w:p/></w:tc></w:tr></w:tbl>" * depth
    return _docx([opening, b"<w:p><w:r><w:t>deep</w:t></w:r></w:p>", closing])


def html_comment_openers(count: int = 20_000) -> bytes:
    """`'<html><body>' + '<!--' * count`: 80 KB that took 4 s to parse (quadratic)."""
    return ("<html><body>" + "<!--" * count).encode()


def html_marked_section() -> bytes:
    """`<![` in HTML, and nothing else to read: html.parser raised AssertionError on it."""
    return b"<html><body><![ <![CDATA[ <![if !supportLists]>"


_BUILT: dict[str, bytes] = {}  # built once per test session: the 60 MiB one takes a second


def hostile_files() -> dict[str, bytes]:
    """File name -> bytes of every hostile case of issue 12, item 7."""
    if not _BUILT:
        _BUILT.update(
            {
                "empty-elements.docx": docx_empty_elements(),
                "nested-sdt.docx": docx_nested_sdt(),
                "nested-tables.docx": docx_nested_tables(),
                "comments.html": html_comment_openers(),
                "marked-section.html": html_marked_section(),
            }
        )
    return _BUILT
