"""Semantic cache: false hits on near-miss questions, true hits on paraphrases.

Two questions count as a cache hit when their embeddings (the default backend) reach the cosine
threshold and their exact terms and names agree (`ragis.rag.question_terms.agree`): the rule the
cache applies in `VSIM ... FILTER` and after it. The embedding model only, no LLM, no Redis:
the `VSIM` of a NOQUANT set gives the same cosine as the dot product of the vectors.

A near miss is a pair whose answers differ (another year, amount, product, identifier, direction
such as before/after, or a negation): any hit is a wrong answer. A paraphrase asks the same
thing in other words: a miss only costs an LLM call.
"""

from __future__ import annotations

import asyncio

import numpy as np

from bench.context import Context
from bench.report import Goal, Section, Table
from ragis.embedding import Embedder
from ragis.embedding.select import available_backends, select_embedder
from ragis.rag.question_terms import agree, question_terms
from ragis.settings import Settings

__all__ = ["NEAR_MISSES", "PARAPHRASES", "run"]

# (kind, question, the other question)
NEAR_MISSES: tuple[tuple[str, str, str], ...] = (
    ("year", "How many vacation days do employees get in 2023?",
     "How many vacation days do employees get in 2024?"),
    ("year", "What was the company's revenue in 2021?", "What was the company's revenue in 2022?"),
    ("year", "Which holidays are paid in 2025?", "Which holidays are paid in 2026?"),
    ("year", "What changed in the travel policy in 2019?",
     "What changed in the travel policy in 2020?"),
    ("year", "Who won the championship in 1998?", "Who won the championship in 1999?"),
    ("year", "What is the pension contribution rate for 2024?",
     "What is the pension contribution rate for 2025?"),
    ("year", "What were the sales figures for March 2023?",
     "What were the sales figures for April 2023?"),
    ("year", "What was decided at the meeting on 2024-03-01?",
     "What was decided at the meeting on 2024-03-08?"),
    ("year", "How many employees did we hire last year?",
     "How many employees did we hire this year?"),
    ("year", "What is the budget for Q3?", "What is the budget for Q4?"),
    ("amount", "Can I expense a dinner that costs $50?", "Can I expense a dinner that costs $500?"),
    ("amount", "Is a purchase of 1,000 euros approved automatically?",
     "Is a purchase of 10,000 euros approved automatically?"),
    ("amount", "How long does it take to charge the battery to 80%?",
     "How long does it take to charge the battery to 100%?"),
    ("amount", "What is the fee for a 5 kg parcel?", "What is the fee for a 20 kg parcel?"),
    ("amount", "Does the plan include 10 GB of storage?",
     "Does the plan include 100 GB of storage?"),
    ("amount", "How much does it cost for two people?",
     "How much does it cost for three people?"),
    ("amount", "What is the dosage for a child weighing 15 kg?",
     "What is the dosage for a child weighing 25 kg?"),
    ("amount", "How many days of sick leave after 3 years of service?",
     "How many days of sick leave after 5 years of service?"),
    ("amount", "Can I carry 7 kg of hand luggage?", "Can I carry 12 kg of hand luggage?"),
    ("amount", "What happens if I am 15 minutes late?", "What happens if I am 45 minutes late?"),
    ("product", "How do I reset the Kindle Paperwhite?", "How do I reset the Kindle Oasis?"),
    ("product", "What is the battery life of the iPhone 14?",
     "What is the battery life of the iPhone 15?"),
    ("product", "How do I install Python 3.11 on Debian?",
     "How do I install Python 3.12 on Debian?"),
    ("product", "Does the Model S support fast charging?",
     "Does the Model X support fast charging?"),
    ("product", "What is the warranty on the Galaxy S23?",
     "What is the warranty on the Galaxy S24?"),
    ("product", "How do I configure PostgreSQL replication?",
     "How do I configure MySQL replication?"),
    ("product", "What is the price of the Premium plan?",
     "What is the price of the Business plan?"),
    ("product", "How do I clean the Roomba filter?", "How do I clean the Dyson filter?"),
    ("product", "Is Windows 10 still supported?", "Is Windows 11 still supported?"),
    ("product", "How do I export contacts from Outlook?", "How do I export contacts from Gmail?"),
    ("negation", "Which expenses are reimbursed?", "Which expenses are not reimbursed?"),
    ("negation", "Can contractors access the VPN?", "Can't contractors access the VPN?"),
    ("negation", "What should I do if the pump starts?",
     "What should I do if the pump does not start?"),
    ("negation", "Which medications can be taken with alcohol?",
     "Which medications can never be taken with alcohol?"),
    ("negation", "Is the kayak safe with a passenger?", "Is the kayak safe without a passenger?"),
    ("negation", "Which rooms have air conditioning?", "Which rooms have no air conditioning?"),
    ("negation", "When is overtime paid?", "When is overtime not paid?"),
    ("negation", "Who is allowed to sign contracts?", "Who is not allowed to sign contracts?"),
    ("negation", "What happens if the invoice is paid on time?",
     "What happens if the invoice isn't paid on time?"),
    ("negation", "Which files are backed up?", "Which files are never backed up?"),
    ("direction", "What should I do before the surgery?",
     "What should I do after the surgery?"),
    ("direction", "What is the minimum order value?", "What is the maximum order value?"),
    ("direction", "How do I enable two-factor authentication?",
     "How do I disable two-factor authentication?"),
    ("direction", "How do I import contacts into the CRM?",
     "How do I export contacts from the CRM?"),
    ("direction", "Which services have the highest latency?",
     "Which services have the lowest latency?"),
    ("direction", "How do I add a user to the group?", "How do I remove a user from the group?"),
    ("direction", "Do we get more vacation days as interns?",
     "Do we get fewer vacation days as interns?"),
    ("direction", "What is the earliest check-in time?", "What is the latest check-in time?"),
    ("identifier", "What does error E44-4471 mean?", "What does error E44-4472 mean?"),
    ("identifier", "What changed in v2.3.1?", "What changed in v2.3.2?"),
    ("identifier", "What is the status of ticket JIRA-1042?",
     "What is the status of ticket JIRA-1043?"),
    ("identifier", "Where is order #88213 now?", "Where is order #88214 now?"),
    ("identifier", "Which room is building B7 in?", "Which room is building B8 in?"),
    ("identifier", 'What does the setting "max_connections" do?',
     'What does the setting "max_clients" do?'),
    ("identifier", "What does HTTP status 404 mean?", "What does HTTP status 403 mean?"),
    ("identifier", "What are the GDPR requirements for backups?",
     "What are the HIPAA requirements for backups?"),
    ("identifier", "Who maintains the module auth_v2?", "Who maintains the module auth_v3?"),
    ("identifier", "What is covered by clause 4.2 of the contract?",
     "What is covered by clause 4.3 of the contract?"),
)  # fmt: skip

