"""The tokenizer: identifiers whole and in parts, words stemmed, stopwords dropped, hostile text
bounded."""

from __future__ import annotations

import pytest

from ragis.errors import ConfigError
from ragis.lexical import Tokenizer


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E44-4471", ["e44-4471", "e44", "4471"]),
        ("snake_case", ["snake_case", "snake", "case"]),
        ("dotted.names", ["dotted.names", "dot", "name"]),
        ("v2.3.1", ["v2.3.1", "v2", "3", "1"]),
        ("RFC-9110", ["rfc-9110", "rfc", "9110"]),
        ("0x1F", ["0x1f"]),
        ("§12.3", ["§12.3", "12", "3"]),
        ("getUserName", ["getusername", "get", "user", "name"]),
        ("HTTPServer_v2", ["httpserver_v2", "http", "server", "v2"]),
    ],
)
def test_an_identifier_is_kept_whole_and_its_parts_are_indexed(
    tok: Tokenizer, text: str, expected: list[str]
) -> None:
    assert tok.query_terms(text) == expected


def test_the_issue_s_error_code_question_keeps_the_code(tok: Tokenizer) -> None:
    terms = tok.query_terms("What does error E44-4471 mean?")
    assert terms == ["error", "e44-4471", "e44", "4471", "mean"]


def test_words_are_casefolded_stemmed_and_stopwords_dropped(tok: Tokenizer) -> None:
    assert tok.query_terms("The pump FAILED") == ["pump", "fail"]
    assert tok.query_terms("failing pumps") == ["fail", "pump"]
    assert tok.query_terms("overheated") == tok.query_terms("overheating")
    assert tok.query_terms("the of and a is") == []


def test_negations_are_not_stopwords(tok: Tokenizer) -> None:
    assert tok.query_terms("not supported") == ["not", "support"]


def test_an_identifier_made_of_stopwords_is_never_dropped(tok: Tokenizer) -> None:
    assert tok.query_terms("the_value is-a") == ["the_value", "valu", "is-a"]


def test_trailing_punctuation_is_not_part_of_an_identifier(tok: Tokenizer) -> None:
    assert tok.query_terms("Error E44-4471: see v2.3.1.")[:2] == ["error", "e44-4471"]
    assert "v2.3.1" in tok.query_terms("see v2.3.1.")


def test_index_terms_count_frequencies_and_their_sum_is_the_length(tok: Tokenizer) -> None:
    counts = tok.index_terms("Error E44-4471: the feed pump overheated. Pump error.")
    assert counts["error"] == 2
    assert counts["pump"] == 2
    assert counts["e44-4471"] == 1
    assert counts["e44"] == 1
    assert "the" not in counts


def test_index_and_query_terms_meet(tok: Tokenizer) -> None:
    chunk = tok.index_terms("Clause §12.3 of RFC-9110 governs the overheating of snake_case pumps.")
    for question in ("What does §12.3 say?", "rfc-9110", "overheated pump", "snake case"):
        assert set(tok.query_terms(question)) - {"say", "what"} <= set(chunk), question


def test_nfkc_folds_full_width_and_ligatures(tok: Tokenizer) -> None:
    assert tok.query_terms("Ｅ４４－４４７１") == ["e44-4471", "e44", "4471"]
    assert tok.query_terms("ﬁle") == tok.query_terms("file")


def test_query_terms_are_distinct_in_order_and_capped() -> None:
    tok = Tokenizer(max_query_terms=3)
    assert tok.query_terms("pump pump valve pump") == ["pump", "valv"]
    assert len(tok.query_terms(" ".join(f"w{i}" for i in range(1000)))) == 3


def test_another_language_stems_with_its_own_stemmer_and_no_english_stopwords() -> None:
    tok = Tokenizer("german")
    assert tok.query_terms("die Pumpen") == ["die", "pump"]


def test_an_unknown_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="klingon"):
        Tokenizer("klingon")


# -- hostile text ---------------------------------------------------------------------------


