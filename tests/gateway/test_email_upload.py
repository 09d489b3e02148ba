"""An e-mail uploaded through the real gateway: its text is one document, each attachment of a
type ragis reads is another (source `<mail>#<name>`), and an attachment that cannot be read is
named as a failure without failing the mail."""

from __future__ import annotations

from email.message import EmailMessage

import httpx

from support.documents import docx_bytes


def mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Harbour Office <office@example.org>"
    message["To"] = "crew@example.org"
    message["Subject"] = "Winter berths"
    message.set_content("Berths for the winter are assigned in the attached plan.\n")
    message.add_attachment(
        docx_bytes([("p", "The ketch Albatross takes winter berth B-17 from November.")]),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="berths.docx",
    )
    message.add_attachment(
        b"%PDF-1.7 truncated", maintype="application", subtype="pdf", filename="broken.pdf"
    )
    return message.as_bytes()


async def test_an_emails_attachments_are_their_own_documents(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/documents/upload", files=[("file", ("winter.eml", mail()))])
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["ok"], result
    carried = {a["filename"]: a for a in result["attachments"]}
    assert carried["berths.docx"]["ok"] is True
    assert carried["berths.docx"]["chunks"] >= 1
    assert carried["broken.pdf"]["ok"] is False
    assert carried["broken.pdf"]["error"]["code"]

    listing = (await gateway.get("/api/documents")).json()["documents"]
    # The mail (uploaded without a source) and its readable attachment; nothing of the other.
    assert {d["source"]: d["id"] for d in listing} == {
        None: result["document_id"],
        "winter.eml#berths.docx": carried["berths.docx"]["document_id"],
    }

    found = (
        await gateway.post("/api/search", json={"query": "Which berth has the Albatross?"})
    ).json()
    assert found["passages"][0]["doc_id"] == carried["berths.docx"]["document_id"]
    assert found["passages"][0]["filename"] == "berths.docx"
