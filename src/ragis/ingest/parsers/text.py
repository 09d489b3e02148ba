"""Plain text and Markdown, and `normalize_text`, which every parser runs its output through.

Normalising means: Unicode NFC; one newline convention; no control characters but newline and
tab; invisible format characters (soft hyphen, zero-width space, BOM, bidi overrides) removed;
runs of spaces collapsed; at most one blank line in a row. For PDF, words hyphenated across a
line break are joined when both halves are letters and the second starts in lower case.

Markdown keeps its syntax (the chunker splits on its `#` headings); YAML front matter is dropped
(its `title:` kept as the title) and setext headings (`Title` over `=====`) become `# Title`.
"""

from __future__ import annotations

import re
import unicodedata

from ragis.errors import FileTooLarge
from ragis.ingest.detect import MARKDOWN, PLAIN_TEXT, decode_text
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument

__all__ = ["normalize_text", "parse_markdown", "parse_plain_text"]

_NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Invisible format characters that only get in the way of search: soft hyphen, zero-width
# space, word joiner, BOM, bidi embeddings/overrides/isolates. (ZWJ/ZWNJ/LRM/RLM are kept:
# some scripts need them.)
_INVISIBLE = re.compile(r"[\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPACE_RUN = re.compile(r" {2,}")
_TAB_RUN = re.compile(r" *\t[ \t]*")
_BLANK_RUN = re.compile(r"\n{3,}")
_HYPHENATED = re.compile(r"(\w)-\n(\w)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_SETEXT = re.compile(r"^([^\n#>|\-=*+ \t][^\n]*)\n(=+|-+)[ \t]*$", re.MULTILINE)
_ATX_TITLE = re.compile(r"^# +(.+?)[ #]*$", re.MULTILINE)


def normalize_text(text: str, *, keep_indent: bool = False, dehyphenate: bool = False) -> str:
    """Return `text` clean for display and embedding (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    text = _NEWLINES.sub("\n", text)
    text = text.replace("\u00ad\n", "")  # a soft hyphen at a line end breaks a word in two
    text = _INVISIBLE.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _ODD_SPACES.sub(" ", text)
    lines = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        body = line.lstrip()
        indent = line[: len(line) - len(body)] if keep_indent else ""
        body = _SPACE_RUN.sub(" ", _TAB_RUN.sub("\t", body))
        lines.append(indent + body if body else "")
    text = "\n".join(lines)
    if dehyphenate:
        text = _HYPHENATED.sub(_join_hyphenated, text)
    return _BLANK_RUN.sub("\n\n", text).strip("\n")


def _join_hyphenated(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if before.isalpha() and after.isalpha() and after.islower():
        return before + after
    return match.group(0)


def parse_plain_text(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    text = _decode(data, name, limits)
    return ParsedDocument(
        PLAIN_TEXT, [PageText(None, normalize_text(text, keep_indent=True))], None, None
    )


def parse_markdown(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    text = _decode(data, name, limits)
    text = unicodedata.normalize("NFC", _NEWLINES.sub("\n", text))
    title = None
    front = _FRONT_MATTER.match(text)
    if front:
        found = _FRONT_TITLE.search(front.group(1))
        title = found.group(1).strip("\"' ") if found else None
        text = text[front.end() :]
    text = _SETEXT.sub(_setext_to_atx, text)
    text = normalize_text(text, keep_indent=True)
    if not title:
        found = _ATX_TITLE.search(text)
        title = found.group(1).strip() if found else None
    return ParsedDocument(MARKDOWN, [PageText(None, text)], None, title or None)


def _setext_to_atx(match: re.Match[str]) -> str:
    level = "#" if match.group(2).startswith("=") else "##"
    return f"{level} {match.group(1).strip()}"


def _decode(data: bytes, name: str, limits: IngestLimits) -> str:
    text = decode_text(data)
    if len(text) > limits.max_chars:
        raise FileTooLarge(
            name, f"it holds {len(text):,} characters of text; the limit is {limits.max_chars:,}"
        )
    return text
