"""Scanned PDF pages read by OCR (issue 17): real Tesseract on PDFs made of pictures of text.

The pages are images of known sentences (Pillow's default font, large, black on white) put into
a PDF with fpdf2, so the PDF has no text layer. OCR is not exact: assertions look for a few
distinctive words, case-insensitively. Without OCR (RAGIS_OCR=off, or no Tesseract at the
configured path) the file, or the pages, are reported as scanned instead of silently empty.
Tesseract is Debian's `tesseract-ocr`, which scripts/check installs: without it these tests fail.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Sequence

import httpx
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from ragis.errors import ConfigError, EmptyFile
from ragis.gateway.settings import load_gateway_settings
from ragis.ingest import IngestLimits, ParsedDocument, parse_document
from ragis.ingest.ocr import OcrSettings, render_scale
from ragis.ingest.sandbox import ParseSandbox, SandboxLimits
from support.gateway_fixtures import GatewayFactory
from support.http import collect_events

PELICANS = ["Pelicans nest along the", "harbour walls of Ardmore", "every spring."]
ZEPPELIN = ["The zeppelin carried crates", "of marmalade sandwiches", "across the channel."]
TEXT_LAYER = "This page has a real text layer about lighthouse keepers."
A4 = (595.28, 841.89)  # points


def page_image(lines: Sequence[str], size: tuple[int, int] = (1240, 1754)) -> bytes:
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for row, line in enumerate(lines):
        draw.text((100, 120 + 90 * row), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def scan(pages: Sequence[Sequence[str] | str], page_size: tuple[float, float] = A4) -> bytes:
    """A PDF: a list of lines is a scanned page (an image only), a string a page with text."""
    pdf = FPDF(unit="pt", format=page_size)
    pdf.set_font("Helvetica", size=12)
    for page in pages:
        pdf.add_page()
        if isinstance(page, str):
            pdf.multi_cell(0, 16, page)
        else:
            pdf.image(io.BytesIO(page_image(page)), x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())


def limits(**ocr: object) -> IngestLimits:
    return IngestLimits(ocr=OcrSettings(**ocr))  # type: ignore[arg-type]


def words(document: ParsedDocument, page: int) -> str:
    return next(p.text for p in document.pages if p.page == page).lower()


# --- Reading scans ---------------------------------------------------------------------------


def test_scanned_pages_are_read_with_their_page_numbers() -> None:
    document = parse_document(scan([PELICANS, ZEPPELIN]), "scan.pdf")
    assert [p.page for p in document.pages] == [1, 2]
    assert document.page_count == 2
    assert {"pelicans", "harbour", "ardmore"} <= set(words(document, 1).split())
    assert {"zeppelin", "marmalade", "sandwiches"} <= set(words(document, 2).split())
    assert "zeppelin" not in words(document, 1)
    assert document.warnings == ()


def test_a_mixed_pdf_keeps_the_text_layer_and_reads_the_scanned_page() -> None:
    document = parse_document(scan([TEXT_LAYER, ZEPPELIN]), "mixed.pdf")
    assert [p.page for p in document.pages] == [1, 2]
    assert words(document, 1) == TEXT_LAYER.lower()
    assert "marmalade" in words(document, 2)
    assert document.warnings == ()


def test_ocr_runs_inside_the_parse_sandbox_within_its_default_limits() -> None:
    async def parse() -> ParsedDocument:
        box = ParseSandbox(IngestLimits(), SandboxLimits())
        try:
            return await box.parse(scan([PELICANS, ZEPPELIN]), "scan.pdf")
        finally:
            await box.aclose()

    document = asyncio.run(parse())
    assert "pelicans" in words(document, 1)
    assert "zeppelin" in words(document, 2)


# --- Without OCR: said, never silently empty -------------------------------------------------


@pytest.mark.parametrize(
    ("ocr", "why"),
    [
        ({"mode": "off"}, "scanned: OCR is turned off (RAGIS_OCR=off)"),
        ({"command": "/nonexistent/tesseract"}, "scanned: install tesseract-ocr to read it"),
    ],
)
def test_a_scan_without_ocr_is_refused_saying_it_is_scanned(
    ocr: dict[str, object], why: str
) -> None:
    with pytest.raises(EmptyFile) as caught:
        parse_document(scan([PELICANS, ZEPPELIN]), "scan.pdf", limits(**ocr))
    assert caught.value.reason == why


@pytest.mark.parametrize(
    ("ocr", "why"),
    [
        ({"mode": "off"}, "OCR is turned off (RAGIS_OCR=off)"),
        ({"command": "/nonexistent/tesseract"}, "install tesseract-ocr to read it"),
    ],
)
def test_scanned_pages_without_ocr_are_named_in_a_warning(ocr: dict[str, object], why: str) -> None:
    pdf = scan([TEXT_LAYER, PELICANS, ZEPPELIN, TEXT_LAYER, PELICANS])
    document = parse_document(pdf, "mixed.pdf", limits(**ocr))
    assert [p.page for p in document.pages] == [1, 4]
    assert document.warnings == (f"pages 2–3, 5 scanned: {why}",)


# --- Hostile scans: bounded -------------------------------------------------------------------


def test_a_page_of_the_largest_size_is_rendered_within_the_pixel_cap() -> None:
    side = 14_400.0  # 200 inches, the largest page PDF allows
    scale = render_scale(side, side, 200, 12_000_000)
    assert (side * scale) ** 2 <= 12_000_000 * 1.000001
    assert math.isclose(render_scale(*A4, 200, 12_000_000), 200 / 72)
    # At 200 dpi it would be 1.6 G pixels; capped, it is read like any page, in the sandbox.

    async def parse() -> ParsedDocument:
        box = ParseSandbox(IngestLimits(), SandboxLimits(memory_mb=512))
        try:
            return await box.parse(scan([ZEPPELIN], page_size=(side, side)), "huge.pdf")
        finally:
            await box.aclose()

    assert "marmalade" in words(asyncio.run(parse()), 1)


def test_a_tiny_pixel_cap_is_obeyed_and_the_page_reported_empty() -> None:
    with pytest.raises(EmptyFile, match="OCR found no text"):
        parse_document(scan([ZEPPELIN]), "tiny.pdf", limits(max_pixels=400))


def test_ocr_stops_at_its_page_limit_and_names_the_pages_it_left() -> None:
    pdf = scan([ZEPPELIN] * 500)
    document = parse_document(pdf, "book.pdf", limits(max_pages=2))
    assert [p.page for p in document.pages] == [1, 2]
    assert document.page_count == 500
    assert document.warnings == (
        "pages 3–500 scanned, not read: OCR reads at most 2 pages a file (RAGIS_OCR_MAX_PAGES)",
    )


def test_a_page_over_its_time_is_reported_and_the_others_kept() -> None:
    with pytest.raises(EmptyFile, match=r"page 1 scanned, not read: .*RAGIS_OCR_PAGE_TIMEOUT"):
        parse_document(scan([ZEPPELIN]), "slow.pdf", limits(page_timeout=0.001))
    document = parse_document(scan([TEXT_LAYER, ZEPPELIN]), "slow.pdf", limits(page_timeout=0.001))
    assert [p.page for p in document.pages] == [1]
    assert document.warnings == (
        "page 2 scanned, not read: OCR took more than 0.001 s (RAGIS_OCR_PAGE_TIMEOUT)",
    )


def test_the_ocr_budget_of_a_file_stops_ocr_and_keeps_the_text_layer() -> None:
    document = parse_document(
        scan([TEXT_LAYER, ZEPPELIN, PELICANS]), "slow.pdf", limits(budget=0.000001)
    )
    assert [p.page for p in document.pages] == [1]
    assert document.warnings == ("pages 2–3 scanned, not read: OCR used its 1e-06 s for this file",)


@pytest.mark.parametrize("lang", ["", "eng;rm", "-l", "eng+", "e" * 40, "../eng"])
def test_a_language_that_is_not_a_tesseract_language_list_is_refused(lang: str) -> None:
    with pytest.raises(ValueError, match="not a Tesseract language list"):
        OcrSettings(lang=lang)


# --- Through the gateway ----------------------------------------------------------------------


async def test_a_scanned_pdf_uploaded_is_answered_with_the_right_page(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post(
        "/api/documents/upload", files=[("file", ("harbour.pdf", scan([PELICANS, ZEPPELIN])))]
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["ok"] is True, result
    assert (result["pages"], result["warnings"]) == (2, [])

    events = await collect_events(
        gateway, "/api/chat/stream", {"message": "What did the zeppelin carry?"}
    )
    best = events[1].data["citations"][0]
    assert (best["filename"], best["page"]) == ("harbour.pdf", 2)
    assert "marmalade" in best["text"].lower()


async def test_a_gateway_with_ocr_off_warns_of_scanned_pages_and_refuses_a_scan(
    rag_url: str, start_gateway: GatewayFactory
) -> None:
    with start_gateway(rag_urls=[rag_url], ocr="off") as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            response = await client.post(
                "/api/documents/upload",
                files=[
                    ("file", ("mixed.pdf", scan([TEXT_LAYER, ZEPPELIN]))),
                    ("file", ("scan.pdf", scan([PELICANS]))),
                ],
            )
    assert response.status_code == 200, response.text
    mixed, scanned = response.json()["results"]
    assert mixed["ok"] is True, mixed
    assert (mixed["pages"], mixed["chunks"]) == (2, 1)
    assert mixed["warnings"] == ["page 2 scanned: OCR is turned off (RAGIS_OCR=off)"]
    assert scanned["ok"] is False
    assert scanned["error"]["code"] == "empty_file"
    assert "scanned: OCR is turned off (RAGIS_OCR=off)" in scanned["error"]["message"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RAGIS_OCR", "on"), ("RAGIS_OCR_LANG", "eng --psm 0"), ("RAGIS_OCR_MAX_PAGES", "0")],
)
def test_a_bad_ocr_setting_stops_the_gateway_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_gateway_settings(_env_file=None)
