from __future__ import annotations

import pytest

from ragis.errors import InvalidVector, NotFound
from ragis.store import SearchFilter, Store
from support.corpus import add_document
from support.vectors import DIM, near, unit


async def test_search_returns_chunk_text_page_filename_and_score(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1), unit(2)], filename="guide.pdf", pages=[3, 4])
    found = await store.retriever.search("docs", near(unit(2), 7), k=2)
    assert found[0].chunk.id == "d1:1"
    assert found[0].chunk.text == "text 1 of d1"
    assert found[0].chunk.page == 4
    assert found[0].chunk.position == 1
    assert found[0].filename == "guide.pdf"
    assert 0.99 < found[0].score <= 1.0


async def test_chunks_of_a_document_still_ingesting_are_never_returned(store: Store) -> None:
    base = unit(1)
    await add_document(store, "docs", "ready", [near(base, 50, 0.3)])
    # Five chunks closer to the query than the ready one, but not ready yet.
    await add_document(
        store, "docs", "pending", [near(base, s, 0.01) for s in range(5)], ready=False
    )
    found = await store.retriever.search("docs", base, k=2)
    assert [r.chunk.doc_id for r in found] == ["ready"]
    await store.documents.mark_ready("docs", "pending")
    found = await store.retriever.search("docs", base, k=2)
    assert {r.chunk.doc_id for r in found} == {"pending"}


async def test_search_with_filters(store: Store) -> None:
    await add_document(store, "docs", "a", [unit(1)], tags=["hr"])
    await add_document(store, "docs", "b", [near(unit(1), 3)], tags=["legal"])
    only_b = await store.retriever.search("docs", unit(1), k=5, flt=SearchFilter(doc_ids=("b",)))
    assert [r.chunk.doc_id for r in only_b] == ["b"]
    only_hr = await store.retriever.search("docs", unit(1), k=5, flt=SearchFilter(tags=("hr",)))
    assert [r.chunk.doc_id for r in only_hr] == ["a"]


async def test_search_on_an_empty_or_unknown_collection(store: Store) -> None:
    await store.collections.ensure("empty", model="test-model", dim=DIM)
    assert await store.retriever.search("empty", unit(1), k=5) == []
    with pytest.raises(NotFound):
        await store.retriever.search("unknown", unit(1), k=5)


async def test_a_query_of_the_wrong_dimension_is_refused(store: Store) -> None:
    await add_document(store, "docs", "a", [unit(1)])
    with pytest.raises(InvalidVector):
        await store.retriever.search("docs", unit(1, DIM * 2), k=5)


async def test_a_deleted_document_disappears_from_search(store: Store) -> None:
    await add_document(store, "docs", "a", [unit(1)])
    await add_document(store, "docs", "b", [near(unit(1), 2)])
    await store.documents.delete("docs", "a")
    found = await store.retriever.search("docs", unit(1), k=5)
    assert [r.chunk.doc_id for r in found] == ["b"]
