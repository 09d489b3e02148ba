"""The file name a fetched web page is ingested under: a page's `<title>`, or the URL's own name.

The name is a label only (the parser detects the type from the content), but it is what lists and
citations show, so an HTML page is named after its title, `Paper cranes.html`, rather than
`index.html`; any other file keeps its URL's last path segment, `report.pdf`, or gets the host
and the suffix of its Content-Type.
"""

from __future__ import annotations

import codecs
import mimetypes
import re
from html.parser import HTMLParser

from yarl import URL

from ragis.ingest import sanitize_filename

__all__ = ["is_html", "page_filename", "page_title"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# A title sits in the head: reading further costs time for nothing.
TITLE_SCAN_BYTES = 256 * 1024
MAX_TITLE_CHARS = 200
SUFFIXES = {"text/plain": ".txt", "text/markdown": ".md", "application/pdf": ".pdf"}
_SPACES = re.compile(r"\s+")


def media_type(content_type: str) -> str:
    """`text/html; charset=utf-8` -> `text/html`."""
    return content_type.split(";", 1)[0].strip().lower()


def charset(content_type: str) -> str:
    """The charset the Content-Type names if Python knows it, else UTF-8."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            try:
                return codecs.lookup(value.strip().strip('"')).name
            except LookupError:
                break
    return "utf-8"


def is_html(content_type: str, data: bytes) -> bool:
    if media_type(content_type) in HTML_TYPES:
        return True
    head = data[:512].lstrip().lower()
    return not content_type and head.startswith((b"<!doctype html", b"<html"))


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.inside = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.done:
            self.inside = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.inside:
            self.inside = False
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.inside and sum(map(len, self.parts)) < MAX_TITLE_CHARS:
            self.parts.append(data)


def page_title(data: bytes, content_type: str = "") -> str:
    """The first `<title>`'s text, whitespace folded; empty when the page has none."""
    parser = _TitleParser()
    parser.feed(data[:TITLE_SCAN_BYTES].decode(charset(content_type), errors="replace"))
    return _SPACES.sub(" ", "".join(parser.parts)).strip()[:MAX_TITLE_CHARS]


def page_filename(url: URL, content_type: str, data: bytes) -> str:
    """The display name of the page at `url` (after redirects), sanitised."""
    segment = url.name  # the last path segment, unquoted
    if is_html(content_type, data):
        # A slash in a title is not a folder: sanitize_filename would keep only what follows it.
        title = page_title(data, content_type).replace("/", "-").replace("\\", "-")
        stem = title or segment.rsplit(".", 1)[0] or url.host or "page"
        return sanitize_filename(f"{stem}.html")
    if "." in segment.strip("."):
        return sanitize_filename(segment)
    kind = media_type(content_type)
    suffix = SUFFIXES.get(kind) or mimetypes.guess_extension(kind) or ""
    return sanitize_filename(f"{segment or url.host or 'page'}{suffix}")
