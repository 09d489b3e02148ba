"""HTML: the visible text only, with its block structure kept as line breaks.

Dropped with everything inside them: script, style, noscript, template, svg, math, iframe,
object, canvas, select, and the head's metadata (its `<title>` becomes the title). Headings
become Markdown `#` lines, so the chunker splits on them; list items become `- ` lines; table
cells are joined with ` | `, one row a line. Built on the standard library's tolerant
`html.parser`, which never fetches anything and knows no external entities.

Two of that parser's reactions to malformed input are changed, since an upload can be built to
hit them: a `<![` that is not a well-formed marked section raised AssertionError (HTML5 reads it
as a bogus comment up to the next `>`), and at the end of the input every unterminated construct
(`<!--`, `<a`, ...) was rescanned to the end once per `<` that followed it, so 80 KB of `<!--`
took seconds (quadratic). HTML5 drops an unterminated comment or tag at the end of the input, and
so does `_TextExtractor.close`, in one step.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ragis.errors import FileTooLarge
from ragis.ingest.detect import HTML, decode_text
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import PageText, ParsedDocument
from ragis.ingest.parsers.text import normalize_text

__all__ = ["html_to_text", "parse_html"]

_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
     "select", "datalist"}
)  # fmt: skip
_BLOCK = frozenset(
    {"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
     "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup",
     "hr", "legend", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
     "tfoot", "thead", "ul"}
)  # fmt: skip
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
_WHITESPACE = re.compile(r"\s+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def parse_html(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    text = _decode_html(data)
    if len(text) > limits.max_chars * 4:  # markup included; the text itself is checked later
        raise FileTooLarge(name, "the HTML is too large to read")
    body, title = html_to_text(text)
    return ParsedDocument(HTML, [PageText(None, body)], None, title)


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Return the visible, normalised text of `markup` and its title (or None)."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return normalize_text("".join(extractor.parts)), extractor.title


def _decode_html(data: bytes) -> str:
    """UTF-8 (or a BOM) first; otherwise the charset a `<meta>` declares; otherwise a safe guess."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return decode_text(data)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self._skip: list[str] = []
        self._pre = 0
        self._in_title = False
        self._title_parts: list[str] = []
        self._first_h1: list[str] | None = None
        self._in_h1 = False
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.append(tag)
            return
        if tag in _SKIP:
            self._skip.append(tag)
        elif tag == "title":
            self._in_title = True
        elif tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
            if tag == "h1" and self._first_h1 is None:
                self._first_h1, self._in_h1 = [], True
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "tr":
            self.parts.append("\n")
            self._cells = 0
        elif tag in {"td", "th"}:
            if self._cells:
                self.parts.append(" | ")
            self._cells += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "pre":
            self._pre += 1
            self.parts.append("\n\n")
        elif tag == "p":
            self.parts.append("\n\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f" {alt} ")

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # `<![CDATA[...]]>` and its kin are bogus comments in HTML5 (outside SVG and MathML,
        # whose text is skipped anyway): they end at the first `>` and show nothing.
        end = self.rawdata.find(">", i + 3)
        return -1 if end < 0 else end + 1

    def close(self) -> None:
        # `feed` stops at the first construct it cannot complete and keeps the rest; what is
        # kept then starts with that construct. If it is markup (`<!--`, `<a`, `</`, `<?`),
        # HTML5 ends it at the end of the input and shows nothing of it: drop it here rather
        # than let the base class rescan the tail once per `<` in it.
        if self.rawdata.startswith("<") and not self.cdata_elem:
            self.rawdata = ""
        super().close()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip or tag in _SKIP:
            return
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag == "title":
            self._in_title = False
            if self.title is None:
                self.title = _WHITESPACE.sub(" ", "".join(self._title_parts)).strip() or None
        elif tag in _HEADINGS:
            self.parts.append("\n\n")
            if tag == "h1":
                self._in_h1 = False
                if self.title is None and self._first_h1:
                    self.title = _WHITESPACE.sub(" ", "".join(self._first_h1)).strip() or None
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self.parts.append("\n\n")
        elif tag in {"p", "table"}:
            self.parts.append("\n\n")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self._title_parts.append(data)
            return
        if self._in_h1 and self._first_h1 is not None:
            self._first_h1.append(data)
        self.parts.append(data if self._pre else _WHITESPACE.sub(" ", data))
