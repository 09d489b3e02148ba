"""`ragis eval`, in-process (`ragis.cli.main`), against a real gateway in front of the real RAG
service (real Redis, real embedder, the scripted OpenAI server on loopback answering): the
metrics of a known situation, the JSON and table outputs, hostile question files, and the
shipped evaluation set."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from ragis.client.api import GatewayClient
from ragis.client.eval import (
    MAX_QUESTIONS,
    Cited,
    Outcome,
    Question,
    Scores,
    calibrate,
    evaluate,
    load_questions,
    parse_modes,
    summarize,
)
from ragis.client.eval.calibrate import format_calibration
from ragis.errors import InvalidInput, RagisError
from support.cli import Cli
from support.gateway_fixtures import GatewayFactory
from support.llm_servers import OpenAIServer, Reply, unused_port

SHIPPED = Path(__file__).resolve().parents[2] / "bench" / "eval" / "debian-reference.jsonl"

DOCS = {
    "saturn.txt": "Saturn's rings are made mostly of water ice, from tiny grains to boulders.\n",
    "bread.txt": "Sourdough bread rises with a starter of wild yeast; bake it at 240 degrees.\n",
    "kayak.txt": "Inflate the kayak with the foot pump until the gauge shows 0.2 bar.\n",
}


#: The RAG service's grounded threshold here: the model scores the questions of KNOWN whose
#: document is ingested 0.89-0.91 and the other two 0.55-0.62, so 0.7 refuses exactly those.
MIN_SCORE = 0.7


@pytest.fixture
def rag_url(start_rag: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    with start_rag(min_score=MIN_SCORE) as url:
        yield url


@pytest.fixture
def gateway(rag_url: str, start_gateway: GatewayFactory) -> Iterator[str]:
    """A gateway (sign-in off on loopback) whose collection `default` holds DOCS."""
    with start_gateway(rag_urls=[rag_url]) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            for name, text in DOCS.items():
                response = client.post(
                    "/api/documents/upload", files=[("file", (name, text.encode()))]
                )
                assert response.status_code == 200, response.text
        yield url


@pytest.fixture
def cli(
    clean_env: None,
    gateway: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return Cli(gateway, monkeypatch, capsys)


@pytest.fixture
def offline_cli(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """The CLI pointed at a port where nothing listens: a bad file must fail before any call."""
    return Cli(f"http://127.0.0.1:{unused_port()}", monkeypatch, capsys)


def write_jsonl(path: Path, *lines: object) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


KNOWN = [
    # Its document is cited first; the answer holds the keywords.
    {"question": "What are Saturn's rings made of?", "doc": "saturn.txt",
     "keywords": ["water ice"], "kind": "natural"},
    # Its document is cited first; the answer misses the keywords.
    {"question": "To what pressure in bar do I inflate the kayak with the foot pump?",
     "doc": "kayak.txt", "keywords": ["0.2 bar"], "kind": "exact"},
    # Its document was never ingested: a miss everywhere, and refused (wrongly, for the set).
    {"question": "What is molten rock under a volcano called?", "doc": "volcano.txt",
     "keywords": ["magma"], "kind": "natural"},
    # No document holds it: refused (rightly).
    {"question": "What is the capital of Australia?", "answerable": False},
]  # fmt: skip
#: The LLM answers the two grounded questions only: below the threshold ragis answers itself.
ANSWERS = ["Mostly water ice [1].", "Use the pump."]


def test_the_metrics_of_a_known_situation_in_json(
    cli: Cli, llm: OpenAIServer, tmp_path: Path
) -> None:
    llm.script(*(Reply(tokens=[answer]) for answer in ANSWERS))
    result = cli("eval", str(write_jsonl(tmp_path / "q.jsonl", *KNOWN)), "--top-k", "2", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert set(report) == {
        "file", "collection", "top_k", "providers", "modes", "not_found_phrases", "notes",
        "results",
    }  # fmt: skip
    assert report["providers"] == ["openai"]
    assert report["top_k"] == 2
    assert list(report["modes"]) == ["default"]
    groups = report["modes"]["default"]
    assert list(groups) == ["all", "natural", "exact", "unanswerable"]

    ranks = [(r["doc"], r["doc_rank"]) for r in report["results"]]
    assert ranks == [("saturn.txt", 1), ("kayak.txt", 1), ("volcano.txt", None), (None, None)]

    every = groups["all"]
    assert (every["n"], every["errors"]) == (4, 0)
    assert every["doc_hit@1"] == every["doc_hit@3"] == pytest.approx(2 / 3)
    assert every["mrr"] == pytest.approx(2 / 3)
    assert every["page_hit@1"] is None  # no question names a page
    assert every["passage_recall"] == pytest.approx(2 / 3)
    assert every["answer_accuracy"] == pytest.approx(1 / 3)
    assert every["passage_hit@1"] == pytest.approx(2 / 3)
    # Both sides of the gate, from meta.grounded: the unanswerable one refused, one answerable too.
    assert every["not_found"] == 1.0
    assert every["refused"] == pytest.approx(1 / 3)
    results = report["results"]
    assert [r["grounded"] for r in results] == [True, True, False, False]
    assert [r["refused_from"] for r in results] == ["grounded"] * 4
    assert all(isinstance(r["best_score"], float) for r in results)
    assert [r["best_score"] >= MIN_SCORE for r in results] == [True, True, False, False]
    assert [r["retrieval"] for r in results] == ["hybrid"] * 4  # the service's default

    natural, exact, unanswerable = groups["natural"], groups["exact"], groups["unanswerable"]
    assert (natural["n"], natural["doc_hit@1"], natural["mrr"]) == (2, 0.5, 0.5)
    assert (natural["passage_recall"], natural["answer_accuracy"]) == (0.5, 0.5)
    assert (natural["refused"], natural["not_found"]) == (0.5, None)
    assert (exact["doc_hit@1"], exact["passage_recall"], exact["answer_accuracy"]) == (1, 1, 0)
    assert exact["refused"] == 0.0
    assert unanswerable["n"] == 1
    assert unanswerable["doc_hit@1"] is None
    assert (unanswerable["not_found"], unanswerable["refused"]) == (1.0, None)
    for metrics in groups.values():
        assert 0 < metrics["ms_to_citations_p50"] <= metrics["ms_total_p95"]
    assert not any("NOT_FOUND_PHRASES" in note for note in report["notes"])  # no fallback
    assert "mode default: no mode was sent; the service used hybrid." in report["notes"]
    assert "4/4 questions" in result.err  # progress goes to stderr, not into the JSON


def test_each_retrieval_mode_is_sent_and_reported_side_by_side(cli: Cli, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", KNOWN[0], KNOWN[1], KNOWN[3])
    result = cli("eval", str(path), "--retrieval", "lexical,vector,hybrid", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert list(report["modes"]) == ["lexical", "vector", "hybrid"]
    assert [(r["mode"], r["retrieval"]) for r in report["results"]] == [
        (mode, mode) for mode in ("lexical", "vector", "hybrid") for _ in range(3)
    ]
    for mode in ("lexical", "vector", "hybrid"):
        every = report["modes"][mode]["all"]
        assert (every["n"], every["errors"], every["doc_hit@1"]) == (3, 0, 1.0), mode
        assert every["not_found"] == 1.0, mode  # the capital of Australia, in every mode
    assert "9/9 questions" in result.err
    assert not any(note.startswith("mode default") for note in report["notes"])

    table = cli("eval", str(path), "--retrieval", "vector,lexical")
    assert table.code == 0, table.err
    rows = [line.split()[:3] for line in table.out.splitlines()[1:7]]
    assert rows == [
        ["all", "vector", "3"], ["all", "lexical", "3"],
        ["natural", "vector", "1"], ["natural", "lexical", "1"],
        ["exact", "vector", "1"], ["exact", "lexical", "1"],
    ]  # fmt: skip


def test_calibrate_prints_the_threshold_its_rule_and_both_distributions(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", *KNOWN)
    result = cli("eval", str(path), "--calibrate", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    (calibration,) = report["calibration"]
    scores = [r["best_score"] for r in report["results"]]
    # 3 answerable: 2% allows none refused, so the threshold lies between the unanswerable
    # one's score and the lowest answerable score.
    assert scores[3] < calibration["threshold"] < min(scores[:3])
    assert calibration["threshold"] == pytest.approx((scores[3] + min(scores[:3])) / 2)
    assert calibration["mode"] == "default"
    assert calibration["rule"].startswith("refuse when best_score < threshold")
    assert (calibration["answerable_kept"], calibration["unanswerable_refused"]) == (3, 1)
    assert calibration["answerable"]["n"] == 3
    assert calibration["answerable"]["p50"] == sorted(scores[:3])[1]
    assert calibration["unanswerable"]["p5"] == calibration["unanswerable"]["p95"] == scores[3]

    table = cli("eval", str(path), "--calibrate", "--retrieval", "vector")
    assert table.code == 0, table.err
    text = table.out
    assert "refusing at most 2% of the answerable questions" in text
    assert f"mode vector: RAGIS_MIN_SCORE={calibration['threshold']:.4f}" in text
    assert "answerable kept 3/3, unanswerable refused 1/1" in text
    assert any(line.split()[:2] == ["answerable", "3"] for line in text.splitlines())


def test_the_table_has_a_row_per_kind_and_the_notes(
    cli: Cli, llm: OpenAIServer, tmp_path: Path
) -> None:
    llm.script(Reply(tokens=["Water ice."]))
    path = write_jsonl(tmp_path / "q.jsonl", KNOWN[0])
    result = cli("eval", str(path), "--collection", "default")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:6] == ["kind", "mode", "n", "errors", "doc@1", "doc@3"]
    assert lines[1].split()[:7] == ["all", "default", "1", "0", "100%", "100%", "100%"]
    assert lines[2].split()[:3] == ["natural", "default", "1"]
    assert any(line.startswith("not-found: ") for line in lines)


def test_an_error_event_is_reported_then_exits_1_with_one_sentence(
    cli: Cli, llm: OpenAIServer, tmp_path: Path
) -> None:
    llm.script(Reply.http_error(500))
    result = cli("eval", str(write_jsonl(tmp_path / "q.jsonl", KNOWN[0])), "--json")
    assert result.code == 1
    assert json.loads(result.out)["modes"]["default"]["all"]["errors"] == 1
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("ragis: 1 of 1 questions got an error instead of an answer")


def test_an_unknown_collection_exits_1_with_one_sentence(cli: Cli, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", KNOWN[0])
    result = cli("eval", str(path), "--collection", "nosuch")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1].startswith("ragis: ")
    assert result.out == ""


def test_no_gateway_exits_1_with_one_sentence(offline_cli: Cli, tmp_path: Path) -> None:
    result = offline_cli("eval", str(write_jsonl(tmp_path / "q.jsonl", KNOWN[0])))
    assert result.code == 1
    assert result.err.strip().splitlines() == [result.err.strip()]
    assert "does not answer" in result.err


# --- Hostile question files: refused before anything is sent, with the line number ----------


def _hostile(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    good = json.dumps({"question": "q", "doc": "a.txt"})
    return {
        "not json": (b'{"question": "q", \n', "line 1: not JSON"),
        "an array": (b'[{"question": "q"}]\n', "line 1: expected a JSON object, got list"),
        "a string": (b'"question"\n', "line 1: expected a JSON object, got str"),
        "wrong type": (
            f'{good}\n{{"question": "q", "doc": "a.txt", "page": "3"}}\n'.encode(),
            "line 2: page:",
        ),
        "bool for a number": (b'{"question": "q", "doc": "a", "page": true}\n', "line 1: page:"),
        "nested object": (b'{"question": {"$ne": null}, "doc": "a"}\n', "line 1: question:"),
        "unknown field": (b'{"question": "q", "doc": "a", "score": 1}\n', "line 1: score:"),
        "forged kind": (
            b'{"question": "q", "answerable": false, "kind": "exact"}\n',
            "line 1: Value error",
        ),
        "nothing to score": (b'{"question": "q"}\n', 'needs "doc" or "keywords"'),
        "deep nesting": (
            b'{"question": ' + b"[" * 30_000 + b"]" * 30_000 + b"}\n",
            "line 1: the JSON is nested too deeply",
        ),
        "huge line": (
            json.dumps({"question": "x" * 100_000, "doc": "a"}).encode() + b"\n",
            "line 1: the line is longer than",
        ),
        "huge question": (
            json.dumps({"question": "x" * 5000, "doc": "a"}).encode() + b"\n",
            "line 1: question:",
        ),
        "too many keywords": (
            json.dumps({"question": "q", "keywords": ["k"] * 33}).encode() + b"\n",
            "line 1: keywords:",
        ),
        "not utf-8": (b'{"question": "\xff\xfe"}\n', "is not UTF-8 text"),
        "empty": (b"", "holds no questions"),
        "blank lines only": (b"\n  \n\n", "holds no questions"),
        "too many lines": (
            (good + "\n").encode() * (MAX_QUESTIONS + 1),
            f"has more than {MAX_QUESTIONS} questions",
        ),
        "too big": (b" " * (16 * 1024 * 1024 + 1), "a question file may have at most"),
    }


HOSTILE_NAMES = [
    "not json", "an array", "a string", "wrong type", "bool for a number", "nested object",
    "unknown field", "forged kind", "nothing to score", "deep nesting", "huge line",
    "huge question", "too many keywords", "not utf-8", "empty", "blank lines only",
    "too many lines", "too big",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_question_file_is_one_sentence_and_exit_1(
    name: str, offline_cli: Cli, tmp_path: Path
) -> None:
    content, expected = _hostile(tmp_path)[name]
    path = tmp_path / "q.jsonl"
    path.write_bytes(content)
    result = offline_cli("eval", str(path))
    assert result.code == 1
    assert result.out == ""
    message = result.err.strip()
    assert message.count("\n") == 0, message[:300]
    assert message.startswith("ragis: "), message[:300]
    assert expected in message, message
    assert len(message) < 600  # never the hostile value itself


def test_a_missing_file_is_one_sentence(offline_cli: Cli, tmp_path: Path) -> None:
    result = offline_cli("eval", str(tmp_path / "nope.jsonl"))
    assert result.code == 1
    assert result.err.startswith("ragis: Cannot read the question file")


def test_a_top_k_out_of_range_is_refused(offline_cli: Cli, tmp_path: Path) -> None:
    result = offline_cli("eval", str(write_jsonl(tmp_path / "q.jsonl", KNOWN[0])), "-k", "99")
    assert (result.code, result.err) == (1, "ragis: --top-k must be between 1 and 50.\n")


def test_kind_and_answerable_agree(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "q.jsonl",
        {"question": "a", "kind": "unanswerable"},
        {"question": "b", "answerable": False},
        {"question": "c", "keywords": ["x"]},
    )
    first, second, third = load_questions(path)
    assert (first.group, first.is_answerable) == ("unanswerable", False)
    assert (second.group, second.is_answerable) == ("unanswerable", False)
    assert (third.group, third.is_answerable) == ("natural", True)
    contradiction = write_jsonl(
        tmp_path / "bad.jsonl", {"question": "a", "kind": "unanswerable", "answerable": True}
    )
    with pytest.raises(InvalidInput, match="line 1"):
        load_questions(contradiction)


# --- The shipped evaluation set ----------------------------------------------------------------


def test_the_shipped_debian_reference_set_is_valid_and_has_the_required_kinds() -> None:
    questions = load_questions(SHIPPED)
    kinds = Counter(q.group for q in questions)
    assert len(questions) >= 60
    assert kinds["natural"] >= 25
    assert kinds["exact"] >= 20
    assert kinds["unanswerable"] >= 15
    assert all(q.kind is not None for q in questions)  # every line says its kind
    for q in questions:
        if q.is_answerable:
            assert q.doc is not None, q.question
            assert q.doc.endswith(".en.html"), q.question
            assert q.keywords, q.question
            assert q.page is None  # HTML has no pages
        else:
            assert q.doc is None, q.question
    assert len({q.question for q in questions}) == len(questions)  # no duplicates


def test_the_cli_lists_eval() -> None:
    assert "eval" in sys.modules["ragis.cli"].build_parser().format_help()


# --- --retrieval: modes side by side; a bad list is refused before anything is sent ----------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hybrid,vector,lexical", ["hybrid", "vector", "lexical"]),
        ("lexical,hybrid", ["lexical", "hybrid"]),  # the order given is the report's
        (" Vector , LEXICAL ", ["vector", "lexical"]),
    ],
)
def test_retrieval_modes_are_read_in_order(value: str, expected: list[str]) -> None:
    assert parse_modes(value) == expected


HOSTILE_MODES = {
    "unknown mode": ("bm25", "'bm25' is not a retrieval mode; use hybrid, vector, lexical"),
    "unknown among known": ("hybrid,semantic", "'semantic' is not a retrieval mode"),
    "the default by name": ("default", "'default' is not a retrieval mode"),
    "empty list": ("", "--retrieval needs at least one mode"),
    "only commas": (",,", "--retrieval needs at least one mode"),
    "trailing comma": ("hybrid,", "an empty mode is not a retrieval mode"),
    "duplicate": ("vector,lexical,vector", "--retrieval names vector twice"),
    "duplicate by case": ("hybrid,HYBRID", "--retrieval names hybrid twice"),
    "other separator": ("hybrid;vector", "'hybrid;vector' is not a retrieval mode"),
    "huge": ("x" * 100_000, "is not a retrieval mode"),
    "control characters": ("hy\x1b[2Jbrid", "is not a retrieval mode"),
}


@pytest.mark.parametrize("name", list(HOSTILE_MODES))
def test_a_bad_retrieval_list_is_one_sentence_and_exit_1_before_any_request(
    name: str, offline_cli: Cli, tmp_path: Path
) -> None:
    value, expected = HOSTILE_MODES[name]
    path = write_jsonl(tmp_path / "q.jsonl", KNOWN[0])
    result = offline_cli("eval", str(path), "--retrieval", value)
    assert result.code == 1
    assert result.out == ""
    message = result.err.strip()
    assert message.startswith("ragis: --retrieval"), message[:300]
    assert "\n" not in message
    assert "\x1b" not in message
    assert expected in message, message
    assert len(message) < 300  # never the whole hostile value
    with pytest.raises(InvalidInput):
        parse_modes(value)


def test_evaluate_itself_refuses_modes_the_cli_would_not_pass(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", KNOWN[0])

    async def run(modes: list[str]) -> None:
        async with GatewayClient(f"http://127.0.0.1:{unused_port()}") as client:
            await evaluate(client, path, modes=modes)

    for modes in ([], ["vector", "vector"], ["bm25"]):
        with pytest.raises(InvalidInput, match="Retrieval modes must be distinct ones"):
            asyncio.run(run(modes))


# --- --calibrate needs both sides of the gate ----------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "missing"),
    [
        ([KNOWN[0], KNOWN[1]], "no unanswerable ones"),
        ([KNOWN[3], {"question": "Who painted the Mona Lisa?", "kind": "unanswerable"}],
         "no answerable ones"),
    ],
)  # fmt: skip
def test_calibrate_without_both_kinds_is_one_sentence_before_any_request(
    lines: list[dict[str, object]], missing: str, offline_cli: Cli, tmp_path: Path
) -> None:
    result = offline_cli("eval", str(write_jsonl(tmp_path / "q.jsonl", *lines)), "--calibrate")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("ragis: --calibrate needs both answerable and unanswerable")
    assert missing in result.err
    assert result.err.count("\n") == 1


# --- Refusals from the service's signal, both sides of the gate (pure) ----------------------------


def _q(kind: str, *, keywords: tuple[str, ...] = ("ice",)) -> Question:
    if kind == "unanswerable":
        return Question(question="Capital of Australia?", kind="unanswerable")
    return Question(question="Rings?", doc="saturn.txt", keywords=list(keywords), kind="natural")


def _o(
    kind: str,
    *,
    grounded: bool | None = None,
    best: float | None = None,
    answer: str = "",
    provider: str = "none",
    cited: tuple[str, ...] = (),
    mode: str = "hybrid",
    error: str | None = None,
) -> Outcome:
    return Outcome(
        question=_q(kind),
        mode=mode,
        cited=tuple(Cited("saturn.txt", None, text) for text in cited),
        answer=answer,
        provider=provider,
        grounded=grounded,
        best_score=best,
        error=error,
    )


def test_not_found_and_refused_come_from_grounded_even_without_an_llm() -> None:
    outcomes = [
        _o("unanswerable", grounded=False),
        _o("unanswerable", grounded=False),
        _o("unanswerable", grounded=True),
        _o("natural", grounded=True, cited=("water ice",)),
        _o("natural", grounded=True, cited=("rock", "water ice")),
        _o("natural", grounded=True, cited=("rock",)),
        _o("natural", grounded=False, cited=("rock",)),
    ]
    groups = summarize(outcomes)["hybrid"]
    assert groups["unanswerable"]["not_found"] == pytest.approx(2 / 3)
    assert groups["unanswerable"]["refused"] is None
    assert groups["natural"]["refused"] == pytest.approx(1 / 4)
    assert groups["natural"]["not_found"] is None
    assert groups["natural"]["passage_hit@1"] == pytest.approx(1 / 4)
    assert groups["natural"]["passage_recall"] == pytest.approx(2 / 4)
    assert [Scores.of(o).refused_from for o in outcomes] == ["grounded"] * 7
    assert [Scores.of(o).passage_rank for o in outcomes[3:]] == [1, 2, None, None]


def test_grounded_outranks_the_phrases_which_are_only_a_fallback() -> None:
    says_no = "That is not found in the documents."
    signal = _o("unanswerable", grounded=True, answer=says_no, provider="openai")
    fallback = _o("unanswerable", answer=says_no, provider="openai")
    unmeasured = _o("unanswerable", answer=says_no)  # no signal, no LLM
    assert (Scores.of(signal).refused, Scores.of(signal).refused_from) == (False, "grounded")
    assert (Scores.of(fallback).refused, Scores.of(fallback).refused_from) == (True, "phrases")
    assert (Scores.of(unmeasured).refused, Scores.of(unmeasured).refused_from) == (None, None)
    failed = _o("unanswerable", grounded=False, error="boom")
    assert Scores.of(failed).refused is None
    assert summarize([failed])["hybrid"]["unanswerable"]["not_found"] is None


# --- The calibration rule (pure) ------------------------------------------------------------------


def _scored(
    answerable: Sequence[float | None], unanswerable: Sequence[float | None]
) -> list[Outcome]:
    return [
        *(_o("natural", best=s, grounded=True) for s in answerable),
        *(_o("unanswerable", best=s, grounded=True) for s in unanswerable),
    ]


def test_calibration_keeps_every_answerable_one_when_2_percent_is_less_than_one() -> None:
    # 10 answerable: 2% allows 0 refused, so the threshold sits just under the lowest (0.50),
    # halfway to the highest unanswerable score below it.
    (c,) = calibrate(_scored([0.5, 0.6, 0.62, 0.7, 0.71, 0.75, 0.8, 0.81, 0.85, 0.9],
                             [0.1, 0.2, 0.3, 0.45, 0.55, 0.65]))  # fmt: skip
    assert c.threshold == pytest.approx((0.45 + 0.5) / 2)
    assert (c.answerable_kept, c.answerable_refused) == (10, 0)
    assert (c.unanswerable_refused, c.unanswerable_kept) == (4, 2)
    assert c.feasible
    assert (c.answerable.n, c.answerable.p5, c.answerable.p50, c.answerable.p95) == (
        10, 0.5, 0.71, 0.9,
    )  # fmt: skip
    assert (c.unanswerable.p50, c.unanswerable.no_passage) == (0.3, 0)


def test_calibration_may_refuse_one_answerable_of_50_when_that_refuses_more_unanswerable() -> None:
    answerable = [0.40] + [0.60 + i / 1000 for i in range(49)]
    unanswerable = [0.1, 0.45, 0.5, 0.55]
    (c,) = calibrate(_scored(answerable, unanswerable))
    assert c.threshold == pytest.approx((0.55 + 0.60) / 2)
    assert (c.answerable_refused, c.unanswerable_refused) == (1, 4)


def test_calibration_never_trades_an_answerable_one_for_nothing() -> None:
    # Refusing the 0.40 one (allowed: 1 of 50) would refuse no more unanswerable ones.
    answerable = [0.40] + [0.60 + i / 1000 for i in range(49)]
    (c,) = calibrate(_scored(answerable, [0.1, 0.2]))
    assert c.answerable_refused == 0
    assert c.threshold == pytest.approx((0.2 + 0.4) / 2)


def test_calibration_counts_questions_without_any_passage_as_refused() -> None:
    (c,) = calibrate(_scored([None, 0.5, 0.6], [None, 0.2]))
    assert not c.feasible  # one answerable of 3 had no passage: more than 2% already
    assert c.threshold == pytest.approx(0.2)  # refuses none by score
    assert (c.answerable_refused, c.unanswerable_refused) == (1, 1)
    assert (c.answerable.no_passage, c.unanswerable.no_passage) == (1, 1)


def test_calibration_is_per_mode_in_run_order() -> None:
    outcomes = [
        *(_o("natural", best=0.7, mode="vector"), _o("unanswerable", best=0.3, mode="vector")),
        *(_o("natural", best=0.6, mode="lexical"), _o("unanswerable", best=0.5, mode="lexical")),
    ]
    vector, lexical = calibrate(outcomes)
    assert (vector.mode, lexical.mode) == ("vector", "lexical")
    assert vector.threshold == pytest.approx(0.5)
    assert lexical.threshold == pytest.approx(0.55)
    text = "\n".join(format_calibration([vector, lexical]))
    assert "RAGIS_MIN_SCORE=0.5000" in text
    assert "RAGIS_MIN_SCORE=0.5500" in text
    assert "refusing at most 2% of the answerable questions" in text
    assert "answerable kept 1/1, unanswerable refused 1/1" in text


def test_calibration_without_scores_from_the_service_says_so() -> None:
    with pytest.raises(RagisError, match="sent no best_score"):
        calibrate([_o("natural"), _o("unanswerable")])


# --- The error-code manual: near-identical entries, exact-term questions -------------------------

ERRORCODES = SHIPPED.parent / "errorcodes.py"


def _generate(out: Path, questions: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--questions", str(questions)] if questions is not None else []
    return subprocess.run(
        [sys.executable, str(ERRORCODES), str(out), *extra],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip


def test_the_error_code_manual_is_the_same_on_every_run_and_matches_the_shipped_questions(
    tmp_path: Path,
) -> None:
    first = _generate(tmp_path / "a", tmp_path / "a.jsonl")
    _generate(tmp_path / "b", tmp_path / "b.jsonl")
    assert "12 documents, 480 entries" in first.stdout
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == 12
    assert {Path(n).suffix for n in names} == {".md", ".txt"}
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    shipped = ERRORCODES.with_suffix(".jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() == shipped  # regenerate it with the script


def test_the_error_code_questions_ask_for_one_entry_each(tmp_path: Path) -> None:
    _generate(tmp_path / "docs")
    texts = {p.name: p.read_text() for p in (tmp_path / "docs").iterdir()}
    corpus = "\n".join(texts.values())
    entries = [line for line in corpus.splitlines() if line.startswith("Error E")]
    questions = load_questions(ERRORCODES.with_suffix(".jsonl"))
    assert Counter(q.group for q in questions) == {"exact": 30, "natural": 10, "unanswerable": 10}
    for q in questions:
        if q.group == "exact":
            code, keyword = q.keywords
            (entry,) = [e for e in entries if code in e]  # the code names one entry only
            assert keyword in entry
            assert entry in texts[str(q.doc)]
            assert code in q.question
        elif q.group == "natural":
            assert all(k in texts[str(q.doc)] for k in q.keywords)
            assert not re.search(r"E\d\d-\d{4}", q.question)
        else:
            for code in re.findall(r"E\d\d-\d{4}", q.question):
                assert code not in corpus  # sounds right, exists nowhere
                assert code[:-1] in corpus  # one digit off a real code
    # Near-identical: in a document, 40 entries say one of at most 12 faults, in the same words
    # but for the code, so the code is what tells two entries apart.
    assert len(entries) == 480
    for text in texts.values():
        faults = {
            e.split(". ")[0].split(": ", 1)[1] for e in text.splitlines() if e[:7] == "Error E"
        }
        assert len(faults) <= 12


def test_check_py_accepts_the_manual_and_names_a_keyword_that_is_not_there(
    tmp_path: Path,
) -> None:
    _generate(tmp_path / "docs")
    check = SHIPPED.parent / "check.py"
    questions = ERRORCODES.with_suffix(".jsonl")
    ok = subprocess.run(
        [sys.executable, str(check), str(questions), str(tmp_path / "docs")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (ok.returncode, ok.stdout.splitlines()[-1]) == (0, "12 documents; 0 problem(s)")
    broken = write_jsonl(
        tmp_path / "broken.jsonl",
        {"question": "q", "doc": "boiler.txt", "keywords": ["E12-0000"], "kind": "exact"},
    )
    bad = subprocess.run(
        [sys.executable, str(check), str(broken), str(tmp_path / "docs")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "line 1: 'E12-0000' is not in boiler.txt" in bad.stdout