PARAPHRASES: tuple[tuple[str, str], ...] = (
    ("How many vacation days do employees get in 2024?",
     "In 2024, how many vacation days do employees get?"),
    ("What does castling move?", "what does castling move"),
    ("Where is Mount Etna?", "Where is Mount Etna located?"),
    ("How long should I bake sourdough bread?", "How long do I bake sourdough bread?"),
    ("What is the refund policy?", "What's the refund policy?"),
    ("How do I reset my password?", "How can I reset my password?"),
    ("What are Saturn's rings made of?", "What are the rings of Saturn made of?"),
    ("How much should I inflate the kayak?", "How much should the kayak be inflated?"),
    ("Who approves travel expenses?", "Who is responsible for approving travel expenses?"),
    ("What does error E44-4471 mean?", "What is the meaning of error E44-4471?"),
    ("What changed in v2.3.1?", "What are the changes in v2.3.1?"),
    ("How do I install Python 3.11 on Debian?", "How to install Python 3.11 on Debian?"),
    ("Can I bring my dog to the office?", "Am I allowed to bring my dog to the office?"),
    ("What is the maximum upload size?", "What's the maximum size of an upload?"),
    ("How many days of sick leave do I get?", "How many sick days do I get?"),
    ("Which expenses are not reimbursed?", "Which expenses aren't reimbursed?"),
    ("When is the office closed?", "When does the office close?"),
    ("How do I export contacts from Outlook?", "How can I export my contacts from Outlook?"),
    ("What is the warranty on the Galaxy S23?", "What warranty does the Galaxy S23 have?"),
    ("How do I configure PostgreSQL replication?", "How to set up replication in PostgreSQL?"),
    ("What is the price of the Premium plan?", "How much does the Premium plan cost?"),
    ("What time does the cafeteria open?", "When does the cafeteria open?"),
    ("How do I request parental leave?", "How can I apply for parental leave?"),
    ("What is the dress code?", "What's the dress code?"),
    ("Is remote work allowed?", "Is working remotely allowed?"),
    ("How do I book a meeting room?", "How can I book a meeting room?"),
    ("What is the company's revenue in 2022?", "What was the revenue of the company in 2022?"),
    ("Where can I park my car?", "Where should I park my car?"),
    ("What does the setting \"max_connections\" do?",
     "What is the setting \"max_connections\" for?"),
    ("How do I clean the Roomba filter?", "How should I clean the Roomba filter?"),
    ("Who do I contact about payroll?", "Whom should I contact about payroll?"),
    ("What are the GDPR requirements for backups?", "What does GDPR require for backups?"),
    ("Can contractors access the VPN?", "Are contractors able to access the VPN?"),
    ("How long is the probation period?", "How long does the probation period last?"),
    ("What is covered by clause 4.2 of the contract?",
     "What does clause 4.2 of the contract cover?"),
    ("How do I update the firmware?", "How can I update the firmware?"),
    ("What is the notice period for resignation?", "What notice period applies to resignation?"),
    ("Is the kayak safe with a passenger?", "Is the kayak safe to use with a passenger?"),
    ("How do I reset the Kindle Paperwhite?", "How can I reset my Kindle Paperwhite?"),
    ("Where is order #88213 now?", "Where is my order #88213?"),
    ("What is the Wi-Fi password for guests?", "What's the guest Wi-Fi password?"),
    ("How much can I spend on a business lunch?", "What is the limit for a business lunch?"),
    ("Does the Model S support fast charging?", "Can the Model S use fast charging?"),
    ("How do I cancel my subscription?", "How can I cancel my subscription?"),
    ("What is the deadline for expense reports?", "When are expense reports due?"),
)  # fmt: skip


