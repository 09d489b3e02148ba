"""The grounded gate with a real small LLM: does it refuse what the documents do not answer,
without costing answers to what they do (issue 15, part 3)?

A real stack (embedded Redis 8, the RAG service, the gateway) ingests the Debian Reference
(bench/eval/README.md; `bench/eval/fetch.sh DIR`) and answers its 70 questions (30 natural,
23 exact, 17 unanswerable) through the gateway, as `ragis eval` asks them
(`ragis.client.eval.ask_one`), with a real small instruct model served by llama.cpp behind an
OpenAI-compatible URL. Twice, each on a fresh stack:

- **gate off**: RAGIS_MIN_SCORE=0, every question with a passage goes to the model (only a
  question naming a code no passage holds is still refused: `grounding.missing_codes`);
- **gate on**: RAGIS_MIN_SCORE = the threshold: `--min-score` if given, else the calibrated
  `ragis.rag.grounding.MIN_SCORE` if it is above 0, else the one `ragis eval --calibrate`'s rule
  (`ragis.client.eval.calibrate`) derives from the best scores of all 70 questions. Those come
  from a third, retrieval-only pass (no LLM, the gate off: the scores the gate-off run gets,
  since the LLM plays no part in them), which also shows what the gate alone refuses of all 70
  questions, at 0 and at the threshold. The report says where the threshold came from.

The semantic cache is off (RAGIS_CACHE_ENABLED=false) so that no answer is replayed, and the
temperature is 0 (RAGIS_LLM_TEMPERATURE=0). Per run: answer accuracy on the answerable questions
(the answer holds all the question's keywords; a refused one counts as wrong), refusals of the
unanswerable ones and of the answerable ones, and the answer's latency through the gateway.
A refusal is the gate's (`meta.grounded` false) or the model's own (its answer says one of
`ragis.client.eval.NOT_FOUND_PHRASES`).

It needs a model server and 30–40 minutes on 2 quiet cores (10–15 s per question; on a busy
shared machine 2–3 minutes each), so it is not part of `python -m bench`'s default run (nor
registered in bench/__main__.py): run it alone, with the server started first, e.g.

    python -m llama_cpp.server --model qwen2.5-0.5b-instruct-q4_k_m.gguf \\
        --model_alias qwen2.5-0.5b --n_ctx 4096 --port 8088
    python -m bench.sections.gate --llm-url http://127.0.0.1:8088 --model qwen2.5-0.5b

It replaces this section in docs/benchmarks.md (`--out`) and leaves the rest of the report as it
is. `--every K` asks every K-th question of each kind (the first, then every K-th: a subset
stratified by kind; `--quick` is `--every 2`, 36 of 70); the retrieval-only pass always asks
all 70. `--runs DIR` keeps each run's answers as JSON there and reuses a saved run with the same
settings instead of asking again; with it, `--phase off` and `--phase on` run one half each, e.g.
in two processes against two model servers, and a last call without `--phase` writes the report
from the saved runs. Benchmark only: the model is never a dependency of ragis nor of its tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import load_average
from bench.report import Goal, Section, Table, replace_section
from bench.servers import start_stack
from ragis.client.api import GatewayClient
from ragis.client.eval import (
    NOT_FOUND_PHRASES,
    Cited,
    Outcome,
    Question,
    calibrate,
    load_questions,
)
from ragis.client.eval.calibrate import RULE
from ragis.client.eval.run import ask_one
from ragis.client.ingest import find_files, ingest
from ragis.embedding.cpu import detect_cpu

__all__ = ["GOAL_DROP", "GOAL_REFUSAL", "TITLE", "Run", "ask_all", "build_section", "main"]

TITLE = "12. The grounded gate with a real small LLM"
QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "debian-reference.jsonl"
COLLECTION = "debian"
GOAL_REFUSAL = 0.80  # unanswerable questions refused, gate on
GOAL_DROP = 0.02  # answer accuracy on answerable ones, gate off minus gate on


@dataclass(slots=True)
class Run:
    label: str  # "gate off" / "gate on"
    min_score: float
    source: str  # where the threshold came from
    model: str
    outcomes: list[Outcome]
    chunks: int
    seconds: float
    load: tuple[float, float] | None = None  # 1-minute load average at the start and the end


def subset(questions: Sequence[Question], *, every: int) -> list[Question]:
    """Every `every`-th question of each kind (the first, then every `every`-th), in file order:
    a subset stratified by kind."""
    seen: dict[str, int] = {}
    kept = []
    for q in questions:
        n = seen.get(q.group, 0)
        seen[q.group] = n + 1
        if n % every == 0:
            kept.append(q)
    return kept


def ask_all(
    questions: Sequence[Question],
    *,
    label: str,
    llm_url: str | None,
    model: str,
    min_score: float,
    source: str,
    docs: Path,
    cache: Path,
) -> Run:
    """A fresh stack with RAGIS_MIN_SCORE=`min_score`, the documents ingested, every question
    asked once through the gateway (`llm_url` None: no LLM, the passages are the answer)."""
    from ragis.embedding.select import load_embedder

    started, load = time.perf_counter(), load_average()[0]
    embedder = load_embedder(cache_dir=cache)  # the backend ragis picks here (same cache: same)
    with (
        tempfile.TemporaryDirectory(prefix="ragis-bench-gate-") as work,
        start_stack(
            Path(work),
            embedder,
            llm_base_url=llm_url.rstrip("/") + "/v1" if llm_url else None,
            min_score=min_score,
            **({"llm_model": model} if llm_url else {}),
            cache_enabled=False,
            llm_temperature=0.0,
            llm_timeout=600.0,
        ) as stack,
    ):
        outcomes, chunks = asyncio.run(_ask(stack.gateway_url, questions, docs, label))
    seconds = time.perf_counter() - started
    return Run(
        label, min_score, source, model, outcomes, chunks, seconds, (load, load_average()[0])
    )


async def _ask(
    url: str, questions: Sequence[Question], docs: Path, label: str
) -> tuple[list[Outcome], int]:
    files, _ = find_files([docs])
    async with GatewayClient(url, timeout=900) as client:
        summary = await ingest(client, files, collection=COLLECTION)
        if summary.failures:
            raise RuntimeError(f"ingestion failed: {summary.failures[0]}")
        outcomes = []
        for i, question in enumerate(questions, 1):
            outcome = await ask_one(client, question, collection=COLLECTION)
            outcomes.append(outcome)
            print(
                f"[{label}] {i}/{len(questions)} {question.group:12} "
                f"grounded={outcome.grounded} best={outcome.best_score} "
                f"{(outcome.ms_total or 0) / 1000:.1f} s: {outcome.answer[:80]!r}",
                flush=True,
            )
    return outcomes, summary.chunks


# --- saved runs ------------------------------------------------------------------------------


def _key(run_label: str, min_score: float, model: str, every: int) -> str:
    return f"{run_label}|{min_score:.6f}|{model}|every {every}"


def save_run(path: Path, run: Run, every: int) -> None:
    body = {
        "key": _key(run.label, run.min_score, run.model, every),
        "label": run.label,
        "min_score": run.min_score,
        "source": run.source,
        "model": run.model,
        "chunks": run.chunks,
        "seconds": run.seconds,
        "load": run.load,
        "outcomes": [
            {
                "question": o.question.model_dump(exclude_defaults=True),
                "cited": [[c.filename, c.page, c.text] for c in o.cited],
                "answer": o.answer,
                "provider": o.provider,
                "cache_hit": o.cache_hit,
                "ms_to_citations": o.ms_to_citations,
                "ms_total": o.ms_total,
                "error": o.error,
                "grounded": o.grounded,
                "best_score": o.best_score,
                "retrieval": o.retrieval,
            }
            for o in run.outcomes
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1))


def load_run(path: Path, label: str, min_score: float, model: str, every: int) -> Run | None:
    """The saved run at `path` if it was asked with these settings, else None."""
    if not path.exists():
        return None
    body: dict[str, Any] = json.loads(path.read_text())
    if body.get("key") != _key(label, min_score, model, every):
        return None
    outcomes = [
        Outcome(
            question=Question.model_validate(o["question"]),
            mode="default",
            cited=tuple(Cited(f, p, t) for f, p, t in o["cited"]),
            answer=o["answer"],
            provider=o["provider"],
            cache_hit=o["cache_hit"],
            ms_to_citations=o["ms_to_citations"],
            ms_total=o["ms_total"],
            error=o["error"],
            grounded=o["grounded"],
            best_score=o["best_score"],
            retrieval=o["retrieval"],
        )
        for o in body["outcomes"]
    ]
    load = body.get("load")
    return Run(
        label,
        min_score,
        body["source"],
        model,
        outcomes,
        body["chunks"],
        body["seconds"],
        (float(load[0]), float(load[1])) if load else None,
    )


# --- the numbers -----------------------------------------------------------------------------


def _holds(text: str, keywords: Sequence[str]) -> bool:
    folded = text.casefold()
    return bool(keywords) and all(k.casefold() in folded for k in keywords)


def _model_refused(outcome: Outcome) -> bool:
    folded = outcome.answer.casefold().replace("\u2019", "'")
    return any(p in folded for p in NOT_FOUND_PHRASES)


def _gate_refused(outcome: Outcome) -> bool:
    return outcome.grounded is False


@dataclass(slots=True)
class Numbers:
    answerable: int
    unanswerable: int
    correct: int  # answerable, the answer holds every keyword
    answerable_gate: int  # answerable refused by the gate
    answerable_refused: int  # answerable refused by the gate or the model
    unanswerable_gate: int
    unanswerable_refused: int
    errors: int
    p50_ms: float
    p50_answered_ms: float  # the questions that reached the model
    p50_gated_ms: float  # the questions the gate refused (nan: none)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Numbers:
        a = [o for o in outcomes if o.question.is_answerable]
        u = [o for o in outcomes if not o.question.is_answerable]

        def refused(o: Outcome) -> bool:
            return o.error is None and (_gate_refused(o) or _model_refused(o))

        def p50(xs: list[Outcome]) -> float:
            times = [o.ms_total for o in xs if o.ms_total is not None]
            return statistics.median(times) if times else float("nan")

        return cls(
            answerable=len(a),
            unanswerable=len(u),
            correct=sum(
                o.error is None and _holds(o.answer, o.question.keywords) and not _gate_refused(o)
                for o in a
            ),
            answerable_gate=sum(_gate_refused(o) for o in a),
            answerable_refused=sum(refused(o) for o in a),
            unanswerable_gate=sum(_gate_refused(o) for o in u),
            unanswerable_refused=sum(refused(o) for o in u),
            errors=sum(o.error is not None for o in outcomes),
            p50_ms=p50(list(outcomes)),
            p50_answered_ms=p50([o for o in outcomes if not _gate_refused(o)]),
            p50_gated_ms=p50([o for o in outcomes if _gate_refused(o)]),
        )


def _share(hits: int, of: int) -> str:
    return f"{hits}/{of} ({hits / of:.0%})" if of else "-"


def _ms(value: float) -> str:
    return "-" if value != value else f"{value / 1000:.1f} s"


def _gate_at(outcomes: Sequence[Outcome], threshold: float) -> tuple[int, int, int, int]:
    """Of a retrieval-only pass at RAGIS_MIN_SCORE=0: (answerable refused, answerable,
    unanswerable refused, unanswerable) had the threshold been `threshold`."""
    ok = [o for o in outcomes if o.error is None]

    def refused(o: Outcome) -> bool:
        return o.grounded is False or o.best_score is None or o.best_score < threshold

    a = [o for o in ok if o.question.is_answerable]
    u = [o for o in ok if not o.question.is_answerable]
    return sum(map(refused, a)), len(a), sum(map(refused, u)), len(u)


def build_section(off: Run, on: Run, scores: Run, *, every: int, seconds: float) -> Section:
    n_off, n_on = Numbers.of(off.outcomes), Numbers.of(on.outcomes)
    rows = []
    for run, n in ((off, n_off), (on, n_on)):
        rows.append(
            [
                run.label,
                f"{run.min_score:.4f}",
                _share(n.correct, n.answerable),
                _share(n.unanswerable_refused, n.unanswerable),
                _share(n.unanswerable_gate, n.unanswerable),
                _share(n.answerable_refused, n.answerable),
                _share(n.answerable_gate, n.answerable),
                n.errors,
                _ms(n.p50_ms),
                _ms(n.p50_answered_ms),
                _ms(n.p50_gated_ms),
            ]
        )
    by_kind = []
    for kind in ("natural", "exact", "unanswerable"):
        row: list[object] = [kind]
        for run in (off, on):
            n = Numbers.of([o for o in run.outcomes if o.question.group == kind])
            if kind == "unanswerable":
                row += ["-", _share(n.unanswerable_refused, n.unanswerable)]
            else:
                row += [_share(n.correct, n.answerable), _share(n.answerable_refused, n.answerable)]
        by_kind.append(row)
    acc_off = n_off.correct / n_off.answerable
    acc_on = n_on.correct / n_on.answerable
    refusal = n_on.unanswerable_refused / n_on.unanswerable
    cal = calibrate(scores.outcomes)[0]
    cal_off = calibrate(off.outcomes)[0]
    changed = _changed(off, on)
    from ragis.rag.grounding import MIN_SCORE

    gate_rows: list[list[str]] = []
    for threshold, what in (
        (0.0, "0 (gate off)"),
        (on.min_score, "the gate-on run's"),
        (MIN_SCORE, "ragis.rag.grounding.MIN_SCORE, the calibrated default"),
    ):
        if threshold > 0 and any(r[0] == f"{threshold:.4f}" for r in gate_rows):
            continue
        ar, a, ur, u = _gate_at(scores.outcomes, threshold)
        gate_rows.append([f"{threshold:.4f}", what, _share(ur, u), _share(ar, a)])
    subset_text = (
        f", **a subset: every {every}{'nd' if every == 2 else 'rd' if every == 3 else 'th'} "
        "question of each kind, stratified, for time**"
        if every > 1
        else ""
    )
    section = Section(
        key="gate",
        title=TITLE,
        intro=(
            f"The Debian Reference set (bench/eval/README.md: "
            f"{n_off.answerable} answerable, {n_off.unanswerable} unanswerable questions"
            + subset_text
            + f"; {off.chunks} chunks, default hybrid retrieval, top-k 5) through a real "
            f"stack and the gateway, answered by **{off.model}** (Qwen2.5-0.5B-Instruct Q4_K_M, "
            "llama.cpp's OpenAI-compatible server, temperature 0, semantic cache off), twice "
            "on fresh stacks: gate off (RAGIS_MIN_SCORE=0) and gate on "
            f"(RAGIS_MIN_SCORE={on.min_score:.4f}: {on.source}). Accuracy: the answer holds "
            "all the question's keywords (a refused question counts as wrong). A refusal is "
            "the gate's (`meta.grounded` false) or the model's own (the answer says one of "
            "`NOT_FOUND_PHRASES`); the `gate` columns count the gate's alone. Latency: the "
            f"whole answer through the gateway, measured by the client, on {_cpu()}; the "
            "model shares the 2 cores with the stack."
        ),
        tables=[
            Table(
                "Gate off against gate on",
                [
                    "run",
                    "RAGIS_MIN_SCORE",
                    "answer accuracy (answerable)",
                    "unanswerable refused",
                    "… by the gate",
                    "answerable refused",
                    "… by the gate",
                    "errors",
                    "p50 all",
                    "p50 answered",
                    "p50 refused by the gate",
                ],
                rows,
            ),
            Table(
                "By kind: answer accuracy / refused",
                ["kind", "off: accuracy", "off: refused", "on: accuracy", "on: refused"],
                by_kind,
            ),
            Table(
                f"The gate alone on all {len(scores.outcomes)} questions: a retrieval-only pass "
                "(no LLM, RAGIS_MIN_SCORE=0), refusals had the threshold been …",
                ["threshold", "which", "unanswerable refused", "answerable refused"],
                gate_rows,
            ),
            Table(
                f"best_score of all {len(scores.outcomes)} questions (the retrieval-only pass)",
                ["questions", "n", "no passage", "p5", "p50", "p95"],
                [
                    [name, d.n, d.no_passage, _f(d.p5), _f(d.p50), _f(d.p95)]
                    for name, d in (
                        ("answerable", cal.answerable),
                        ("unanswerable", cal.unanswerable),
                    )
                ],
            ),
        ],
        goals=[
            Goal(
                "unanswerable questions refused, gate on (gate or model)",
                f"≥ {GOAL_REFUSAL:.0%}",
                f"{refusal:.0%} ({n_on.unanswerable_refused}/{n_on.unanswerable}; gate alone "
                f"{n_on.unanswerable_gate}; gate off {n_off.unanswerable_refused})",
                refusal >= GOAL_REFUSAL,
            ),
            Goal(
                "answer accuracy on answerable questions, gate off − gate on",
                f"≤ {GOAL_DROP * 100:.0f} points",
                f"{(acc_off - acc_on) * 100:+.1f} points ({acc_off:.0%} → {acc_on:.0%})",
                acc_off - acc_on <= GOAL_DROP + 1e-9,
            ),
        ],
        notes=[
            f"`ragis eval --calibrate`'s rule ({RULE}) on the best scores of all "
            f"{len(scores.outcomes)} questions gives {cal.threshold:.4f} (answerable kept "
            f"{cal.answerable_kept}/{cal.answerable_kept + cal.answerable_refused}, "
            f"unanswerable refused {cal.unanswerable_refused}/"
            f"{cal.unanswerable_refused + cal.unanswerable_kept}); on the gate-off run's own "
            f"{len(off.outcomes)} (the same retrieval, so the same scores) "
            f"{cal_off.threshold:.4f}. The highest best score of an unanswerable question was "
            f"{_extreme(scores, answerable=False)}, the lowest of an answerable one "
            f"{_extreme(scores, answerable=True)}. Either threshold was calibrated on questions "
            "that include these (MIN_SCORE's calibration in section 11 used this set too): "
            "in-sample figures; new questions will not split as cleanly.",
            "At RAGIS_MIN_SCORE=0 the gate still refuses a question that names a code "
            "(`E44-4472`, `v2.3.1`) no passage holds (ragis.rag.grounding.missing_codes): the "
            "`… by the gate` columns of the gate-off run count those.",
            f"Same questions, same retrieval: {changed[0]} of the {changed[1]} answers the model "
            "gave in both runs differ in their text"
            + (
                ": what changes the accuracy between the runs is the gate alone."
                if changed[0] == 0
                else " (llama.cpp at temperature 0 is not bit-exact under other load): part of "
                "the accuracy difference is that, not the gate."
            ),
            f"Run times: gate off {off.seconds / 60:.1f} min, gate on {on.seconds / 60:.1f} min "
            "(each: a fresh stack, ingestion, the questions one after another); 1-minute load "
            f"average at start and end: gate off {_load(off)}, gate on {_load(on)} on "
            f"{detect_cpu().cores} cores: latencies are those of a shared, busy machine.",
            "Benchmark only: the model is not a dependency of ragis nor of its test suite "
            "(tests use a loopback server speaking the same protocol).",
        ],
    )
    section.seconds = seconds or (scores.seconds + off.seconds + on.seconds)
    return section


def _changed(off: Run, on: Run) -> tuple[int, int]:
    pairs = [
        (a.answer, b.answer)
        for a, b in zip(off.outcomes, on.outcomes, strict=True)
        if not _gate_refused(a) and not _gate_refused(b) and a.error is None and b.error is None
    ]
    return sum(x != y for x, y in pairs), len(pairs)


def _extreme(run: Run, *, answerable: bool) -> str:
    values = [
        o.best_score
        for o in run.outcomes
        if o.best_score is not None and o.question.is_answerable == answerable
    ]
    if not values:
        return "-"
    return f"{min(values) if answerable else max(values):.4f}"


def _load(run: Run) -> str:
    return "not recorded" if run.load is None else f"{run.load[0]:.1f} → {run.load[1]:.1f}"


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _cpu() -> str:
    cpu = detect_cpu()
    return f"{cpu.model} ({cpu.arch}, {cpu.cores} cores)"


# --- command line ----------------------------------------------------------------------------


def _threshold(given: float | None, why: str | None, scores: Run) -> tuple[float, str]:
    from ragis.rag.grounding import MIN_SCORE

    if given is not None:
        return given, why or "given with --min-score"
    if MIN_SCORE > 0:
        return MIN_SCORE, "the calibrated default, ragis.rag.grounding.MIN_SCORE"
    derived = calibrate(scores.outcomes)[0].threshold
    return round(derived, 4), (
        "no calibrated default yet (MIN_SCORE is 0): derived by `ragis eval --calibrate`'s rule "
        f"from the best scores of all {len(scores.outcomes)} questions (a retrieval-only pass, "
        "the gate off: the same scores the gate-off run gets)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sections.gate", description=__doc__)
    parser.add_argument("--llm-url", required=True, help="OpenAI-compatible server, without /v1")
    parser.add_argument("--model", required=True, help="the model name the server answers to")
    parser.add_argument("--quick", action="store_true", help="as --every 2")
    parser.add_argument("--every", type=int, default=1, help="every K-th question of each kind")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    parser.add_argument(
        "--docs", type=Path, default=Path("/tmp/bench-eval"), help="bench/eval/fetch.sh's folder"
    )
    parser.add_argument("--min-score", type=float, default=None, help="the gate-on threshold")
    parser.add_argument("--why", default=None, help="where --min-score comes from, for the report")
    parser.add_argument("--runs", type=Path, default=None, help="save and reuse runs here")
    parser.add_argument(
        "--note", action="append", default=[], help="a note on how the runs were made (repeatable)"
    )
    parser.add_argument(
        "--phase",
        choices=("all", "scores", "off", "on"),
        default="all",
        help="run only the retrieval-only pass, the gate-off or the gate-on run (with --runs)",
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="model cache (default: DIR of --runs, or temp)"
    )
    args = parser.parse_args(argv)
    every = 2 if args.quick and args.every == 1 else max(1, args.every)
    started = time.perf_counter()
    everything = load_questions(QUESTIONS)
    reused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ragis-bench-gate-models-") as tmp:
        cache = args.cache or (args.runs / "models" if args.runs else Path(tmp))

        def one(label: str, min_score: float, source: str, *, llm: bool) -> Run:
            model, k = (args.model, every) if llm else ("none", 1)
            path = args.runs / f"{label.replace(' ', '-')}.json" if args.runs else None
            if path is not None:
                saved = load_run(path, label, min_score, model, k)
                if saved is not None:
                    print(f"[{label}] reusing {path}", flush=True)
                    reused.append(label)
                    return saved
            run = ask_all(
                subset(everything, every=k),
                label=label,
                min_score=min_score,
                source=source,
                llm_url=args.llm_url if llm else None,
                model=model,
                docs=args.docs,
                cache=cache,
            )
            if path is not None:
                save_run(path, run, k)
            return run

        if args.phase in ("all", "off"):
            off = one("gate off", 0.0, "the gate off", llm=True)
        if args.phase == "off":
            return 0
        scores = one("retrieval only", 0.0, "no LLM, the gate off", llm=False)
        threshold, source = _threshold(args.min_score, args.why, scores)
        print(f"gate-on threshold: {threshold:.4f} ({source})", flush=True)
        if args.phase in ("all", "on"):
            on = one("gate on", threshold, source, llm=True)
        if args.phase != "all":
            return 0
    # With runs reused from --runs, the section's time is the sum of theirs.
    seconds = 0.0 if reused else time.perf_counter() - started
    section = build_section(off, on, scores, every=every, seconds=seconds)
    section.notes[-1:-1] = args.note
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
