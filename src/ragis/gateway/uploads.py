"""Reading a multipart upload with its limits enforced while the bytes arrive.

The body is parsed as it streams in (python-multipart's push parser), so a request over a limit
is refused before the rest of it is read:

- a `Content-Length` over `max_bytes` is refused before any byte of the body is read;
- a body without one (chunked) is counted while it streams, and refused the moment it passes
  `max_bytes`;
- the file part after the `max_files`-th is refused as soon as its headers arrive.

All three raise `TooLarge` (413) and the gateway reads no further. The connection is not closed:
uvicorn discards what the client still sends and keeps the answer deliverable. Closing it would
make most clients (browsers, httpx), which send the whole body before they read the answer, see a
reset connection instead of the 413 and its message. Files are held in memory (at most
`max_bytes` together): every parser needs the whole file anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from ragis.errors import InvalidInput, TooLarge

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["UploadForm", "UploadedFile", "read_upload"]

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 100
_MiB = 1024 * 1024


@dataclass(slots=True)
class UploadedFile:
    filename: str  # as the client sent it: display it only after `sanitize_filename`
    data: bytes


@dataclass(slots=True)
class UploadForm:
    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        return self.fields.get(name)


@dataclass(slots=True)
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """python-multipart callbacks that build an `UploadForm` and enforce the part limits."""

    def __init__(self, max_files: int) -> None:
        self.form = UploadForm()
        self.max_files = max_files
        self.ended = False
        self._files = 0
        self._fields = 0
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._part = _Part()
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise InvalidInput(
                "A part of the upload has no name in its Content-Disposition header."
            )
        self._part.name = _text(options[b"name"])
        if b"filename" in options:
            self._files += 1
            if self._files > self.max_files:
                raise TooLarge(
                    f"This upload has more than {self.max_files} files; the limit is "
                    f"{self.max_files} per request (RAGIS_MAX_FILES_PER_UPLOAD): upload them "
                    "in several smaller batches."
                )
            self._part.filename = _text(options[b"filename"])
        else:
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise TooLarge(f"This upload has more than {MAX_FIELDS} form fields.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        part.data += data[start:end]
        if part.filename is None and len(part.data) > MAX_FIELD_BYTES:
            raise TooLarge(f"The form field {part.name!r} is over {MAX_FIELD_BYTES // 1024} KiB.")

    def on_part_end(self) -> None:
        part = self._part
        if part.filename is None:
            self.form.fields.setdefault(part.name, _text(bytes(part.data)))
        else:
            self.form.files.append(UploadedFile(part.filename, bytes(part.data)))
        self._part = _Part()

    def on_end(self) -> None:
        self.ended = True


async def read_upload(request: Request, *, max_bytes: int, max_files: int) -> UploadForm:
    """Parse a `multipart/form-data` request; raise `TooLarge` (413) as soon as it passes a
    limit, `InvalidInput` (422) when it is not a complete multipart body."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise InvalidInput(
            "Send the upload as multipart/form-data, one `file` part per file "
            "(e.g. curl -F file=@report.pdf)."
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(_too_large(int(declared), max_bytes))

    collector = _Collector(max_files)
    try:
        parser = MultipartParser(params[b"boundary"], collector.callbacks())
    except FormParserError as exc:
        raise InvalidInput(f"The multipart body cannot be read: {exc}.") from None
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise TooLarge(_too_large(received, max_bytes, partial=True))
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise InvalidInput(
            "The multipart body is malformed; send it as multipart/form-data."
        ) from None
    if not collector.ended:
        raise InvalidInput(
            "The upload ended before its last multipart boundary: it was cut off on the way."
        )
    return collector.form


def _too_large(size: int, limit: int, *, partial: bool = False) -> str:
    what = f"over {_mib(limit)}" if partial else _mib(size)
    return (
        f"The upload is {what}; the limit is {_mib(limit)} per request (RAGIS_MAX_UPLOAD_MB): "
        "upload fewer or smaller files at a time."
    )


def _mib(size: int) -> str:
    return f"{size / _MiB:.1f} MiB" if size % _MiB else f"{size // _MiB} MiB"


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
