"""Every backend of every CPU kind gives the same model's vectors, near enough to torch fp32.

`backends` (tests/support/fixtures.py) holds each backend that can run on this machine, offered
natively or not: torch-bf16 runs emulated where the CPU has no bf16, and the int8 model of every
recipe runs on whatever kernels this CPU has. Every assertion names the backend it failed for.
"""

from __future__ import annotations

import numpy as np
import pytest

from ragis.embedding import Embedder
from ragis.embedding.base import unit_rows

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


def test_every_backend_of_every_cpu_kind_is_tested_here(backends: dict[str, Embedder]) -> None:
    # Whatever this machine's CPU: the list cannot shrink to what it offers natively.
    assert set(backends) >= {
        "torch-fp32",
        "torch-bf16",
        "onnx-fp32",
        "onnx-int8/avx2",
        "onnx-int8/avx512",
        "onnx-int8/avx512_vnni",
        "onnx-int8/arm64",
    }
    assert backends["torch-bf16"].backend == "torch-bf16"


async def test_every_backend_gives_unit_vectors_of_384_dims(
    backends: dict[str, Embedder],
) -> None:
    for name, embedder in backends.items():
        vectors = await embedder.embed(PASSAGES)
        assert vectors.shape == (len(PASSAGES), 384), name
        assert vectors.dtype == np.float32, name
        np.testing.assert_allclose(
            np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5, err_msg=f"backend {name}"
        )
        assert embedder.dim == 384, name
        assert embedder.model_name == backends["torch-fp32"].model_name, name


def test_unit_rows_normalises_after_the_cast_to_float32() -> None:
    # What the bf16 backend did: normalise in bf16 (8-bit mantissa), then cast. Norms in
    # float32 were 0.9993-1.0035; after unit_rows they are 1 to float32 precision.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    raw = torch.tensor(rng.normal(size=(64, 384)), dtype=torch.bfloat16)
    in_bf16 = torch.nn.functional.normalize(raw, dim=1).float().numpy()
    assert np.abs(np.linalg.norm(in_bf16, axis=1) - 1).max() > 1e-4
    fixed = unit_rows(in_bf16)
    assert fixed.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fixed, axis=1), 1.0, atol=1e-6)
    assert unit_rows(np.zeros((1, 4))).tolist() == [[0.0, 0.0, 0.0, 0.0]]


async def test_every_backend_stays_close_to_torch_fp32(
    backends: dict[str, Embedder], reference: np.ndarray
) -> None:
    for name, embedder in backends.items():
        cosine = ((await embedder.embed(PASSAGES)) * reference).sum(axis=1)
        assert cosine.min() >= 0.98, f"backend {name}: {cosine.round(4)}"


async def test_every_backend_ranks_the_relevant_passage_first(
    backends: dict[str, Embedder],
) -> None:
    for name, embedder in backends.items():
        passages = await embedder.embed(PASSAGES)
        questions = await embedder.embed(list(QUESTIONS))
        best = (questions @ passages.T).argmax(axis=1)
        assert best.tolist() == list(QUESTIONS.values()), f"backend {name}"


async def test_order_and_padding_do_not_change_a_vector(backends: dict[str, Embedder]) -> None:
    # Texts are sorted by length and padded per micro-batch: a text's vector must not depend
    # on its neighbours. Dynamic int8 scales activations per batch, so there it moves a little.
    for name, embedder in backends.items():
        alone = await embedder.embed([PASSAGES[2]])
        mixed = await embedder.embed([PASSAGES[0] * 6, PASSAGES[2], "short"])
        # bf16 rounds differently with other padding: within cosine 0.99 too. The avx512
        # recipe's 7-bit weights (reduce_range) move most: 0.9899 measured on VNNI kernels.
        floor = {"torch-fp32": 0.999, "onnx-fp32": 0.999, "onnx-int8/avx512": 0.985}.get(name, 0.99)
        assert float(alone[0] @ mixed[1]) > floor, f"backend {name}"


async def test_an_empty_list_gives_an_empty_matrix(backends: dict[str, Embedder]) -> None:
    for name, embedder in backends.items():
        assert (await embedder.embed([])).shape == (0, 384), f"backend {name}"
