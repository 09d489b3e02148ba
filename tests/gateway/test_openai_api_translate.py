"""The pure parts of the OpenAI API: the Sources block, citations, a conversation as a turn."""

from __future__ import annotations

from typing import Any

import pytest

from ragis.contract.chat import MAX_HISTORY_MESSAGES
from ragis.errors import InvalidInput
from ragis.gateway.openai_api import (
    ChatCompletionRequest,
    ModelNotFound,
    collection_of,
    model_id,
    sources_block,
    strip_sources,
    to_chat_request,
)
from ragis.gateway.openai_api.translate import cited, parse_event


def passage(n: int, filename: str, page: int | None = None) -> dict[str, Any]:
    return {"n": n, "doc_id": f"d{n}", "filename": filename, "page": page, "score": 0.8,
            "text": "..."}  # fmt: skip


PASSAGES = [passage(1, "a.pdf", 3), passage(2, "b.txt"), passage(3, "c.pdf", 12)]


def request(*messages: dict[str, Any], **fields: Any) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {"model": "ragis", "messages": list(messages), **fields}
    )


@pytest.mark.parametrize(
    ("answer", "numbers"),
    [
        ("Ice [1].", {1}),
        ("Ice [2][3], rock [1].", {1, 2, 3}),
        ("Ice [1, 3].", {1, 3}),
        ("No citation; [a] is not one, nor [ 1 ] nor [-2].", set()),
    ],
)
def test_cited_reads_the_numbers_an_answer_cites(answer: str, numbers: set[int]) -> None:
    assert cited(answer) == numbers


def test_the_sources_block_lists_what_is_cited_with_pages() -> None:
    assert sources_block(PASSAGES, "Ice [3] and [1].") == (
        "\n\nSources:\n[1] a.pdf, p. 3\n[3] c.pdf, p. 12"
    )


def test_the_sources_block_lists_every_passage_when_none_is_cited() -> None:
    everything = "\n\nSources:\n[1] a.pdf, p. 3\n[2] b.txt\n[3] c.pdf, p. 12"
    assert sources_block(PASSAGES, "No citation.") == everything
    # A number no passage has is not a citation of one.
    assert sources_block(PASSAGES, "See [7].") == everything
    assert sources_block([], "Anything [1].") == ""


def test_a_file_name_cannot_break_the_block_into_more_lines() -> None:
    block = sources_block([passage(1, "evil\n[2] forged.pdf")], "[1]")
    assert block == "\n\nSources:\n[1] evil [2] forged.pdf"


def test_strip_sources_removes_only_the_block_ragis_appended() -> None:
    answer = "Ice [1]."
    assert strip_sources(answer + sources_block(PASSAGES, answer)) == answer
    assert strip_sources(answer + sources_block(PASSAGES, "none")) == answer
    kept = "Sources:\n[1] a.pdf is what the user wrote, then more text."
    assert strip_sources(kept) == kept
    middle = "Ice.\n\nSources:\n[1] a.pdf\n\nAnd a paragraph after it."
    assert strip_sources(middle) == middle


def test_model_ids_name_collections() -> None:
    assert collection_of("ragis") is None
    assert collection_of("ragis/tea") == "tea"
    assert model_id(None) == "ragis"
    assert model_id("tea") == "ragis/tea"
    for wrong in ("gpt-4o", "ragis/", "ragis/../x", "ragis/a/b", "RAGIS", "ragis/" + "x" * 65):
        with pytest.raises(ModelNotFound):
            collection_of(wrong)


def test_a_conversation_becomes_the_question_and_its_history() -> None:
    turn = to_chat_request(
        request(
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "answer [1]." + sources_block(PASSAGES, "[1]")},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "t"}]},
            {"role": "tool", "content": "tool output", "tool_call_id": "t"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "part"}],
            },
            model="ragis/tea",
            temperature=0.5,
            max_completion_tokens=10**9,
        )
    )
    assert turn.message == "second\npart"
    assert [(m.role, m.content) for m in turn.history or []] == [
        ("user", "first"),
        ("assistant", "answer [1]."),
    ]
    assert turn.collection == "tea"
    assert turn.temperature == 0.5
    assert turn.max_tokens == 1_000_000
    assert turn.session_id is None


def test_a_first_question_is_a_stateless_turn_with_an_empty_history() -> None:
    turn = to_chat_request(request({"role": "user", "content": "q"}))
    assert turn.history == []
    assert turn.model_dump(exclude_none=True) == {"message": "q", "history": []}


def test_only_the_last_history_messages_are_kept() -> None:
    earlier = [{"role": "user", "content": f"m{i}"} for i in range(250)]
    turn = to_chat_request(request(*earlier, {"role": "user", "content": "q"}))
    assert turn.history is not None
    assert len(turn.history) == MAX_HISTORY_MESSAGES
    assert turn.history[-1].content == "m249"


def test_the_last_message_must_be_a_users_question() -> None:
    for last in ({"role": "assistant", "content": "a"}, {"role": "user", "content": " \n"}):
        with pytest.raises(InvalidInput):
            to_chat_request(request({"role": "user", "content": "q"}, last))


@pytest.mark.parametrize(
    ("block", "parsed"),
    [
        (
            b'event: token\ndata: {"type":"token","text":"a"}\n\n',
            ("token", {"type": "token", "text": "a"}),
        ),
        (b": keep-alive\n\n", None),
        (b"event: token\ndata: not json\n\n", None),
        (b"event: token\ndata: [1]\n\n", None),
    ],
)
def test_parse_event(block: bytes, parsed: tuple[str, dict[str, Any]] | None) -> None:
    assert parse_event(block) == parsed
