"""Check the question set against the fetched documents: every keyword of an answerable question
is in the text of its expected document (case-insensitive), every expected document exists.

    python bench/eval/check.py bench/eval/debian-reference.jsonl FOLDER
    python bench/eval/check.py bench/eval/errorcodes.jsonl FOLDER

FOLDER is where fetch.sh extracted the HTML, or where errorcodes.py wrote its Markdown and text
documents. Exits 1 and lists what does not hold.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path


def text_of(path: Path) -> str:
    if path.suffix != ".html":
        return " ".join(path.read_text(errors="replace").split()).casefold()
    # Tags out, entities decoded: close to what ragis indexes from the HTML.
    raw = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", path.read_text(errors="replace"))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split()).casefold()


def main(questions: Path, folder: Path) -> int:
    texts = {p.name: text_of(p) for p in folder.rglob("*") if p.suffix in (".html", ".md", ".txt")}
    problems = []
    for number, line in enumerate(questions.read_text().splitlines(), start=1):
        q = json.loads(line)
        if q.get("answerable", True) is False:
            continue
        text = texts.get(q["doc"])
        if text is None:
            problems.append(f"line {number}: no document {q['doc']}")
            continue
        for keyword in q.get("keywords", []):
            if " ".join(keyword.split()).casefold() not in text:
                problems.append(f"line {number}: {keyword!r} is not in {q['doc']}")
    for problem in problems:
        print(problem)
    print(f"{len(texts)} documents; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
