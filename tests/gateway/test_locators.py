"""A passage's locator, finer than its page ("slide 2", "Pumps, rows 2-4"), from an uploaded
PPTX and XLSX through the real gateway and RAG service to every place that shows a passage:
search, a document's passages, the chat's citations, and the OpenAI API's Sources block."""

from __future__ import annotations

import io

import httpx
from openpyxl import Workbook  # type: ignore[import-untyped]
from pptx import Presentation

from support.http import collect_events


def deck() -> bytes:
    presentation = Presentation()
    for title, text in [
        ("Welcome", "The agenda of the quarterly review."),
        ("Pump maintenance", "Replace the heron valve gasket every eleven months."),
    ]:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = text
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Pumps"
    for row in [["model", "pressure"], ["otter-3", "4 bar"], ["lynx-7", "9 bar"]]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(client: httpx.AsyncClient, name: str, data: bytes) -> str:
    response = await client.post("/api/documents/upload", files=[("file", (name, data))])
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["ok"], result
    return str(result["document_id"])


async def test_locators_reach_search_passages_citations_and_the_openai_sources(
    gateway: httpx.AsyncClient,
) -> None:
    slides = await upload(gateway, "review.pptx", deck())
    sheet = await upload(gateway, "pumps.xlsx", workbook())

    found = (
        await gateway.post("/api/search", json={"query": "heron valve gasket", "top_k": 1})
    ).json()
    top = found["passages"][0]
    assert (top["doc_id"], top["locator"], top["page"]) == (slides, "slide 2", 2)

    found = (
        await gateway.post("/api/search", json={"query": "lynx-7 pressure", "top_k": 1})
    ).json()
    top = found["passages"][0]
    assert top["doc_id"] == sheet
    assert top["locator"].startswith("Pumps, rows ")
    # The header row is repeated in the chunk, so a row is read with its column names.
    assert "model" in top["text"]
    assert "lynx-7" in top["text"]

    stored = (await gateway.get(f"/api/collections/default/documents/{slides}/passages")).json()
    assert [p["locator"] for p in stored["passages"]] == ["slide 1", "slide 2"]

    events = await collect_events(
        gateway, "/api/chat/stream", {"message": "How often is the heron valve gasket replaced?"}
    )
    citations = next(e.data["citations"] for e in events if e.type == "citations")
    assert any(c["locator"] == "slide 2" for c in citations), citations

    completion = (
        await gateway.post(
            "/v1/chat/completions",
            json={
                "model": "ragis",
                "messages": [{"role": "user", "content": "What pressure has the lynx-7 pump?"}],
            },
        )
    ).json()
    assert "pumps.xlsx, Pumps, rows " in completion["choices"][0]["message"]["content"]
    assert any(c["locator"] for c in completion["ragis"]["citations"])
