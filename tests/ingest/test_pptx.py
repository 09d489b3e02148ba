from __future__ import annotations

import io

import pytest
from pptx import Presentation
from pptx.util import Inches

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest import PPTX, Chunker, IngestLimits, parse_document
from support.documents import zip_bytes


def deck(slides: list[tuple[str, list[str], str]]) -> bytes:
    """A real PPTX: per slide a title, text boxes (top to bottom) and speaker notes."""
    presentation = Presentation()
    for title, boxes, notes in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
        slide.shapes.title.text = title
        # added bottom-up, so reading order must come from the positions
        for index, text in reversed(list(enumerate(boxes))):
            box = slide.shapes.add_textbox(Inches(1), Inches(2 + index), Inches(6), Inches(1))
            box.text_frame.text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def test_each_slide_is_a_page_with_its_title_text_in_reading_order_and_notes() -> None:
    data = deck(
        [
            ("Pumps", ["First the intake valve.", "Then the impeller."], "Say it slowly."),
            ("Maintenance", ["Grease monthly."], ""),
        ]
    )
    parsed = parse_document(data, "deck.pptx")
    assert parsed.content_type == PPTX
    assert [page.page for page in parsed.pages] == [1, 2]
    assert [page.locator for page in parsed.pages] == ["slide 1", "slide 2"]
    first = parsed.pages[0].text
    assert first.index("# Pumps") < first.index("intake") < first.index("impeller")
    assert "Notes: Say it slowly." in first
    assert parsed.title == "Pumps"
    assert parsed.page_count == 2


def test_chunks_keep_their_slide_and_never_span_two_slides() -> None:
    data = deck([(f"Slide {n}", [f"Body of slide number {n}."], "") for n in range(1, 6)])
    chunks = Chunker().chunk(parse_document(data, "deck.pptx"))
    assert [(c.page, c.locator) for c in chunks] == [(n, f"slide {n}") for n in range(1, 6)]
    assert all(f"slide number {c.page}." in c.text for c in chunks)


def test_too_many_slides_are_refused() -> None:
    data = deck([(f"S{n}", [], "") for n in range(5)])
    with pytest.raises(FileTooLarge, match="5 slides"):
        parse_document(data, "deck.pptx", IngestLimits(max_pages=4))


def test_a_pptx_declaring_entities_is_refused_before_python_pptx_reads_it() -> None:
    good = zip_bytes_of(deck([("T", ["x"], "")]))
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><p:presentation>&b;</p:presentation>'
    )
    good["ppt/presentation.xml"] = laughs
    with pytest.raises(CorruptFile, match="DTD or entities"):
        parse_document(zip_bytes(good), "deck.pptx")


def test_a_pptx_zip_bomb_is_refused_from_its_directory() -> None:
    files = zip_bytes_of(deck([("T", ["x"], "")]))
    files["ppt/slides/big.xml"] = b" " * (20 * 1024 * 1024)
    with pytest.raises(CorruptFile, match="built to expand"):
        parse_document(zip_bytes(files), "deck.pptx")


def test_a_damaged_pptx_is_corrupt() -> None:
    with pytest.raises(CorruptFile, match="PPTX is damaged"):
        parse_document(deck([("T", ["x"], "")])[:2000], "deck.pptx")


def test_a_pptx_missing_its_parts_is_corrupt_not_a_crash() -> None:
    files = zip_bytes_of(deck([("T", ["x"], "")]))
    del files["ppt/slides/slide1.xml"]
    with pytest.raises(CorruptFile):
        parse_document(zip_bytes(files), "deck.pptx")


def zip_bytes_of(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
