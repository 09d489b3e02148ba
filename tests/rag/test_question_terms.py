"""The exact terms and names a cached answer must agree on (no model, no Redis)."""

from __future__ import annotations

import pytest

from ragis.rag.cache_scope import retrieval_signature
from ragis.rag.question_terms import agree, question_terms
from ragis.store import SearchFilter


def same(a: str, b: str) -> bool:
    return agree(question_terms(a), question_terms(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How many vacation days in 2023?", "How many vacation days in 2024?"),
        ("Can I expense $50?", "Can I expense $500?"),
        ("Is 1,000 euros approved?", "Is 10,000 euros approved?"),
        ("What does E44-4471 mean?", "What does E44-4472 mean?"),
        ("What changed in v2.3.1?", "What changed in v2.3.2?"),
        ("What was decided on 2024-03-01?", "What was decided on 2024-03-08?"),
        ("Sales in March 2023?", "Sales in April 2023?"),
        ("Who did we hire last year?", "Who did we hire this year?"),
        ("When is overtime paid?", "When is overtime not paid?"),
        ("Can contractors use the VPN?", "Can't contractors use the VPN?"),
        ("Is it safe with a passenger?", "Is it safe without a passenger?"),
        ('What does "max_connections" do?', 'What does "max_clients" do?'),
        ("What are the GDPR rules?", "What are the HIPAA rules?"),
        ("How do I reset the Kindle Paperwhite?", "How do I reset the Kindle Oasis?"),
        ("Does the Model S charge fast?", "Does the Model X charge fast?"),
        ("What to do before the surgery?", "What to do after the surgery?"),
        ("What is the minimum order?", "What is the maximum order?"),
        ("How much for two people?", "How much for three people?"),
    ],
)
def test_near_misses_disagree(a: str, b: str) -> None:
    assert not same(a, b)
    assert not same(b, a)
    assert question_terms(a).key != question_terms(b).key or not same(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How many vacation days in 2024?", "In 2024, how many vacation days?"),
        ("What does castling move?", "what does castling move"),
        ("Is 3,357 m high?", "Is 3357 m high?"),
        ("Cost for 2 people?", "Cost for two people?"),
        ("Which expenses are not reimbursed?", "Which expenses aren't reimbursed?"),
        ("What are Saturn's rings made of?", "What are the rings of Saturn made of?"),
        ("How do I reset my password in Outlook?", "Outlook password reset steps?"),
        ("What does error E44-4471 mean?", "What is the meaning of error E44-4471?"),
        ('What does "Max Connections" do?', 'What does "max  connections" do?'),
        ("I need the refund policy.", "What's the refund policy?"),
        ("Hi. What is the refund policy?", "the refund policy?"),
    ],
)
def test_paraphrases_agree(a: str, b: str) -> None:
    assert same(a, b)
    assert same(b, a)
    assert question_terms(a).key == question_terms(b).key


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "?" * 4000,
        '"' * 4000,
        "'" * 4000,
        "a" + "-." * 2000,
        "1," * 2000,
        '\ud800 "\ud800" E\ud800-1',
        "\x00\x1b[31m 2024 \u202e",
        "“" * 2000 + "”",
        " ".join(["Name"] * 800),
    ],
)
def test_hostile_questions_give_a_fixed_size_key(hostile: str) -> None:
    terms = question_terms(hostile)
    assert len(terms.key) == 32
    assert all(c in "0123456789abcdef" for c in terms.key)
    assert agree(terms, question_terms(hostile))


def test_the_retrieval_signature_sees_filter_and_top_k_but_not_their_order() -> None:
    base = retrieval_signature(SearchFilter(tags=("public",)), 5)
    assert base == retrieval_signature(SearchFilter(tags=("public", "public")), 5)
    assert base != retrieval_signature(SearchFilter(), 5)
    assert base != retrieval_signature(SearchFilter(tags=("private",)), 5)
    assert base != retrieval_signature(SearchFilter(tags=("public",)), 4)
    assert base != retrieval_signature(SearchFilter(doc_ids=("public",)), 5)
    assert base != retrieval_signature(SearchFilter(tags=("public",)), 5, mode="hybrid")
    both = retrieval_signature(SearchFilter(tags=("a", "b"), doc_ids=("x", "y")), 5)
    assert both == retrieval_signature(SearchFilter(tags=("b", "a"), doc_ids=("y", "x")), 5)
    # A tag cannot pose as a doc id, nor two tags as one: the fields stay apart.
    assert retrieval_signature(SearchFilter(tags=("a,b",)), 5) != retrieval_signature(
        SearchFilter(tags=("a", "b")), 5
    )
    assert len(retrieval_signature(SearchFilter(tags=("\ud800",)), 5)) == 32