def test_a_one_megabyte_token_is_dropped_not_cut(tok: Tokenizer) -> None:
    assert tok.index_terms("x" * 1_000_000) == {}
    assert tok.index_terms("pump " + "E44-" * 200_000 + "4471 valve") == {"pump": 1, "valv": 1}


def test_a_million_tokens_are_bounded() -> None:
    tok = Tokenizer(max_tokens=1000)
    counts = tok.index_terms("pump " * 1_000_000)
    assert counts == {"pump": 1000}


def test_the_input_is_cut_at_max_chars() -> None:
    tok = Tokenizer(max_chars=100)
    assert sum(tok.index_terms("pump " * 10_000).values()) == 20


def test_control_and_invisible_characters_cannot_split_or_forge_a_token(tok: Tokenizer) -> None:
    for forged in ("E44\u200b-4471", "E44-\u202e4471", "E\x0044-4471", "E44-44\ufeff71"):
        assert tok.query_terms(forged)[0] == "e44-4471", repr(forged)


def test_line_breaks_and_tabs_separate_words(tok: Tokenizer) -> None:
    assert tok.query_terms("pump\nvalve\tcheck\r\nE44-4471\x85coolant") == [
        "pump", "valv", "check", "e44-4471", "e44", "4471", "coolant",
    ]  # fmt: skip


def test_lone_surrogates_rtl_and_emoji_are_harmless(tok: Tokenizer) -> None:
    text = "pump \ud800 valve \udfff שלום 🔥🔥 مرحبا E44-4471 \U0010ffff"
    terms = tok.query_terms(text)
    assert terms[:2] == ["pump", "valv"]
    assert "e44-4471" in terms
    assert all("\ud800" not in t and "🔥" not in t for t in terms)
    for term in terms:
        term.encode("utf-8")  # every term is valid UTF-8: it becomes part of a Redis key


def test_no_term_holds_whitespace_or_exceeds_the_bound(tok: Tokenizer) -> None:
    text = "a\u00a0b\u2003c d\u3000e " + "é" * 64 + " " + "é" * 65 + " x\ty\nz"
    for term in tok.index_terms(text):
        assert not any(c.isspace() for c in term)
        assert len(term) <= 64


def test_casefolding_cannot_grow_a_term_past_the_bound(tok: Tokenizer) -> None:
    assert tok.index_terms("ΐ" * 64 + " pump") == {"pump": 1}
    assert tok.index_terms("ß" * 40) == {}
    assert all(len(t.encode()) <= 256 for t in tok.index_terms("ﬃ" * 30 + "ŉ" * 30))


def test_deeply_nested_punctuation_is_linear(tok: Tokenizer) -> None:
    # Joiners between every character (no backtracking blow-up in the token pattern).
    text = "-".join("a" * 1 for _ in range(200_000)) + "!"
    assert tok.index_terms(text) == {}
    assert tok.index_terms("(((((" * 100_000 + "pump" + ")))))" * 100_000) == {"pump": 1}


def test_codes_are_identifiers_with_a_digit_an_underscore_or_a_clause_sign() -> None:
    tok = Tokenizer()
    assert tok.codes("What does error E44-4471 mean, and E44-4471 again?") == ["e44-4471"]
    assert tok.codes("call get_user in v2.3.1, see §12.3, RFC-9110 and 0x1F") == [
        "get_user", "v2.3.1", "§12.3", "rfc-9110", "0x1f",
    ]  # fmt: skip
    assert tok.codes("Is it well-known, e.g. read-only, in 2023 or 3.14? Ask PostgreSQL.") == []
    # Every code is also an index term of a text that holds it, so a passage can be checked.
    text = "Call get_user in v2.3.1; E44-4471 is in §12.3."
    assert set(tok.codes(text)) <= set(tok.index_terms(text))


def test_codes_of_hostile_text_are_bounded() -> None:
    tok = Tokenizer()
    assert len(tok.codes(" ".join(f"X-{i}" for i in range(10_000)))) == 64
    assert tok.codes("A" * 1_000_000 + "-1") == []
    assert tok.codes("E44\u200b-4471") == ["e44-4471"]
