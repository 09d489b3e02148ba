"""The sources panel and the cited-document viewer, in Chromium on a real stack (issue 18): cited
passages told from merely retrieved ones, relevance in words, clean text; "Open" shows the
passage highlighted and in view in its document, next/previous citation move through the
answer's citations; a PDF whose file was kept shows its page drawn by pdf.js with the passage
marked, under the app's Content-Security-Policy; and the same on a phone."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from support.browser import open_documents, upload
from support.documents import pdf_bytes
from support.llm_servers import OpenAIServer
from support.polish import answered, new_page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# Records every CSP violation the page reports (added before any script of the page).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""

SECTIONS = {
    "Priming the feed pump": "The feed pump is primed by hand before its first start: open the "
    "**vent screw** on top of the casing, fill the casing with clean water through the priming "
    "cup until water runs out of the vent, then close the vent screw firmly. A pump started dry "
    "scores its seals within seconds, so never skip this step. Check the suction line for "
    "leaks before priming, because air drawn in through a loose joint empties the casing again.",
    "Servicing the valves": "The outlet valves are serviced every six months. Close the isolating "
    "valve, release the pressure at the drain cock, and take the valve bonnet off with the "
    "**long spanner** kept in the tool board. Replace the packing rings one by one, staggering "
    "their joints, and tighten the gland nut only until the spindle turns with moderate force.",
    "Cleaning the strainer": "The suction strainer collects leaves and grit. Lift the strainer "
    "basket out after closing the inlet valve, wash it in a bucket of water, look for torn mesh "
    "and put it back with the handle towards the pump. A blocked strainer makes the pump run "
    "noisily and lowers its flow by a third; the pressure gauge then reads below two bar.",
    "Winter storage": "Before frost, drain the casing completely through the plug at its lowest "
    "point, leave the plug out, and cover the motor. Water left in the casing freezes and "
    "cracks the cast iron; a cracked casing cannot be repaired on site and must be replaced by "
    "the supplier, which takes about three weeks in winter.",
}


def pump_guide(tmp_path: Path) -> Path:
    """A Markdown guide long enough for several passages, with headings, lists and bold."""
    lines = ["# Pump station handbook", ""]
    for title, body in SECTIONS.items():
        lines += [f"## {title}", "", body, "", "- keep the log book up to date", ""]
    path = tmp_path / "pump-handbook.md"
    path.write_text("\n".join(lines))
    return path


def harbour_notes(tmp_path: Path) -> Path:
    """Text broken into short lines with a word hyphenated at a line's end, as a PDF's is."""
    path = tmp_path / "harbour-notes.txt"
    path.write_text(
        "The harbour master de-\ncides which ship may use\nthe feed pump berth and when\n"
        "the pump station is opened\nfor priming in the morning.\n"
    )
    return path


def words(text: str) -> str:
    return " ".join(text.split())


def middle_of(item: Locator) -> str:
    """A run of words from the middle of a source's passage (the viewer may show a passage
    without the words it shares with the one before it)."""
    found = words(item.get_by_test_id("source-passage").inner_text()).split(" ")
    start = max(0, len(found) // 2 - 3)
    return " ".join(found[start : start + 6])


def open_sources(page: Page) -> Locator:
    page.get_by_test_id("message-assistant").last.get_by_test_id("sources-toggle").click()
    panel = page.get_by_test_id("sources-panel")
    expect(panel).to_be_visible()
    return panel


def close_drawer(page: Page) -> None:
    toggle = page.get_by_test_id("toggle-documents")
    if toggle.get_attribute("aria-expanded") == "true":
        toggle.click()


def test_cited_and_retrieved_passages_are_told_apart_as_clean_text(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, pump_guide(tmp_path))
    upload(page, harbour_notes(tmp_path))
    answered(
        page, llm, "How is the feed pump primed?",
        ["Open the vent screw and fill the casing [1]. ", "Check the suction line [2]."],
    )  # fmt: skip
    panel = open_sources(page)
    cited = panel.get_by_test_id("sources-cited").get_by_test_id("source-item")
    retrieved = panel.get_by_test_id("sources-retrieved").get_by_test_id("source-item")
    expect(cited).to_have_count(2)
    expect(cited.nth(0)).to_have_attribute("data-n", "1")
    expect(cited.nth(1)).to_have_attribute("data-n", "2")
    expect(cited.first.get_by_test_id("source-cited")).to_have_text("cited")
    expect(panel.get_by_test_id("sources-cited-title")).to_have_text("Cited in the answer")
    assert retrieved.count() >= 1
    expect(retrieved.first).to_have_attribute("data-cited", "false")
    expect(retrieved.first.get_by_test_id("source-cited")).to_have_count(0)
    # Relevance in words with a bar, never "score 0.733".
    for relevance in panel.get_by_test_id("source-relevance").all():
        expect(relevance).to_have_text(
            re.compile(r"^\s*(Very close match|Close match|Related|Loosely related)\s*$")
        )
        expect(relevance.locator("meter")).to_have_count(1)
    assert not re.search(r"score\s*\d", panel.inner_text())
    # Clean text: Markdown rendered (no raw ** or ##), a PDF-like line break and hyphen joined.
    text = panel.inner_text()
    assert "**" not in text
    assert "##" not in text
    assert panel.locator('[data-testid="source-passage"] strong').count() >= 1
    harbour = panel.get_by_test_id("source-item").filter(has_text="harbour-notes.txt")
    expect(harbour.get_by_test_id("source-passage")).to_contain_text(
        "The harbour master decides which ship may use the feed pump berth"
    )


def test_open_shows_the_passage_highlighted_in_its_document_and_steps_through_citations(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, pump_guide(tmp_path))
    upload(page, harbour_notes(tmp_path))
    answered(
        page, llm, "How is the feed pump primed?",
        ["Open the vent screw and fill the casing [1]. ", "Check the suction line [2]."],
    )  # fmt: skip
    panel = open_sources(page)
    first, second = (panel.locator(f'[data-testid="source-item"][data-n="{n}"]') for n in (1, 2))
    first_words, second_words = middle_of(first), middle_of(second)
    first.get_by_test_id("source-open").click()

    viewer = page.get_by_test_id("document-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_test_id("viewer-title")).to_have_text(first.locator(".file").inner_text())
    expect(viewer.get_by_test_id("viewer-where")).to_contain_text("citation 1 of 2")
    current = viewer.locator('[data-testid="viewer-passage"][data-current="true"]')
    expect(current).to_have_count(1)
    expect(current).to_be_in_viewport()
    assert first_words in words(current.inner_text())
    # Focus is in the dialog (a modal: the page behind is inert).
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    # The document's text is clean too: rendered Markdown, no raw markers.
    assert "**" not in viewer.get_by_test_id("viewer-text").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-text.png"))

    viewer.get_by_test_id("viewer-next").click()
    expect(viewer.get_by_test_id("viewer-where")).to_contain_text("citation 2 of 2")
    expect(viewer.get_by_test_id("viewer-next")).to_be_disabled()
    expect(current).to_be_in_viewport()
    expect(current).to_contain_text(second_words.split(" ")[0])
    assert second_words in words(current.inner_text())
    viewer.get_by_test_id("viewer-prev").click()
    expect(viewer.get_by_test_id("viewer-where")).to_contain_text("citation 1 of 2")
    expect(current).to_be_in_viewport()
    assert first_words in words(current.inner_text())

    # Escape closes the viewer only: the sources panel stays.
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(page.get_by_test_id("sources-panel")).to_be_visible()


def manual_pdf() -> bytes:
    """Three pages of distinct text; the second holds the answer."""
    filler = " ".join(f"Line {i} of the general safety notes for the station." for i in range(12))
    return pdf_bytes(
        [
            "Chapter 1. Safety. " + filler,
            "Chapter 2. The backwash procedure: close valve B4, open the drain, and run the "
            "backwash pump for exactly seven minutes until the sight glass shows clear water. "
            "Write the time in the log book and reopen valve B4 slowly.",
            "Chapter 3. Spare parts. " + filler.replace("safety", "spare parts"),
        ]
    )


def test_a_kept_pdf_shows_its_page_drawn_by_pdfjs_with_the_passage_marked(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(stack_url)
    pdf = tmp_path / "station-manual.pdf"
    pdf.write_bytes(manual_pdf())
    upload(page, pdf)
    answered(page, llm, "How long does the backwash pump run?", ["Seven minutes, until clear [1]."])
    panel = open_sources(page)
    first = panel.locator('[data-testid="source-item"][data-n="1"]')
    expect(first.get_by_test_id("source-page")).to_have_text("page 2")
    first.get_by_test_id("source-open").click()

    viewer = page.get_by_test_id("document-viewer")
    expect(viewer.get_by_test_id("viewer-mode-page")).to_have_attribute("aria-selected", "true")
    drawn = viewer.get_by_test_id("viewer-page")
    expect(drawn).to_have_attribute("data-rendered", "true", timeout=30_000)
    expect(drawn).to_have_attribute("data-page", "2")
    expect(viewer.get_by_test_id("viewer-page-number")).to_have_text("Page 2 of 3")
    # The canvas holds the drawn page: dark pixels (text) on white.
    inked = page.evaluate(
        """() => {
          const c = document.querySelector('[data-testid="viewer-canvas"]');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let dark = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] < 100 && d[i + 3] > 0) dark++;
          return { width: c.width, height: c.height, dark };
        }"""
    )
    assert inked["width"] > 300
    assert inked["height"] > 300
    assert inked["dark"] > 500, inked
    marked = viewer.locator(".textLayer .cited")
    assert marked.count() >= 1
    expect(marked.first).to_be_in_viewport()
    assert "seven minutes" in " ".join(m.inner_text() for m in marked.all()).lower()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-pdf.png"))

    # Page navigation, then the text view with its page markers.
    viewer.get_by_test_id("viewer-page-next").click()
    expect(viewer.get_by_test_id("viewer-page-number")).to_have_text("Page 3 of 3")
    expect(drawn).to_have_attribute("data-page", "3")
    expect(drawn).to_have_attribute("data-rendered", "true")
    expect(viewer.locator(".textLayer .cited")).to_have_count(0)
    viewer.get_by_test_id("viewer-mode-text").click()
    markers = viewer.get_by_test_id("viewer-marker")
    expect(markers.first).to_have_text("Page 1")
    expect(markers.filter(has_text="Page 2")).to_have_count(1)
    current = viewer.locator('[data-testid="viewer-passage"][data-current="true"]')
    expect(current).to_contain_text("seven minutes")
    expect(current).to_be_in_viewport()

    assert page.evaluate("window.__csp") == []
    assert [line for line in console if "Content Security Policy" in line] == []
    assert errors == []
    context.close()


def test_the_viewer_on_a_phone(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    with new_page(browser, stack_url, phone=True) as page:
        upload(page, pump_guide(tmp_path))
        open_documents(page)
        close_drawer(page)
        answered(
            page, llm, "How is the feed pump primed?",
            ["Fill the casing [1]. ", "Check the suction line [2]."],
        )  # fmt: skip
        panel = open_sources(page)
        first = panel.locator('[data-testid="source-item"][data-n="1"]')
        first_words = middle_of(first)
        first.get_by_test_id("source-open").click()
        viewer = page.get_by_test_id("document-viewer")
        expect(viewer).to_be_visible()
        area = viewer.bounding_box()
        assert area is not None
        assert area["x"] >= 0
        assert area["width"] <= 390
        assert area["width"] >= 380  # the whole screen
        current = viewer.locator('[data-testid="viewer-passage"][data-current="true"]')
        expect(current).to_be_in_viewport()
        assert first_words in words(current.inner_text())
        for control in ("viewer-prev", "viewer-next", "viewer-close"):
            expect(viewer.get_by_test_id(control)).to_be_in_viewport()
        viewer.get_by_test_id("viewer-next").click()
        expect(viewer.get_by_test_id("viewer-where")).to_contain_text("citation 2 of 2")
        expect(current).to_be_in_viewport()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "viewer-phone.png"))
        viewer.get_by_test_id("viewer-close").click()
        expect(viewer).to_have_count(0)


def test_next_reads_one_documents_citations_then_moves_on_to_the_next_document(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, pump_guide(tmp_path))
    upload(page, harbour_notes(tmp_path))
    answered(
        page, llm, "How is the feed pump primed, and who decides on the berth?",
        ["Prime it by hand [1][2][3]. ", "The harbour master decides [4][5]."],
    )  # fmt: skip
    panel = open_sources(page)
    cited = panel.get_by_test_id("sources-cited").get_by_test_id("source-item")
    expect(cited).to_have_count(5)
    files = [item.locator(".file").inner_text() for item in cited.all()]
    assert set(files) == {"pump-handbook.md", "harbour-notes.txt"}
    cited.first.get_by_test_id("source-open").click()
    viewer = page.get_by_test_id("document-viewer")
    title = viewer.get_by_test_id("viewer-title")
    current = viewer.locator('[data-testid="viewer-passage"][data-current="true"]')
    seen = []
    for step in range(5):
        expect(viewer.get_by_test_id("viewer-where")).to_contain_text(f"citation {step + 1} of 5")
        expect(current).to_be_in_viewport()
        seen.append(title.inner_text())
        if step < 4:
            viewer.get_by_test_id("viewer-next").click()
    # All of the first document's citations, then all of the other's: the title changes once.
    assert seen[0] == files[0]
    changes = sum(1 for a, b in pairwise(seen) if a != b)
    assert changes == 1, seen
    assert seen.count(files[0]) == files.count(files[0])
    # And the passage shown is the citation named in the header.
    shown = re.search(r"Passage \[(\d+)\]", viewer.get_by_test_id("viewer-where").inner_text())
    assert shown is not None
    source = panel.locator(f'[data-testid="source-item"][data-n="{shown.group(1)}"]')
    assert middle_of(source) in words(current.inner_text())
