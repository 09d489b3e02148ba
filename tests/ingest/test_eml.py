from __future__ import annotations

from email.message import EmailMessage

import pytest

from ragis.errors import CorruptFile, FileTooLarge
from ragis.ingest import EML, parse_document
from support.documents import docx_bytes, png_bytes


def message(body: str, *, html: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Ada <ada@example.org>"
    mail["To"] = "ops@example.org"
    mail["Subject"] = "Pump P-100 maintenance"
    mail["Date"] = "Fri, 04 Dec 2026 06:00:00 +0000"
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail


def test_headers_then_the_plain_text_body() -> None:
    mail = message("Grease the bearings monthly.", html="<p>HTML version</p>")
    parsed = parse_document(mail.as_bytes(), "note.eml")
    assert parsed.content_type == EML
    assert parsed.title == "Pump P-100 maintenance"
    assert parsed.text.splitlines()[:2] == ["From: Ada <ada@example.org>", "To: ops@example.org"]
    assert "Grease the bearings monthly." in parsed.text
    assert "HTML version" not in parsed.text
    assert parsed.attachments == ()


def test_an_html_only_body_is_read_as_visible_text() -> None:
    mail = EmailMessage()
    mail["Subject"] = "Hi"
    mail.set_content("<html><head><style>p{}</style></head><body><p>Seen</p></body></html>",
                     subtype="html")  # fmt: skip
    parsed = parse_document(mail.as_bytes(), "h.eml")
    assert parsed.text == "Subject: Hi\n\nSeen"


def test_attachments_of_readable_types_are_returned_and_others_left_out() -> None:
    mail = message("See attached.")
    mail.add_attachment(docx_bytes([("p", "Attached manual text.")]), maintype="application",
                        subtype="octet-stream", filename="../manual.docx")  # fmt: skip
    mail.add_attachment(png_bytes(), maintype="image", subtype="png", filename="photo.png")
    parsed = parse_document(mail.as_bytes(), "with.eml")
    assert [a.name for a in parsed.attachments] == ["manual.docx"]
    assert parse_document(parsed.attachments[0].data, "manual.docx").text == (
        "Attached manual text."
    )


def test_at_most_a_hundred_attachments_are_taken() -> None:
    mail = message("Many.")
    for n in range(101):
        mail.add_attachment(f"note {n}".encode(), maintype="text", subtype="plain",
                            filename=f"note{n}.txt")  # fmt: skip
    parsed = parse_document(mail.as_bytes(), "many.eml")
    assert [a.name for a in parsed.attachments] == [f"note{n}.txt" for n in range(100)]


def test_a_malformed_message_still_gives_what_it_can() -> None:
    data = b'Subject: broken\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\nno end'
    parsed = parse_document(data, "broken.eml")
    assert parsed.text.startswith("Subject: broken")


def test_deeply_nested_multiparts_are_limited() -> None:
    parts = "".join(
        f'--b{n}\nContent-Type: multipart/mixed; boundary="b{n + 1}"\n\n' for n in range(1_100)
    )
    data = f'Subject: deep\nContent-Type: multipart/mixed; boundary="b0"\n\n{parts}'.encode()
    with pytest.raises(CorruptFile, match="nests 1,101 multipart parts"):
        parse_document(data, "deep.eml")


def test_many_flat_parts_are_limited() -> None:
    parts = "".join("--b\nContent-Type: text/plain\n\nx\n" for _ in range(1_001))
    data = f'Subject: wide\nContent-Type: multipart/mixed; boundary="b"\n\n{parts}--b--\n'
    with pytest.raises(FileTooLarge, match="1,002 parts"):
        parse_document(data.encode(), "wide.eml")
