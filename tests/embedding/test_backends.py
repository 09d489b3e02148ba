"""Every backend this CPU offers gives the same model's vectors, near enough to torch fp32."""

from __future__ import annotations

import numpy as np
import pytest

from ragis.embedding import Embedder

PASSAGES = [
    "Mount Etna is an active stratovolcano on the east coast of Sicily, Italy.",
    "Sourdough bread rises with a starter of wild yeast and lactic acid bacteria.",
    "In chess, castling moves the king two squares toward a rook.",
    "The invoice must show the supplier's tax number and the net amount for each VAT rate.",
    "Replace a worn bicycle chain when a chain checker shows half a percent of stretch.",
]
QUESTIONS = {
    "Which volcano is on Sicily?": 0,
    "How do I make bread rise without commercial yeast?": 1,
    "How does the king move when castling?": 2,
    "When should I change my bike chain?": 4,
}


@pytest.fixture(scope="module")
def reference(backends: dict[str, Embedder]) -> np.ndarray:
    import asyncio

    return asyncio.run(backends["torch-fp32"].embed(PASSAGES))


async def test_every_backend_gives_unit_vectors_of_384_dims(
    backends: dict[str, Embedder],
) -> None:
    for name, embedder in backends.items():
        vectors = await embedder.embed(PASSAGES)
        assert vectors.shape == (len(PASSAGES), 384), name
        assert vectors.dtype == np.float32, name
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        assert embedder.dim == 384
        assert embedder.model_name == backends["torch-fp32"].model_name


async def test_every_backend_stays_close_to_torch_fp32(
    backends: dict[str, Embedder], reference: np.ndarray
) -> None:
    for name, embedder in backends.items():
        cosine = ((await embedder.embed(PASSAGES)) * reference).sum(axis=1)
        assert cosine.min() >= 0.98, f"{name}: {cosine.round(4)}"


async def test_every_backend_ranks_the_relevant_passage_first(
    backends: dict[str, Embedder],
) -> None:
    for name, embedder in backends.items():
        passages = await embedder.embed(PASSAGES)
        questions = await embedder.embed(list(QUESTIONS))
        best = (questions @ passages.T).argmax(axis=1)
        assert best.tolist() == list(QUESTIONS.values()), name


async def test_order_and_padding_do_not_change_a_vector(backends: dict[str, Embedder]) -> None:
    # Texts are sorted by length and padded per micro-batch: a text's vector must not depend
    # on its neighbours. Dynamic int8 scales activations per batch, so there it moves a little.
    for name, embedder in backends.items():
        alone = await embedder.embed([PASSAGES[2]])
        mixed = await embedder.embed([PASSAGES[0] * 6, PASSAGES[2], "short"])
        assert float(alone[0] @ mixed[1]) > (0.99 if "int8" in name else 0.999), name


async def test_an_empty_list_gives_an_empty_matrix(backends: dict[str, Embedder]) -> None:
    for embedder in backends.values():
        assert (await embedder.embed([])).shape == (0, 384)