def _cosines(embedder: Embedder, pairs: list[tuple[str, str]]) -> np.ndarray:
    texts = [t for pair in pairs for t in pair]
    vectors = np.asarray(asyncio.run(embedder.embed(texts)), dtype=np.float32)
    cosines: np.ndarray = np.sum(vectors[0::2] * vectors[1::2], axis=1)  # L2-normalised
    return cosines


def _hits(pairs: list[tuple[str, str]], cosines: np.ndarray, threshold: float) -> list[bool]:
    return [
        bool(cos >= threshold) and agree(question_terms(a), question_terms(b))
        for (a, b), cos in zip(pairs, cosines, strict=True)
    ]


def _embedders(ctx: Context) -> dict[str, Embedder]:
    """The default backend, then torch fp32 and onnx-int8 when offered: the default depends on
    the CPU and on a calibration a busy machine can tip, and their cosines differ a little."""
    assert ctx.embedder is not None
    out = {f"{ctx.backend} (default)": ctx.embedder}
    offered = available_backends(ctx.machine.cpu)
    for name in ("torch-fp32", "onnx-int8"):
        if name != ctx.backend and offered.get(name) is None:
            out[name] = select_embedder(name, cache_dir=ctx.cache, cpu=ctx.machine.cpu).embedder
    return out


