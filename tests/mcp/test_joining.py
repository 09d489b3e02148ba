"""A document's text rebuilt from its passages: each repeat of the previous passage's end is
dropped, and nothing else, on the chunker's real output."""

from __future__ import annotations

from ragis.ingest import Chunker
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.mcp.joining import MIN_OVERLAP, join_passages, overlap

SENTENCE = "Redis keeps every vector of a collection in one Vector Set, quantized to int8. "


def _document(text: str) -> ParsedDocument:
    return ParsedDocument("text/markdown", [PageText(None, text)], None, None)


def test_the_repeated_words_of_consecutive_passages_are_dropped_once() -> None:
    assert join_passages(["The quick brown fox jumps over", "fox jumps over the lazy dog."]) == (
        "The quick brown fox jumps over the lazy dog."
    )


def test_passages_that_do_not_overlap_are_kept_whole_after_a_blank_line() -> None:
    assert join_passages(["# One\n\nFirst section.", "# Two\n\nSecond section."]) == (
        "# One\n\nFirst section.\n\n# Two\n\nSecond section."
    )


def test_a_short_chance_match_is_not_taken_for_an_overlap() -> None:
    # "saw the" / "the cat": three letters alike are a coincidence, not a repeat.
    assert join_passages(["I saw the", "the cat"]) == "I saw the\n\nthe cat"
    assert overlap("x" * 40 + "abc", "abc" + "y" * 40) == 0
    assert MIN_OVERLAP > 3


def test_a_repeated_heading_line_before_the_overlap_is_dropped_too() -> None:
    first = "## Install\n\nRun the installer and wait until it says the service is ready."
    second = "## Install\n\nuntil it says the service is ready. Then open the browser."
    assert join_passages([first, second]) == (
        "## Install\n\nRun the installer and wait until it says the service is ready. "
        "Then open the browser."
    )


def test_no_passages_join_to_nothing_and_one_to_itself() -> None:
    assert join_passages([]) == ""
    assert join_passages(["alone"]) == "alone"


def test_the_chunkers_own_passages_join_back_to_the_document() -> None:
    text = "".join(f"{SENTENCE[:-2]} number {i}. " for i in range(120)).strip()
    chunks = Chunker(max_tokens=64, overlap_tokens=16).chunk(_document(text))
    assert len(chunks) > 5
    # They do overlap: joined naively, the text would be longer than the document.
    assert sum(len(c.text) for c in chunks) > len(text) + 5 * MIN_OVERLAP
    assert join_passages(c.text for c in chunks) == text


def test_a_markdown_documents_passages_join_back_with_their_headings_once() -> None:
    body = " ".join(f"Step {i} of the install copies the files and checks them." for i in range(60))
    text = f"# Guide\n\n## Install\n\n{body}\n\n## Use\n\nOpen the browser at the printed address."
    chunks = Chunker(max_tokens=64, overlap_tokens=16).chunk(_document(text))
    assert sum(c.text.startswith("## Install") for c in chunks) > 1  # the heading is repeated
    joined = join_passages(c.text for c in chunks)
    assert joined.count("## Install") == 1
    assert joined.count("Step 37 of") == 1
    assert joined.split() == text.split()
