from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest import XLSX, Chunker, IngestLimits, parse_document
from support.documents import zip_bytes


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_cached_value(data: bytes, formula: str, value: str) -> bytes:
    """openpyxl writes a formula without a cached value; add the value Excel would have saved."""
    files = unzip(data)
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    files["xl/worksheets/sheet1.xml"] = (
        sheet.replace(f"<f>{formula}</f><v></v>", f"<f>{formula}</f><v>{value}</v>")
        .replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
        .encode()
    )
    return zip_bytes(files)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_each_sheet_is_a_table_with_row_locators() -> None:
    data = workbook(
        {
            "Pumps": [["Model", "Flow"], ["P-100", 40], ["P-200", 75]],
            "Staff": [["Name", "Role"], ["Ada", "Engineer"]],
        }
    )
    parsed = parse_document(data, "plant.xlsx")
    assert parsed.content_type == XLSX
    assert [page.locator for page in parsed.pages] == ["Pumps, rows 2\u20133", "Staff, row 2"]
    assert parsed.pages[0].text == "Model | Flow\nP-100 | 40\nP-200 | 75"
    assert parsed.pages[0].header == "Model | Flow"


def test_formula_cells_read_as_their_cached_values() -> None:
    data = workbook({"Sum": [["A", "B", "Total"], [2, 3, "=A2+B2"]]})
    files = unzip(data)
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    assert "<f>A2+B2</f>" in sheet
    files["xl/worksheets/sheet1.xml"] = sheet.replace(
        "<f>A2+B2</f><v></v>", "<f>A2+B2</f><v>5</v>"
    ).encode()
    parsed = parse_document(zip_bytes(files), "sum.xlsx")
    assert parsed.pages[0].text.splitlines()[1] == "2 | 3 | 5"
    assert "A2+B2" not in parsed.text


def test_every_chunk_of_a_long_sheet_starts_with_the_header_row() -> None:
    rows: list[list[object]] = [["Part number", "Description", "Supplier"]]
    rows += [[f"PN-{n:05}", f"gasket ring size {n} for the main pump", "Acme"] for n in range(400)]
    chunks = Chunker().chunk(parse_document(workbook({"Parts": rows}), "parts.xlsx"))
    assert len(chunks) > 5
    assert all(c.text.startswith("Part number | Description | Supplier") for c in chunks)
    assert all(c.locator and c.locator.startswith("Parts, rows ") for c in chunks)
    first, last = chunks[0].locator, chunks[-1].locator
    assert first is not None
    assert first.startswith("Parts, rows 2\u2013")
    assert last is not None
    assert last.endswith("\u2013401")
    for chunk in chunks:  # the row range names the rows the chunk holds (row n is PN-n-2)
        assert chunk.locator is not None
        low, high = chunk.locator.removeprefix("Parts, rows ").split("\u2013")
        held = [int(line[3:8]) + 2 for line in chunk.text.splitlines() if line.startswith("PN-")]
        assert held[0] == int(low)
        assert held[-1] == int(high)


def test_too_many_rows_stop_early() -> None:
    rows: list[list[object]] = [[n] for n in range(1_001)]
    with pytest.raises(FileTooLarge, match="more than 1,000 rows"):
        parse_document(workbook({"S": rows}), "big.xlsx", IngestLimits(max_rows=1_000))


def test_a_huge_cell_passes_the_text_limit() -> None:
    data = workbook({"S": [["h"], ["x" * 30_000]]})
    with pytest.raises(FileTooLarge, match="characters"):
        parse_document(data, "cell.xlsx", IngestLimits(max_chars=20_000))


def test_an_xlsx_with_a_dtd_is_refused() -> None:
    files = unzip(workbook({"S": [["a"], ["b"]]}))
    files["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><sst>&x;</sst>'
    )
    with pytest.raises(CorruptFile, match="DTD or entities"):
        parse_document(zip_bytes(files), "evil.xlsx")


def test_an_xlsx_zip_bomb_is_refused() -> None:
    files = unzip(workbook({"S": [["a"], ["b"]]}))
    files["xl/worksheets/sheet2.xml"] = b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>"
    with pytest.raises(CorruptFile, match="built to expand"):
        parse_document(zip_bytes(files), "bomb.xlsx")


def test_a_broken_workbook_is_corrupt() -> None:
    files = unzip(workbook({"S": [["a"], ["b"]]}))
    files["xl/workbook.xml"] = b"<workbook"
    with pytest.raises(CorruptFile):
        parse_document(zip_bytes(files), "broken.xlsx")
