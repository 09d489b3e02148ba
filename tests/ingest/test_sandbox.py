"""Hostile files cost little (issue 12, item 7): the parsers refuse or survive what they can
recognise, and the sandbox's child processes bound the rest by memory, CPU time and wall clock.

Every parse here runs for real: in this process for the parser fixes, in a forked child with
real rlimits for the sandbox. No assertion is about time; a limit is proved by the child being
killed and the sentence naming that limit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Iterator

import pytest

from ragis.errors import CorruptFile, EmptyFile, FileRejected, UnsupportedFile
from ragis.ingest import IngestLimits, parse_document
from ragis.ingest.parsers.html import html_to_text
from ragis.ingest.sandbox import ParseSandbox, SandboxLimits
from support.documents import docx_bytes, pdf_bytes
from support.hostile import (
    docx_empty_elements,
    docx_nested_sdt,
    docx_nested_tables,
    hostile_files,
    html_comment_openers,
    html_marked_section,
)

# --- The parsers themselves ------------------------------------------------------------------


def test_deeply_nested_content_controls_are_refused_not_a_recursion_error() -> None:
    with pytest.raises(CorruptFile, match="nests its XML more than 256 levels deep"):
        parse_document(docx_nested_sdt(5_000), "sdt.docx")


def test_deeply_nested_tables_are_refused_not_a_recursion_error() -> None:
    with pytest.raises(CorruptFile, match="nests its XML more than 256 levels deep"):
        parse_document(docx_nested_tables(3_000), "tables.docx")


def test_nesting_just_under_the_limit_still_reads() -> None:
    # 20 nested tables (the body, then 3 levels a table, the paragraph: about 66 deep).
    assert parse_document(docx_nested_tables(20), "ok.docx").text == "deep"


def test_a_lower_depth_limit_is_obeyed() -> None:
    with pytest.raises(CorruptFile, match="more than 40 levels"):
        parse_document(docx_nested_tables(20), "t.docx", IngestLimits(max_xml_depth=40))


def test_empty_paragraphs_are_read_to_the_end() -> None:
    with pytest.raises(EmptyFile, match="no text"):
        parse_document(docx_empty_elements(2), "empty.docx")


def test_unterminated_comment_openers_are_dropped_at_once() -> None:
    # 160 KB took 11 s before (each `<!--` rescanned the rest of the input). The HTML5 reading:
    # an unterminated comment runs to the end of the input and shows nothing.
    markup = "<p>kept</p>" + "<!--" * 40_000
    assert html_to_text(markup) == ("kept", None)


def test_an_unterminated_tag_at_the_end_shows_nothing() -> None:
    assert html_to_text("<p>kept</p>" + "<a" * 40_000)[0] == "kept"
    assert html_to_text('<p>kept</p><a href="x')[0] == "kept"


def test_a_marked_section_in_html_is_a_bogus_comment_not_an_assertion_error() -> None:
    text, _ = html_to_text("<p>before</p><![ not a marked section ]><p>after</p>")
    assert text == "before\n\nafter"
    text, _ = html_to_text("<p>a<![CDATA[hidden]]>b</p><![")
    assert text == "ab"


def test_an_entity_at_the_end_of_html_is_still_text() -> None:
    assert html_to_text("<p>Tom &amp Jerry &amp")[0] == "Tom & Jerry &"


@pytest.mark.parametrize("data", [html_comment_openers(), html_marked_section()])
def test_hostile_html_with_nothing_to_read_is_an_empty_file(data: bytes) -> None:
    with pytest.raises(EmptyFile, match="there is no text"):
        parse_document(data, "h.html")


# --- The sandbox -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return hostile_files()


def sandbox(**limits: object) -> ParseSandbox:
    return ParseSandbox(IngestLimits(), SandboxLimits(**limits))  # type: ignore[arg-type]


async def test_a_readable_file_comes_back_parsed_from_the_child() -> None:
    document = await sandbox().parse(pdf_bytes(["Page one.", "Page two."]), "two.pdf")
    assert [(p.page, p.text) for p in document.pages] == [(1, "Page one."), (2, "Page two.")]
    assert document.page_count == 2
    document = await sandbox().parse(docx_bytes([("h1", "Title"), ("p", "Body.")]), "d.docx")
    assert document.text == "# Title\n\nBody."


@pytest.mark.parametrize(
    ("data", "name", "error", "reason"),
    [
        (b"", "empty.txt", EmptyFile, "the file is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "x.png", UnsupportedFile, "PNG"),
        (b"PK\x03\x04broken", "cut.docx", CorruptFile, "not a readable ZIP"),
    ],
)
async def test_a_refusal_in_the_child_keeps_its_class_and_sentence(
    data: bytes, name: str, error: type[FileRejected], reason: str
) -> None:
    with pytest.raises(error) as caught:
        await sandbox().parse(data, name)
    assert type(caught.value) is error
    assert caught.value.filename == name
    assert reason in caught.value.reason


async def test_every_hostile_file_of_the_issue_is_a_422_error(files: dict[str, bytes]) -> None:
    box = sandbox(cpu_seconds=5, timeout=30)
    for name, data in files.items():
        with pytest.raises(FileRejected) as caught:
            await box.parse(data, name)
        assert isinstance(caught.value, CorruptFile | EmptyFile), (name, caught.value)
        assert caught.value.message.startswith(f"{name}: ")


async def test_a_parse_over_the_memory_limit_is_stopped(files: dict[str, bytes]) -> None:
    # 60 MiB of XML cannot be unpacked and read in 256 MiB of address space (a child starts
    # at about 150 MiB of it: Python, the parsers, their libraries).
    with pytest.raises(CorruptFile) as caught:
        await sandbox(memory_mb=256).parse(files["empty-elements.docx"], "empty-elements.docx")
    assert "needs more than 256 MiB of memory" in caught.value.reason
    assert "RAGIS_PARSE_MEMORY_MB" in caught.value.reason


async def test_a_parse_over_the_cpu_limit_is_killed(files: dict[str, bytes]) -> None:
    # Reading 2.3 million empty paragraphs takes several CPU seconds: one second is not enough.
    with pytest.raises(CorruptFile) as caught:
        await sandbox(cpu_seconds=1, timeout=60).parse(
            files["empty-elements.docx"], "empty-elements.docx"
        )
    assert "more than 1 s of CPU time" in caught.value.reason
    assert "RAGIS_PARSE_CPU_SECONDS" in caught.value.reason


async def test_a_parse_over_the_wall_clock_limit_is_killed(files: dict[str, bytes]) -> None:
    # The CPU limit is far away; the wall clock stops the child first.
    with pytest.raises(CorruptFile) as caught:
        await sandbox(cpu_seconds=600, timeout=1).parse(
            files["empty-elements.docx"], "empty-elements.docx"
        )
    assert "more than 1 s (the limit is RAGIS_PARSE_TIMEOUT)" in caught.value.reason


async def test_the_60_mib_docx_of_empty_elements_is_read_in_bounded_memory(
    files: dict[str, bytes],
) -> None:
    # Issue 12: this file took the gateway to 989 MB. Each empty paragraph is now detached
    # once read, so the child reads it to the end (no text: 422) within 400 MiB.
    with pytest.raises(EmptyFile, match="there is no text"):
        await sandbox(memory_mb=400, cpu_seconds=120, timeout=300).parse(
            files["empty-elements.docx"], "empty-elements.docx"
        )


async def test_a_crash_of_the_child_is_a_422_not_a_500(files: dict[str, bytes]) -> None:
    # A parser crashing in C (a segfault) is simulated by the signal itself, sent to the real
    # child while it reads a file that keeps it busy.
    box = sandbox(workers=1, cpu_seconds=600, timeout=300)
    task = asyncio.create_task(box.parse(files["empty-elements.docx"], "crash.docx"))
    child = await _running_child()
    os.kill(child, signal.SIGSEGV)
    with pytest.raises(CorruptFile) as caught:
        await task
    assert caught.value.reason == "the file cannot be read: its parser crashed on it"


async def _running_child() -> int:
    for _ in range(500):
        children = [p for p in multiprocessing.active_children() if p.name == "ragis-parse"]
        if children and children[0].pid is not None:
            return children[0].pid
        await asyncio.sleep(0.02)
    raise AssertionError("no parse child started")


async def test_the_pool_runs_at_most_its_workers_at_once() -> None:
    box = sandbox(workers=1)
    results = await asyncio.gather(*(box.parse(f"text {i}".encode(), f"{i}.txt") for i in range(4)))
    assert [doc.text for doc in results] == [f"text {i}" for i in range(4)]
    assert box._slots._value == 1  # every slot given back


async def test_a_cancelled_parse_kills_its_child(files: dict[str, bytes]) -> None:
    box = sandbox(workers=1, cpu_seconds=600, timeout=300)
    task = asyncio.create_task(box.parse(files["empty-elements.docx"], "slow.docx"))
    child = await _running_child()  # cancelled while its child reads a file that takes seconds
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The slot is free again at once, and the next parse gets it (in the one waiting thread,
    # once the killed child has been reaped).
    document = await asyncio.wait_for(box.parse(b"next", "next.txt"), timeout=60)
    assert document.text == "next"
    assert child not in [p.pid for p in multiprocessing.active_children()]


@pytest.fixture(autouse=True)
def _no_leaked_children() -> Iterator[None]:
    yield
    assert [p for p in multiprocessing.active_children() if p.name == "ragis-parse"] == []


async def test_closing_the_sandbox_kills_the_children_still_running(
    files: dict[str, bytes],
) -> None:
    box = sandbox(cpu_seconds=600, timeout=300)
    task = asyncio.create_task(box.parse(files["empty-elements.docx"], "busy.docx"))
    await _running_child()
    await box.aclose()
    with pytest.raises(CorruptFile):
        await asyncio.wait_for(task, timeout=60)
