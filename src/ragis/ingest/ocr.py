"""Reading the pages of a scanned PDF: render with PDFium, read with Tesseract.

A page without a text layer is a picture of text. `read_page` renders it in grey (pypdfium2, at
`dpi` but never more than `max_pixels` pixels, so a page built to be 200 inches wide costs what a
normal one does), hands the bitmap to the `tesseract` binary (Debian's `tesseract-ocr`) on its
stdin and takes the text from its stdout, within `page_timeout` seconds. It runs in the parse
sandbox's child (`ragis.ingest.sandbox`): Tesseract inherits its memory and CPU limits, and dies
with it (a parent-death signal), so a killed parse leaves no Tesseract behind.

Whether OCR can run at all is `OcrSettings.unavailable()`: None, or the sentence that says why
not ("install tesseract-ocr", or RAGIS_OCR=off) which the PDF parser puts in its error or warning.
"""

from __future__ import annotations

import math
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Any, Literal

from ragis.lifeline import parent_death_signal

__all__ = ["OcrError", "OcrSettings", "find_tesseract", "read_page"]

OcrMode = Literal["auto", "off"]
LANG_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,32}(\+[A-Za-z0-9_]{1,32}){0,7}$")
"""Tesseract's `-l`: one or more traineddata names joined with `+` (eng, deu+eng, chi_sim)."""

_INSTALL = "install tesseract-ocr to read it"
_TURNED_OFF = "OCR is turned off (RAGIS_OCR=off)"
# Only what Tesseract needs: the child's environment holds the gateway's secrets, and one
# thread each, since the sandbox already parses several files at once on few cores.
_ENV = {"OMP_THREAD_LIMIT": "1", "LC_ALL": "C", "PATH": "/usr/local/bin:/usr/bin:/bin"}


class OcrError(Exception):
    """One page could not be read; the message says why, in a sentence for the warning."""


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """How scanned pages are read, and what reading them may cost."""

    mode: OcrMode = "auto"
    """auto: read scanned pages when Tesseract is installed; off: never (pages are reported)."""
    command: str = "tesseract"
    """The Tesseract binary: a name looked up on PATH, or a path."""
    lang: str = "eng"
    """Tesseract's languages (`-l`), e.g. `eng` or `deu+eng`; each needs its traineddata."""
    max_pages: int = 100
    """Scanned pages read in one file; the ones after are reported in a warning."""
    page_timeout: float = 30.0
    """Seconds Tesseract may take on one page."""
    budget: float = 90.0
    """Seconds all the OCR of one file may take (below the sandbox's wall clock, so that the
    pages read so far are kept rather than the whole parse killed)."""
    dpi: int = 200
    max_pixels: int = 12_000_000
    """Pixels of one rendered page (A4 at 200 dpi is 3.9 M; the bitmap is 1 byte a pixel)."""

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "off"):
            raise ValueError("OcrSettings.mode must be auto or off")
        if not LANG_PATTERN.match(self.lang):
            raise ValueError(f"OcrSettings.lang {self.lang!r} is not a Tesseract language list")
        for name in ("max_pages", "page_timeout", "budget", "dpi", "max_pixels"):
            if getattr(self, name) <= 0:
                raise ValueError(f"OcrSettings.{name} must be positive")

    def unavailable(self) -> str | None:
        """None when OCR can run; else why not, as the end of "scanned: ..."."""
        if self.mode == "off":
            return _TURNED_OFF
        if find_tesseract(self.command) is None:
            return _INSTALL
        return None


def find_tesseract(command: str) -> str | None:
    """The path of the Tesseract binary, or None if it is not installed there."""
    return shutil.which(command)


def read_page(page: Any, settings: OcrSettings, binary: str, timeout: float) -> str:
    """The text Tesseract reads on a pypdfium2 page; raises `OcrError` if it cannot."""
    width_pt, height_pt = page.get_size()
    scale = render_scale(width_pt, height_pt, settings.dpi, settings.max_pixels)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = _pgm(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride)
    finally:
        bitmap.close()
    dpi = max(1, round(scale * 72))
    try:
        # A fixed argument list, no shell; preexec_fn is safe: the sandbox child has one thread.
        done = subprocess.run(
            [binary, "-", "-", "-l", settings.lang, "--dpi", str(dpi), "--psm", "3"],
            input=image,
            capture_output=True,
            timeout=timeout,
            env=_ENV,
            preexec_fn=parent_death_signal(signal.SIGKILL),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"OCR took more than {timeout:g} s (RAGIS_OCR_PAGE_TIMEOUT)") from exc
    except OSError as exc:
        raise OcrError("tesseract could not be started") from exc
    if done.returncode != 0:
        raise OcrError(f"tesseract failed (exit status {done.returncode})")
    return done.stdout.decode("utf-8", errors="replace")


def render_scale(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> float:
    """PDF points to pixels: `dpi`, lowered so that the page stays within `max_pixels`."""
    scale = dpi / 72
    area = max(width_pt, 1.0) * max(height_pt, 1.0)
    if area * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / area)
    return scale


def _pgm(buffer: Any, width: int, height: int, stride: int) -> bytes:
    """A grey bitmap as a binary PGM, which Tesseract reads from stdin without encoding cost."""
    raw = bytes(buffer)
    if stride != width:
        raw = b"".join(raw[row * stride : row * stride + width] for row in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + raw
