"""`ragis ingest URL`: an argument that is a URL goes to the gateway's URL ingest, through the
real gateway and RAG service, fetching from a loopback web site."""

from __future__ import annotations

import io

from ragis.client.api import GatewayClient
from ragis.client.ingest import ingest, split_urls
from support.documents import html_page
from support.gateway_fixtures import GatewayFactory
from support.web_site import page, web_site

KELP = html_page(
    "Kelp forests",
    "<p>Giant kelp can grow half a metre a day, anchored to rock by a holdfast.</p>",
)


def test_http_and_https_arguments_are_urls_the_rest_paths() -> None:
    urls, paths = split_urls(
        [
            "notes/",
            "https://example.com/a",
            "HTTP://example.com/b",
            "http:notes",
            "https://example.com/a",
        ]
    )
    assert urls == ["https://example.com/a", "HTTP://example.com/b"]
    assert paths == ["notes/", "http:notes"]


async def test_urls_are_ingested_counted_as_duplicates_and_failures(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    async with web_site({"/kelp": page(KELP)}) as site:
        url = f"{site.url}/kelp"
        with start_gateway(rag_urls=[rag_url], url_allow_private=True) as base:
            async with GatewayClient(base) as client:
                first = await ingest(client, [], urls=[url], collection="sea", stream=io.StringIO())
                progress = io.StringIO()
                again = await ingest(
                    client,
                    [],
                    urls=[url, "ftp://127.0.0.1/kelp.txt", f"{site.url}/missing"],
                    collection="sea",
                    stream=progress,
                )
                (doc,) = await client.documents("sea")
    assert (first.documents, first.duplicates, first.failures) == (1, 0, [])
    assert first.chunks >= 1
    assert (again.documents, again.duplicates) == (0, 1)
    failed = dict(again.failures)
    assert set(failed) == {"ftp://127.0.0.1/kelp.txt", f"{site.url}/missing"}
    assert "http" in failed["ftp://127.0.0.1/kelp.txt"]
    assert "404" in failed[f"{site.url}/missing"]
    assert f"{url}: duplicate" in progress.getvalue()
    assert doc["filename"] == "Kelp forests.html"
    assert doc["source"] == url


def test_a_folder_walk_sends_every_suffix_the_detector_reads_and_no_other() -> None:
    from ragis.client.ingest import SUPPORTED_SUFFIXES
    from ragis.ingest import detect

    read = (
        {"txt", "text", "pdf", "eml", "csv", "tsv", "tab"}
        | set(detect._MARKDOWN_SUFFIXES)
        | set(detect._HTML_SUFFIXES)
        | set(detect._ZIP_SUFFIXES)
    )
    assert {f".{s}" for s in read} == set(SUPPORTED_SUFFIXES)
