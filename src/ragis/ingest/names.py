"""`sanitize_filename`: the name of an upload as it may be shown, never as a path or a key.

A client chooses the file name, so it can hold anything: a path (`../../etc/passwd`,
`C:\\x\\y.pdf`), control characters, bidirectional overrides that make `gpj.exe` read as
`exe.jpg`, lone surrogates, or a megabyte of text. What comes out is one short line of printable
text. Nothing in ragis opens, stores or keys anything by this name: it is for display only.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_FILENAME_CHARS", "sanitize_filename"]

MAX_FILENAME_CHARS = 200
_FALLBACK = "upload"
_MAX_SUFFIX = 16

# Cc control, Cf format (bidi overrides, zero-width, BOM), Cs lone surrogates, Co private use,
# Cn unassigned, Zl/Zp line and paragraph separators.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SHELL_AWKWARD = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")
_DRIVE = re.compile(r"^[A-Za-z]:")


def sanitize_filename(name: str) -> str:
    """Return a short, printable, path-free display name for `name`; never empty ("upload")."""
    if not isinstance(name, str):
        return _FALLBACK
    text = unicodedata.normalize("NFC", name.replace("\\", "/"))
    text = text.rsplit("/", 1)[-1]
    text = _DRIVE.sub("", text)
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category not in _DROP_CATEGORIES:
            kept.append(char)
    text = _SHELL_AWKWARD.sub("_", "".join(kept))
    text = _SPACES.sub(" ", text).strip(" .")
    if not text:
        return _FALLBACK
    return _shorten(text)


def _shorten(text: str) -> str:
    if len(text) <= MAX_FILENAME_CHARS:
        return text
    stem, dot, suffix = text.rpartition(".")
    if dot and stem and 0 < len(suffix) <= _MAX_SUFFIX:
        keep = MAX_FILENAME_CHARS - len(suffix) - 1
        return f"{stem[:keep].rstrip(' .')}.{suffix}"
    return text[:MAX_FILENAME_CHARS].rstrip(" .")
