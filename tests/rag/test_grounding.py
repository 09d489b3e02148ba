"""The grounded gate's rule (pure): the best similarity against the threshold, the collection's
own threshold first, and a question's codes that no passage holds."""

from __future__ import annotations

from ragis.rag.grounding import NOT_FOUND, ground, missing_codes, not_found_text
from ragis.store import CollectionInfo, RetrievedChunk, StoredChunk


def info(min_score: float | None = None) -> CollectionInfo:
    return CollectionInfo(
        name="docs", model="m", dim=3, quantization="Q8", m=16, version=1, created=0.0,
        lexical="english", min_score=min_score,
    )  # fmt: skip


def passage(text: str, score: float) -> RetrievedChunk:
    return RetrievedChunk(StoredChunk("d:0", "d", text, 0), "d.txt", score)


def test_the_best_score_against_the_threshold() -> None:
    found = [passage("The pump overheated.", 0.71), passage("Other.", 0.65)]
    assert ground(found, info(), 0.70).grounded
    assert ground(found, info(), 0.70).best_score == 0.71
    assert not ground(found, info(), 0.72).grounded
    assert ground(found, info(), 0.0).grounded


def test_the_collection_s_own_threshold_wins() -> None:
    found = [passage("The pump overheated.", 0.71)]
    assert not ground(found, info(min_score=0.8), 0.5).grounded
    assert ground(found, info(min_score=0.6), 0.9).grounded
    assert ground(found, info(min_score=0.0), 0.9).grounded


def test_no_passage_is_never_grounded() -> None:
    nothing = ground([], info(), 0.0)
    assert not nothing.grounded
    assert nothing.best_score is None


def test_a_code_no_passage_holds_is_not_grounded() -> None:
    found = [passage("Error E44-4471: the feed pump overheated.", 0.9)]
    asked = ground(found, info(), 0.5, question="What does error E44-4471 mean?")
    assert asked.grounded
    other = ground(found, info(), 0.5, question="What does error E44-4472 mean?")
    assert not other.grounded
    assert other.missing == ("e44-4472",)
    assert "`e44-4472`" in not_found_text(other.missing)
    assert not_found_text(()) == NOT_FOUND


def test_one_code_of_several_is_enough_and_words_are_not_codes() -> None:
    found = [passage("Upgrade to v2.3.1 before enabling the well-known endpoint.", 0.9)]
    assert missing_codes("Does v2.3.1 or v9.9.9 fix it?", found, "english") == ()
    # Hyphenated words, abbreviations, camelCase names and bare numbers are worded freely.
    for question in (
        "Is the well-known endpoint read-only, e.g. in 2023?",
        "Does PostgreSQL support it in 3.14 seconds?",
    ):
        assert missing_codes(question, found, "english") == (), question
    assert missing_codes("What is in §12.3?", found, "english") == ("§12.3",)
