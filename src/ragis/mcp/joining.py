"""A document's text rebuilt from its stored passages, in order.

The chunker (`ragis.ingest.chunking`) starts each passage of a section a few words before the
previous one ended, so that no sentence is cut off from its context, and may open a passage
with its section's heading line (`## Install`) again. Joined as they are, the passages would
repeat those words; `join_passages` drops each repeat:

- the longest end of the text so far that is also the start of the next passage (at least
  `MIN_OVERLAP` characters: a short match may be chance, and repeating a few words is a smaller
  harm than losing them);
- failing that, the same after the next passage's repeated heading line;
- failing both, the passage starts a new section (or page): it is joined after a blank line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MIN_OVERLAP", "join_passages", "overlap"]

#: The shortest repeat that is dropped, in characters.
MIN_OVERLAP = 12
#: The longest repeat looked for: well over the chunker's default overlap (40 tokens).
MAX_OVERLAP = 4_000
_HEADING_PREFIX = re.compile(r"#{1,6}[ \t][^\n]*\n\n")


def overlap(before: str, after: str) -> int:
    """How many characters at the start of `after` repeat the end of `before` (0: none)."""
    longest = min(len(before), len(after), MAX_OVERLAP)
    if longest < MIN_OVERLAP:
        return 0
    probe = after[:MIN_OVERLAP]
    # The earliest place in `before`'s tail where `after` could start gives the longest repeat.
    position = before.find(probe, len(before) - longest)
    while position != -1:
        size = len(before) - position
        if before.endswith(after[:size]):
            return size
        position = before.find(probe, position + 1)
    return 0


def join_passages(texts: Iterable[str]) -> str:
    """The passages' text as one, each repeat of the previous passage's end dropped."""
    joined = ""
    for text in texts:
        if not joined:
            joined = text
            continue
        size = overlap(joined, text)
        if size:
            joined += text[size:]
            continue
        heading = _HEADING_PREFIX.match(text)
        if heading is not None:
            body = text[heading.end() :]
            size = overlap(joined, body)
            if size:
                joined += body[size:]
                continue
        joined += "\n\n" + text
    return joined