def run(ctx: Context) -> Section:
    if ctx.embedder is None:
        raise RuntimeError("the embedding section chose no backend")
    threshold = Settings.model_fields["cache_threshold"].default
    near = [(a, b) for _, a, b in NEAR_MISSES]
    para = list(PARAPHRASES)
    embedders = _embedders(ctx)
    cos = {name: (_cosines(e, near), _cosines(e, para)) for name, e in embedders.items()}
    for embedder in embedders.values():
        if embedder is not ctx.embedder:
            asyncio.run(embedder.aclose())
    default = next(iter(cos))
    near_cos, para_cos = cos[default]
    similar = [bool(c >= threshold) for c in near_cos]
    false_hits = _hits(near, near_cos, threshold)
    true_hits = _hits(para, para_cos, threshold)

    rows: list[list[object]] = []
    for kind in sorted({k for k, _, _ in NEAR_MISSES}):
        idx = [i for i, (k, _, _) in enumerate(NEAR_MISSES) if k == kind]
        rows.append([
            f"near miss: {kind}", len(idx), f"{float(np.median(near_cos[idx])):.3f}",
            sum(similar[i] for i in idx), sum(false_hits[i] for i in idx),
        ])  # fmt: skip
    rows.append([
        "**near misses, all**", len(near), f"{float(np.median(near_cos)):.3f}",
        sum(similar), f"**{sum(false_hits)}** false",
    ])  # fmt: skip
    rows.append([
        "**paraphrases**", len(para), f"{float(np.median(para_cos)):.3f}",
        sum(bool(c >= threshold) for c in para_cos),
        f"**{sum(true_hits)}** true ({sum(true_hits) / len(para):.0%})",
    ])  # fmt: skip
    table = Table(
        f"Cache decisions at the default threshold (cosine ≥ {threshold}), backend {default}",
        ["pairs", "n", "median cosine", "similarity alone: hits", "with exact terms: hits"],
        rows,
    )
    sweep = []
    for t in (0.88, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96):
        row: list[object] = [t, sum(bool(c >= t) for c in near_cos)]
        for name in cos:
            n_cos, p_cos = cos[name]
            row += [sum(_hits(near, n_cos, t)), f"{sum(_hits(para, p_cos, t)) / len(para):.0%}"]
        sweep.append(row)
    headers = ["threshold", f"near-miss hits, similarity alone ({default})"]
    for name in cos:
        headers += [f"false hits ({name})", f"paraphrase hits ({name})"]
    sweep_table = Table(
        "Other thresholds (RAGIS_CACHE_THRESHOLD), with the exact terms", headers, sweep
    )
    missed = [f"{a} / {b} ({c:.3f})" for (a, b), c, hit in
              zip(para, para_cos, true_hits, strict=True) if not hit]  # fmt: skip
    wrong = [f"{a} / {b} ({c:.3f})" for (a, b), c, hit in
             zip(near, near_cos, false_hits, strict=True) if hit]  # fmt: skip
    rate = sum(true_hits) / len(para)
    return Section(
        "cache",
        "6. Semantic cache: near misses and paraphrases",
        intro=(
            f"{len(near)} near-miss pairs (another year, amount, product, identifier, direction "
            f"or a negation: a hit would be a wrong answer) and {len(para)} paraphrase "
            "pairs (the same question in other words), in `bench/sections/cache.py`. A hit needs "
            "the cosine threshold and equal exact terms and names (`ragis/rag/question_terms.py`)."
        ),
        tables=[table, sweep_table],
        goals=[
            Goal(
                "cache: false hits on near misses", "0", str(sum(false_hits)), not any(false_hits)
            ),
            Goal("cache: hits on paraphrases", "≥ 70%", f"{rate:.0%}", rate >= 0.7),
        ],
        notes=[
            f"False hits ({default}): " + ("none." if not wrong else "; ".join(wrong)),
            f"Paraphrases that missed ({default}): "
            + ("none." if not missed else "; ".join(missed)),
        ],
    )
