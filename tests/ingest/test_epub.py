from __future__ import annotations

import pytest

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest import EPUB, Chunker, IngestLimits, parse_document
from support.documents import zip_bytes

CONTAINER = b"""<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles></container>"""


def epub(chapters: list[tuple[str, str, str]], spine: list[str] | None = None) -> bytes:
    """chapters: (file name, heading, body); the spine lists file names in reading order."""
    items = "".join(
        f'<item id="{n}" href="{n}" media-type="application/xhtml+xml"/>' for n, _, _ in chapters
    )
    order = spine or [n for n, _, _ in chapters]
    refs = "".join(f'<itemref idref="{n}"/>' for n in order)
    opf = f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Sea</dc:title></metadata>
  <manifest>{items}</manifest><spine>{refs}</spine></package>"""
    files = {"mimetype": EPUB.encode(), "META-INF/container.xml": CONTAINER}
    files["OEBPS/content.opf"] = opf.encode()
    for name, heading, body in chapters:
        files[f"OEBPS/{name}"] = (
            f'<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{heading}</title></head><body><h1>{heading}</h1><p>{body}</p>"
            f"</body></html>"
        ).encode()
    return zip_bytes(files)


def test_chapters_come_in_spine_order_located_by_their_titles() -> None:
    data = epub(
        [("b.xhtml", "The Storm", "Waves rose."), ("a.xhtml", "The Calm", "All was still.")],
        spine=["a.xhtml", "b.xhtml"],
    )
    parsed = parse_document(data, "sea.epub")
    assert parsed.content_type == EPUB
    assert parsed.title == "The Sea"
    assert [page.locator for page in parsed.pages] == [
        "chapter 1: The Calm",
        "chapter 2: The Storm",
    ]
    assert parsed.pages[0].text == "# The Calm\n\nAll was still."


def test_a_chunk_never_spans_two_chapters() -> None:
    data = epub([(f"c{n}.xhtml", f"Part {n}", f"Text of part {n}.") for n in range(4)])
    chunks = Chunker().chunk(parse_document(data, "book.epub"))
    assert [c.locator for c in chunks] == [f"chapter {n + 1}: Part {n}" for n in range(4)]


def test_an_entity_declaration_in_a_chapter_is_refused() -> None:
    files_data = epub([("c.xhtml", "T", "x")])
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(files_data)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["OEBPS/c.xhtml"] = b'<!DOCTYPE html [<!ENTITY a "aaaa">]><html><p>&a;</p></html>'
    with pytest.raises(CorruptFile, match="DTD or entities"):
        parse_document(zip_bytes(files), "evil.epub")


def test_too_many_chapters_are_refused() -> None:
    data = epub([(f"c{n}.xhtml", f"P{n}", "x") for n in range(6)])
    with pytest.raises(FileTooLarge, match="6 chapters"):
        parse_document(data, "long.epub", IngestLimits(max_pages=5))


def test_an_epub_without_its_package_file_is_corrupt() -> None:
    data = zip_bytes({"mimetype": EPUB.encode(), "META-INF/container.xml": b"<container/>"})
    with pytest.raises(CorruptFile, match="names no package file"):
        parse_document(data, "empty.epub")


def test_an_epub_zip_bomb_is_refused() -> None:
    data = zip_bytes(
        {"mimetype": EPUB.encode(), "OEBPS/big.xhtml": b"<p>" + b"a" * (30 * 1024 * 1024)}
    )
    with pytest.raises(CorruptFile, match="built to expand"):
        parse_document(data, "bomb.epub")
