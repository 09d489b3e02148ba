"""A fictional plant's service manual of error codes, and 50 questions over it (issue 15).

    python bench/eval/errorcodes.py OUT_DIR [--questions FILE]

writes twelve documents (one per subsystem: feed pump, boiler, conveyor, ...; Markdown or plain
text) into OUT_DIR, and with --questions the question set (the shipped one is
bench/eval/errorcodes.jsonl, written by this script). Deterministic: a fixed seed, no network,
the same bytes on every run.

Each document has a short introduction with facts of its own, then about 40 entries of the same
few shapes: "Error E44-4471: the feed pump overheated. Check the coolant valve V-12 and restart
the pump. Spare part: P/N 7731-02." Codes, part labels, part numbers and small wording differ;
the rest is nearly identical within and across documents, as in real manuals. An embedding
model sees little difference between two such entries: which one holds the asked code is a job
for exact terms. Every code and every part number occurs once in the whole manual; part labels
(V-12) repeat.

The questions: 30 exact-term ones about one entry each ("What does error E44-4471 mean?",
"Which part does error E44-4471 tell me to check?"), whose keywords always include the entry's
code, so that passage recall says whether that entry (not a sibling) was found; 10 natural ones
about the introductions; 10 unanswerable ones, three of them asking for codes that sound right
but exist nowhere.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SEED", "Entry", "Subsystem", "build", "main"]

SEED = 15
ENTRIES_PER_DOCUMENT = 40


@dataclass(frozen=True)
class Subsystem:
    slug: str  # the document's name without extension
    markdown: bool
    prefix: str  # E44
    unit: str  # "feed pump"
    model: str  # "FP-200"
    short: str  # what is restarted: "pump"
    intro: str
    natural: tuple[str, str] | None  # (question, keyword of the introduction)


@dataclass(frozen=True)
class Entry:
    code: str
    category: str
    condition: str  # the phrase a question on the meaning is scored by
    part_kind: str
    part: str  # V-12, repeats
    part_number: str  # 7731-02, unique
    text: str


SUBSYSTEMS = (
    Subsystem(
        "feed-pump", True, "E44", "feed pump", "FP-200", "pump",
        "The FP-200 feed pump moves treated water from the deaerator into the boiler drum. Its "
        "mechanical seal is flushed from the discharge side: a drip of up to ten drops a minute "
        "is normal and needs no action. Grease the motor bearings with lithium grease every "
        "4,000 operating hours.",
        ("Is it normal for the feed pump's seal to drip a little?", "ten drops a minute"),
    ),
    Subsystem(
        "boiler", False, "E12", "boiler", "B-60", "burner",
        "The B-60 boiler burns natural gas and makes saturated steam at up to 10 bar. Blow down "
        "the water column once per shift so that the level probes stay clean. Before opening "
        "the burner door, let the flue cool below 50 °C and close the gas valve G-1.",
        ("How often should the boiler's water column be blown down?", "once per shift"),
    ),
    Subsystem(
        "conveyor", True, "E27", "conveyor", "CV-9", "belt",
        "The CV-9 conveyor carries crates from the filler to the palletiser. The belt is "
        "tensioned correctly when it gives 15 mm under thumb pressure midway between two "
        "rollers; a tighter belt wears the bearings of the head pulley.",
        ("How do I know whether the conveyor belt is tight enough?", "15 mm under thumb pressure"),
    ),
    Subsystem(
        "cooling-tower", False, "E31", "cooling tower", "CT-4", "fan",
        "The CT-4 cooling tower rejects the heat of the chiller and the compressors. Drain and "
        "scrub the basin every spring, before the first warm week, and add biocide tablets to "
        "the basin weekly from May to September.",
        ("When in the year should the cooling tower basin be cleaned?", "every spring"),
    ),
    Subsystem(
        "air-compressor", True, "E53", "air compressor", "AC-75", "compressor",
        "The AC-75 screw compressor supplies the plant's instrument air at 7 bar. Open the drain "
        "of the receiver tank at the end of the last shift every day to let the condensate out; "
        "water left in the tank rusts it from the inside.",
        ("How often must the water be let out of the compressor's receiver?", "every day"),
    ),
    Subsystem(
        "hydraulic-press", False, "E61", "hydraulic press", "HP-120", "press",
        "The HP-120 press forms the lids with up to 120 tonnes. Never bridge the two-hand "
        "control. Replace the hydraulic oil after 5,000 hours, or at once when it turns milky: "
        "milky oil has taken up water through a leaking cooler.",
        ("What does it mean when the press's hydraulic oil looks cloudy?", "milky"),
    ),
    Subsystem(
        "mixer", True, "E18", "mixer", "MX-3", "mixer",
        "The MX-3 mixer blends the syrup in batches of 400 litres. Wash the bowl with water no "
        "hotter than 60 °C: hotter water bakes the sugar onto the paddles, and it then has to be "
        "scraped off by hand.",
        ("How hot may the water be when I wash the mixer bowl?", "60 °C"),
    ),
    Subsystem(
        "heat-sealer", False, "E72", "heat sealer", "HS-2", "sealer",
        "The HS-2 heat sealer closes the pouches at the end of the packaging line. Change the "
        "PTFE tape on the sealing jaws as soon as it shows brown marks; a scorched tape makes "
        "seals that leak.",
        ("When should the tape on the sealing jaws be changed?", "brown marks"),
    ),
    Subsystem(
        "dust-extractor", True, "E85", "dust extractor", "DX-11", "extractor",
        "The DX-11 dust extractor serves the grinding room. Empty the collection bin when it is "
        "two-thirds full: a fuller bin lowers the suction at the hoods long before the bin "
        "overflows.",
        ("When does the dust collector's bin need emptying?", "two-thirds full"),
    ),
    Subsystem(
        "chiller", False, "E36", "chiller", "CH-40", "chiller",
        "The CH-40 chiller cools the process water to 6 °C. Keep at least one metre of free "
        "space around the condenser coil and never store pallets against it: the chiller "
        "breathes through the coil.",
        ("How much room does the chiller need around it?", "one metre of free space"),
    ),
    Subsystem(
        "water-softener", True, "E49", "water softener", "WS-8", "softener",
        "The WS-8 water softener feeds the boiler house. Top up the brine tank when less than a "
        "quarter of the salt remains, and use pellet salt only: rock salt leaves a sludge that "
        "blocks the brine valve.",
        None,
    ),
    Subsystem(
        "generator", False, "E93", "standby generator", "GS-250", "generator",
        "The GS-250 standby generator takes over the control room and the emergency lighting "
        "when the grid fails. Run it under load for 30 minutes on the first Monday of every "
        "month, and log the run.",
        None,
    ),
)  # fmt: skip

# (category, condition phrase scored in answers, full condition with {unit}, part kind, prefix)
CONDITIONS = (
    ("Temperature", "overheated", "the {unit} overheated", "coolant valve", "V"),
    ("Temperature", "overheated", "the {unit} overheated at full load", "temperature sensor", "TS"),
    ("Temperature", "ran hot", "the {unit} bearing ran hot", "temperature sensor", "TS"),
    ("Pressure and flow", "pressure dropped", "the {unit} outlet pressure dropped below the set "
     "point", "pressure switch", "PS"),
    ("Pressure and flow", "pressure dropped", "the {unit} inlet pressure dropped below the set "
     "point", "inlet strainer", "F"),
    ("Pressure and flow", "below the minimum", "the flow through the {unit} fell below the minimum",
     "flow sensor", "FS"),
    ("Drive and motor", "overload", "the {unit} motor tripped on overload", "motor contactor", "K"),
    ("Drive and motor", "did not start", "the {unit} did not start within 10 seconds",
     "motor contactor", "K"),
    ("Drive and motor", "vibration", "the {unit} vibration exceeded the alarm limit",
     "coupling guard", "CG"),
    ("Controls", "lost communication", "the {unit} controller lost communication with the panel",
     "fieldbus connector", "X"),
    ("Controls", "out of range", "a {unit} sensor reads out of range", "sensor cable", "W"),
    ("Controls", "emergency stop", "the {unit} stopped on an emergency stop signal",
     "emergency stop button", "S"),
)  # fmt: skip

# How an entry goes on after its condition: the same advice in a few wordings.
ACTIONS = (
    "Check the {kind} {part} and restart the {short}.",
    "Check the {kind} {part}, then restart the {short}.",
    "Inspect the {kind} {part} and restart the {short}.",
    "Check the {kind} {part}; reset the fault on the panel and restart the {short}.",
)
SPARES = (
    "Spare part: P/N {pn}.",
    "If the error returns, replace it (P/N {pn}).",
    "Replacement: P/N {pn}.",
)

CATEGORIES = ("Temperature", "Pressure and flow", "Drive and motor", "Controls")

# Subsystems asked for a code that sounds right (one digit off a real one) and exists nowhere.
MISSING_CODES_OF = ("feed-pump", "boiler", "hydraulic-press")

UNANSWERABLE = (
    "What is the warranty period of the FP-200 feed pump?",
    "How much does a new burner for the B-60 boiler cost?",
    "What is the capital of Australia?",
    "Who wrote the novel Pride and Prejudice?",
    "How do I reset a forgotten Gmail password?",
    "What is the boiling point of ethanol at sea level?",
    "Which football club won the 2010 Champions League final?",
)


def _entries(subsystem: Subsystem, rng: random.Random, taken: set[str]) -> list[Entry]:
    # Labels repeat inside a document: three of each kind, e.g. V-11, V-12, V-14; two digits,
    # so that no label is the start of another (V-1 would be found inside V-12).
    labels: dict[str, list[str]] = {}
    for *_, prefix in CONDITIONS:
        if prefix not in labels:
            labels[prefix] = [f"{prefix}-{n}" for n in sorted(rng.sample(range(10, 40), 3))]
    entries: list[Entry] = []
    # Codes of a document cluster: digits shuffled and nudged, so siblings look alike.
    seeds = [f"{rng.randrange(1000, 10000)}" for _ in range(8)]
    while len(entries) < ENTRIES_PER_DOCUMENT:
        digits = list(rng.choice(seeds))
        if rng.random() < 0.5:
            rng.shuffle(digits)
        else:
            digits[rng.randrange(4)] = str(rng.randrange(10))
        code = f"{subsystem.prefix}-{''.join(digits)}"
        if digits[0] == "0" or code in taken:
            continue
        category, phrase, condition, kind, prefix = rng.choice(CONDITIONS)
        part = rng.choice(labels[prefix])
        pn = f"{rng.randrange(1000, 10000)}-{rng.randrange(1, 100):02d}"
        if pn in taken:
            continue
        taken.update((code, pn))
        sentence = condition.format(unit=subsystem.unit)
        action = rng.choice(ACTIONS).format(kind=kind, part=part, short=subsystem.short)
        spare = rng.choice(SPARES).format(pn=pn)
        text = f"Error {code}: {sentence}. {action} {spare}"
        entries.append(Entry(code, category, phrase, kind, part, pn, text))
    return sorted(entries, key=lambda e: e.code)


def _document(subsystem: Subsystem, entries: list[Entry]) -> str:
    title = f"{subsystem.unit.capitalize()} {subsystem.model}: error codes"
    if not subsystem.markdown:
        lines = [title.upper(), "", subsystem.intro, ""]
        lines += [line for e in entries for line in (e.text, "")]
        return "\n".join(lines)
    lines = [f"# {title}", "", subsystem.intro, ""]
    for category in CATEGORIES:
        chosen = [e for e in entries if e.category == category]
        if chosen:
            lines += [f"## {category}", ""]
            lines += [line for e in chosen for line in (e.text, "")]
    return "\n".join(lines)


def _filename(subsystem: Subsystem) -> str:
    return subsystem.slug + (".md" if subsystem.markdown else ".txt")


def _missing_code(entries: list[Entry], rng: random.Random) -> str:
    codes = {e.code for e in entries}
    while True:
        code = rng.choice(entries).code
        near = f"{code[:-1]}{rng.randrange(10)}"
        if near not in codes:
            return near


def _exact(name: str, entry: Entry, shape: int) -> dict[str, object]:
    code = entry.code
    question, keyword = (
        (f"What does error {code} mean?", entry.condition),
        (f"Which part does error {code} tell me to check?", entry.part),
        (f"Which part number do I need when error {code} keeps coming back?", entry.part_number),
        (f"The panel shows {code}. What should I check?", entry.part),
        (f"What is error code {code} about?", entry.condition),
    )[shape]
    return {
        "question": question,
        "doc": name,
        "keywords": [code, keyword],
        "kind": "exact",
    }


def build() -> tuple[dict[str, str], list[dict[str, object]]]:
    """The documents ({filename: text}) and the questions, the same on every call."""
    rng = random.Random(SEED)
    taken: set[str] = set()
    manual = {s: _entries(s, rng, taken) for s in SUBSYSTEMS}
    documents = {_filename(s): _document(s, entries) for s, entries in manual.items()}
    questions: list[dict[str, object]] = []
    # 30 exact: 2 or 3 entries of every document, asked in one of five shapes.
    picks = [(s, e) for s, entries in manual.items() for e in rng.sample(entries, 3)]
    for number, (subsystem, entry) in enumerate(rng.sample(picks, 30)):
        questions.append(_exact(_filename(subsystem), entry, number % 5))
    for subsystem in SUBSYSTEMS:
        if subsystem.natural is not None:
            question, keyword = subsystem.natural
            questions.append(
                {
                    "question": question,
                    "doc": _filename(subsystem),
                    "keywords": [keyword],
                    "kind": "natural",
                }
            )
    missing = [_missing_code(e, rng) for s, e in manual.items() if s.slug in MISSING_CODES_OF]
    unanswerable = [f"What does error {code} mean?" for code in missing]
    for question in (*unanswerable, *UNANSWERABLE):
        questions.append({"question": question, "answerable": False, "kind": "unanswerable"})
    _check(documents, questions, missing)
    return documents, questions


def _check(
    documents: dict[str, str], questions: list[dict[str, object]], missing: list[str]
) -> None:
    """What the set promises, or an AssertionError at build time."""
    corpus = "\n".join(documents.values())
    for code in missing:
        assert code not in corpus, code
    for q in questions:
        if q["kind"] != "exact":
            continue
        keywords = q["keywords"]
        assert isinstance(keywords, list)
        code, keyword = keywords
        assert corpus.count(code) == 1, code
        line = next(line for line in corpus.splitlines() if code in line)
        assert keyword in line, (code, keyword)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", metavar="OUT_DIR", type=Path, help="where the documents go")
    parser.add_argument("--questions", type=Path, help="also write the questions (JSONL) here")
    args = parser.parse_args(argv)
    documents, questions = build()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        (args.out / name).write_text(text, encoding="utf-8")
    entries = sum(text.count("Error E") for text in documents.values())
    print(f"{len(documents)} documents, {entries} entries in {args.out}")
    if args.questions is not None:
        lines = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)
        args.questions.write_text(lines, encoding="utf-8")
        print(f"{len(questions)} questions in {args.questions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
