"""E-mail (`.eml`): the headers a reader needs (From, To, Cc, Date, Subject), then the text body
(text/plain preferred, else the HTML part's visible text); attachments of types ragis reads are
returned as `attachments`, each ingested as its own document.

The stdlib `email` parser (policy.default) reads the message; nested multiparts (the parser
recurses on them), MIME parts and attachments are limited in number.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage, Message

from ragis.errors import CorruptFile, FileRejected, FileTooLarge
from ragis.ingest.detect import EML, detect_type
from ragis.ingest.limits import IngestLimits
from ragis.ingest.names import sanitize_filename
from ragis.ingest.parsers import Attachment, PageText, ParsedDocument
from ragis.ingest.parsers.html import html_to_text
from ragis.ingest.parsers.text import normalize_text

__all__ = ["parse_eml"]

_HEADERS = ("From", "To", "Cc", "Date", "Subject")
_MAX_PARTS = 1_000
_MAX_ATTACHMENTS = 100
_MAX_MULTIPARTS = 64
_MULTIPART = re.compile(rb"content-type:\s*multipart/", re.IGNORECASE)


def parse_eml(data: bytes, name: str, limits: IngestLimits) -> ParsedDocument:
    # The stdlib parser recurses once per nested multipart: refuse deep nesting before it does.
    nested = len(_MULTIPART.findall(data))
    if nested > _MAX_MULTIPARTS:
        raise CorruptFile(
            name, f"the e-mail nests {nested:,} multipart parts; the limit is {_MAX_MULTIPARTS}"
        )
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        parts = sum(1 for _ in message.walk())
    except RecursionError as exc:
        raise CorruptFile(name, "the e-mail is nested too deeply to read") from exc
    if parts > _MAX_PARTS:
        raise FileTooLarge(name, f"the e-mail has {parts:,} parts; the limit is {_MAX_PARTS:,}")
    header_lines = [f"{key}: {_header(message, key)}" for key in _HEADERS if message.get(key)]
    body = _body(message)
    text = normalize_text("\n".join(header_lines) + ("\n\n" + body if body else ""))
    subject = _header(message, "Subject") or None
    return ParsedDocument(EML, [PageText(None, text)], None, subject, tuple(_attachments(message)))


def _header(message: Message, key: str) -> str:
    try:
        return " ".join(str(message.get(key, "")).split())
    except (ValueError, TypeError, IndexError):  # a malformed header: keep going without it
        return ""


def _body(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
    except (LookupError, ValueError, TypeError, AssertionError, KeyError):
        return ""  # an unknown charset or a broken part: the headers still say something
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(content)[0]
    return content


def _attachments(message: EmailMessage) -> list[Attachment]:
    """Each decoded attachment is smaller than its encoding, so the upload's size limit holds."""
    found: list[Attachment] = []
    for part in message.iter_attachments():
        if len(found) >= _MAX_ATTACHMENTS:
            break
        filename = part.get_filename()
        if not filename:
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, LookupError):
            continue
        if not isinstance(payload, bytes) or not payload:
            continue
        attachment_name = sanitize_filename(filename)
        try:
            detect_type(payload, attachment_name)
        except FileRejected:
            continue  # a type ragis does not read: left out, as a folder's would be
        found.append(Attachment(attachment_name, payload))
    return found
