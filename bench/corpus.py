"""The benchmark corpus: real English prose that every machine has, the same on each run.

The documents are the docstrings of the Python standard library (module, class and function
docstrings, read with `ast` from the source files, nothing imported), one document per module,
in path order: technical documentation, like much of what people put into a RAG system. Every
`PDF_EVERY`-th document is written as a real PDF (fpdf2, a text layer, ~2,500 characters a page)
instead of a text file, so uploads exercise the PDF parser too. Chunks are made by ragis's own
parser and chunker from the uploaded bytes, so the raw-embedding measurement and the ingestion
through the gateway see exactly the same chunks. Questions are the opening words of sentences
of randomly chosen chunks (seeded).
"""

from __future__ import annotations

import ast
import random
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from ragis.ingest import Chunker, parse_document

__all__ = ["Document", "chunk_documents", "load_documents", "questions"]

SKIP = ("test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "turtledemo")


PDF_EVERY = 8
PAGE_CHARS = 2_500


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    text: str  # what a text loader would read (LangChain gets this, also for PDFs)
    data: bytes  # the file as uploaded


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    # The core fonts are Latin-1: anything else becomes "?", in the PDF only.
    text = text.encode("latin-1", "replace").decode("latin-1")
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    paragraphs = text.split("\n\n")
    page: list[str] = []
    for paragraph in [*paragraphs, None]:
        if paragraph is None or sum(map(len, page)) + len(paragraph) > PAGE_CHARS:
            if page:
                pdf.add_page()
                pdf.multi_cell(0, 5, "\n\n".join(page))
            page = []
        if paragraph is not None:
            page.append(paragraph)
    return bytes(pdf.output())


def _docstrings(path: Path) -> str:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return ""
    parts = []
    for node in [tree, *ast.walk(tree)]:
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc and len(doc) > 80 and not (isinstance(node, ast.Module) and node is not tree):
                title = getattr(node, "name", path.stem)
                parts.append(f"{title}\n\n{doc.strip()}")
    return "\n\n".join(dict.fromkeys(parts))


def load_documents(max_chars: int, *, min_chars: int = 1500) -> list[Document]:
    """Documents of the stdlib's docstrings, in path order, up to `max_chars` in all."""
    root = Path(sysconfig.get_paths()["stdlib"])
    docs: list[Document] = []
    total = 0
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in SKIP or part.startswith("test") for part in rel.parts):
            continue
        text = _docstrings(path)
        if len(text) < min_chars:
            continue
        stem = "-".join(rel.with_suffix("").parts)
        if len(docs) % PDF_EVERY == 1:
            docs.append(Document(f"{stem}.pdf", text, _pdf(text)))
        else:
            docs.append(Document(f"{stem}.txt", text, text.encode()))
        total += len(text)
        if total >= max_chars:
            break
    return docs


def chunk_documents(docs: list[Document], chunker: Chunker) -> list[list[str]]:
    """Each document's chunk texts, exactly as the gateway makes them."""
    return [[c.text for c in chunker.chunk(parse_document(d.data, d.filename))] for d in docs]


def questions(chunks: list[str], n: int, *, seed: int = 11) -> list[str]:
    """`n` questions, each the opening of a sentence (6-14 words) of a random chunk."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    split: dict[int, list[str]] = {}
    while len(found) < n:
        i = rng.randrange(len(chunks))
        if i not in split:
            split[i] = [s for s in re.split(r"(?<=[.!?])\s+", chunks[i]) if len(s) > 40]
        if not split[i]:
            continue
        words = rng.choice(split[i]).split()
        found.setdefault(" ".join(words[: rng.randint(6, 14)]))
    return list(found)
