"""Builders of real test files: PDFs written by fpdf2 (encrypted by pypdf), DOCX by python-docx,
HTML, images, plain ZIPs and a DOCX-shaped ZIP bomb. Each returns the file's bytes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from docx import Document
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

__all__ = [
    "docx_bytes",
    "docx_zip_bomb",
    "encrypted_pdf",
    "html_page",
    "pdf_bytes",
    "png_bytes",
    "scanned_pdf",
    "zip_bytes",
]


def pdf_bytes(pages: Sequence[str], *, title: str | None = None) -> bytes:
    """A PDF with one page per string, its text drawn in Helvetica (so it has a text layer)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def encrypted_pdf(pages: Sequence[str], *, user_password: str, owner_password: str) -> bytes:
    """A PDF encrypted with AES-256; with an empty user password anyone may open it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password, owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf(page_count: int = 2) -> bytes:
    """A PDF that looks like a scan: every page only an image and some drawing, no text."""
    pdf = FPDF()
    for _ in range(page_count):
        pdf.add_page()
        pdf.image(Image.new("L", (200, 100), color=200), x=10, y=10, w=120)
        pdf.rect(10, 150, 100, 40)
    return bytes(pdf.output())


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color=(255, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def docx_bytes(
    blocks: Sequence[tuple[str, str]],
    *,
    table: Sequence[Sequence[str]] | None = None,
    title: str | None = None,
) -> bytes:
    """A DOCX from (kind, text) blocks: kind is "h1".."h3", "title", "p" or "bullet"; the
    table, if any, comes after the blocks."""
    document = Document()
    if title:
        document.core_properties.title = title
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, level=0)
        elif kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_zip_bomb(uncompressed_bytes: int) -> bytes:
    """A ZIP laid out like a DOCX whose word/document.xml unpacks to `uncompressed_bytes` of
    highly compressible XML (written in blocks, so building it needs little memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            entry.write(b'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body>')
            block = b" " * (1024 * 1024)
            for _ in range(uncompressed_bytes // len(block)):
                entry.write(block)
            entry.write(b"</w:body></w:document>")
    return out.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def html_page(title: str, body: str) -> bytes:
    """An HTML page with a head full of things that are not text (script, style, meta)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <style>body {{ font-family: sans-serif; }} .hidden-style-marker {{ color: red; }}</style>
  <script>var trackingMarker = "script-in-head"; function f() {{ return 1 < 2; }}</script>
  <meta name="description" content="meta description marker">
</head>
<body>
{body}
<script type="text/javascript">console.log("script-in-body-marker");</script>
<noscript>Enable JavaScript noscript-marker</noscript>
</body>
</html>
""".encode()
