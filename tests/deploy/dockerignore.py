""".dockerignore as Docker (BuildKit) applies it: which files of the repository are sent to it.

Rules, as in moby's patternmatcher: one pattern a line, `#` comments; a leading `/` and `./` mean
nothing; `*` matches within one path segment, `?` one character, `**` any number of segments;
a pattern that matches a directory matches everything in it; a `!` pattern re-includes; the last
pattern that matches a path decides.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DockerIgnore"]


@dataclass(frozen=True)
class _Pattern:
    text: str
    negated: bool
    regex: re.Pattern[str]


class DockerIgnore:
    def __init__(self, patterns: list[_Pattern]) -> None:
        self.patterns = patterns

    @classmethod
    def parse(cls, path: Path) -> DockerIgnore:
        patterns = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            text = os.path.normpath(line[1:].strip() if negated else line).lstrip("/")
            patterns.append(_Pattern(text, negated, re.compile(_regex(text))))
        return cls(patterns)

    def excluded(self, relative: str) -> bool:
        """Whether the file or directory at this repository-relative path stays out."""
        parts = relative.strip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for pattern in self.patterns:
            if any(pattern.regex.fullmatch(c) for c in candidates):
                excluded = not pattern.negated
        return excluded

    def context(self, root: Path) -> Iterator[Path]:
        """Every file of the build context (relative paths); skips excluded directories that no
        `!` pattern can reach into, as BuildKit does."""
        for directory, dirs, files in os.walk(root):
            base = Path(directory).relative_to(root)
            dirs[:] = [d for d in dirs if not self._prunable((base / d).as_posix())]
            for name in files:
                relative = (base / name).as_posix()
                if not self.excluded(relative):
                    yield Path(relative)

    def _prunable(self, relative: str) -> bool:
        if not self.excluded(relative):
            return False
        for pattern in self.patterns:
            if pattern.negated and (
                pattern.text.startswith(relative + "/") or pattern.text[0] in "*?["
            ):
                return False
        return True


def _regex(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return out
