"""all-MiniLM-L6-v2 through onnxruntime: exported once into a cache dir, then run without torch.

    export_fp32      torch.onnx.export (TorchScript exporter) of the BERT encoder, then
                     onnxruntime's BERT fusions (Attention, SkipLayerNorm, BiasGelu,
                     EmbedLayerNorm): the `onnx-fp32` model, `onnx/model.onnx`
    export_int8      dynamic int8 quantization of that graph for one CPU family
                     (`onnx/model_qint8_<target>.onnx`): weights per channel; the first
                     layer's FFN output stays fp32, which keeps the cosine to fp32 above 0.99
    exports_ready    whether those files are there and current, from their manifests alone
                     (no torch, no onnx: the serving process asks, its child exports)
    OnnxEmbedder     the `tokenizers` tokenizer + an `InferenceSession`; mean pooling and L2
                     normalisation in numpy

Every file gets a `.json` manifest naming the recipe and the source weights, so a cache is reused
across starts (no re-export) and rebuilt only when either changes. Exports are written to a temp
file and renamed, under a file lock, so two services starting together export once.

Encoding sorts the texts by token count and pads each micro-batch only to its longest text
(dynamic padding): chunks of one document are of similar length, so little is padded. Dynamic
int8 scales the activations per micro-batch, so an int8 vector moves slightly (cosine ~0.995)
with the texts it was batched with; fp32 vectors do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragis.embedding.base import Embedder, Matrix, unit_rows
from ragis.embedding.lock import exclusive
from ragis.errors import ConfigError

__all__ = [
    "INT8_RECIPES",
    "RECIPE_VERSION",
    "Int8Recipe",
    "OnnxEmbedder",
    "export_fp32",
    "export_int8",
    "exports_ready",
    "model_dir",
    "offline_hub",
    "onnx_available",
]

#: Bump when the export or quantization recipe changes: cached files of another version are rebuilt.
RECIPE_VERSION = "1"
OPSET = 17
log = logging.getLogger("ragis.embedding")

INSTALL_HINT = "pip install onnxruntime onnx (or: pip install 'ragis[onnx]')"


@dataclass(frozen=True, slots=True)
class Int8Recipe:
    """How the weights are quantized for one int8 kernel family (see `cpu.INT8_TARGETS`)."""

    signed_weights: bool = True  # u8 x s8 kernels: the fast path on x86 and Arm
    per_channel: bool = True  # per-tensor loses too much: cosine to fp32 ~0.94 here
    reduce_range: bool = False  # 7-bit weights: avoids VPMADDUBSW saturation on AVX-512 w/o VNNI
    fp32_nodes: tuple[str, ...] = ("encoder/layer.0/output/dense/MatMul",)


INT8_RECIPES: dict[str, Int8Recipe] = {
    "avx512_vnni": Int8Recipe(),
    "avx512": Int8Recipe(reduce_range=True),
    "avx2": Int8Recipe(),
    "arm64": Int8Recipe(),
}


def onnx_available() -> bool:
    # Found, not imported: `onnx` (~17 MB resident) is needed only by the exports, which run in
    # the calibration's child process, never in the serving one.
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def offline_hub() -> None:
    """No model hub at run time: set before transformers / sentence-transformers are imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


# --- export ----------------------------------------------------------------------------------


def model_dir(cache_dir: Path, model_name: str) -> Path:
    """Where a model's exported files live: `<cache>/<name without its organisation>/onnx`."""
    return cache_dir / model_name.rsplit("/", 1)[-1] / "onnx"


def export_fp32(model_path: Path, cache_dir: Path, model_name: str) -> tuple[Path, bool]:
    """The fused fp32 ONNX model in `cache_dir`, exported if missing; (path, exported now)."""
    target, manifest = _fp32_spec(model_path, cache_dir, model_name)
    return target, _build(target, manifest, lambda tmp: _export(model_path, tmp))


def export_int8(
    model_path: Path, cache_dir: Path, model_name: str, target_cpu: str
) -> tuple[Path, bool]:
    """The int8 model for `target_cpu` (a key of `INT8_RECIPES`); (path, exported now)."""
    recipe = _recipe(target_cpu)
    fp32, _ = export_fp32(model_path, cache_dir, model_name)
    target, manifest = _int8_spec(model_path, cache_dir, model_name, target_cpu)
    return target, _build(target, manifest, lambda tmp: _quantize(fp32, tmp, recipe))


def exports_ready(
    model_path: Path, cache_dir: Path, model_name: str, target_cpu: str | None = None
) -> bool:
    """Whether the fp32 file (and the int8 one of `target_cpu`, if given) is in the cache and
    up to date. Reads the manifests only: no torch, no onnx, so the serving process can ask."""
    specs = [_fp32_spec(model_path, cache_dir, model_name)]
    if target_cpu is not None:
        specs.append(_int8_spec(model_path, cache_dir, model_name, target_cpu))
    return all(_fresh(target, target.with_suffix(".json"), m) for target, m in specs)


def _recipe(target_cpu: str) -> Int8Recipe:
    recipe = INT8_RECIPES.get(target_cpu)
    if recipe is None:
        raise ConfigError(f"No int8 recipe for {target_cpu!r}; known: {', '.join(INT8_RECIPES)}.")
    return recipe


def _fp32_spec(model_path: Path, cache_dir: Path, model_name: str) -> tuple[Path, dict[str, Any]]:
    target = model_dir(cache_dir, model_name) / "model.onnx"
    return target, {"recipe": RECIPE_VERSION, "kind": "fp32", "source": _source_id(model_path)}


def _int8_spec(
    model_path: Path, cache_dir: Path, model_name: str, target_cpu: str
) -> tuple[Path, dict[str, Any]]:
    recipe = _recipe(target_cpu)
    target = model_dir(cache_dir, model_name) / f"model_qint8_{target_cpu}.onnx"
    return target, {
        "recipe": RECIPE_VERSION,
        "kind": f"int8-{target_cpu}",
        "source": _source_id(model_path),
        "int8": [recipe.signed_weights, recipe.per_channel, recipe.reduce_range],
    }


def _source_id(model_path: Path) -> str:
    """Identifies the weights: the model config's hash and the weights file's size."""
    digest = hashlib.sha256((model_path / "config.json").read_bytes())
    for name in ("model.safetensors", "pytorch_model.bin"):
        weights = model_path / name
        if weights.exists():
            digest.update(f"{name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def _build(target: Path, manifest: dict[str, Any], make: Callable[[Path], None]) -> bool:
    """Make `target` unless a file with the same manifest is there; True if made now."""
    sidecar = target.with_suffix(".json")
    if _fresh(target, sidecar, manifest):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(target.parent / ".export.lock"):
        if _fresh(target, sidecar, manifest):  # another process made it meanwhile
            return False
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".onnx")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            started = time.perf_counter()
            with _quiet():
                make(tmp)
            tmp.chmod(0o644)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        manifest = {**manifest, "seconds": round(time.perf_counter() - started, 2)}
        sidecar.write_text(json.dumps(manifest, indent=1) + "\n")
        log.info("exported %s in %.1f s", target, manifest["seconds"])
    return True


def _fresh(target: Path, sidecar: Path, manifest: dict[str, Any]) -> bool:
    if not (target.exists() and sidecar.exists()):
        return False
    try:
        recorded = json.loads(sidecar.read_text())
    except ValueError:
        return False
    return all(recorded.get(k) == v for k, v in manifest.items())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """onnxruntime's fusion and quantization tools log every node at INFO on the root logger;
    this one-off export is summed up by one line of ours instead."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # incl. "consider pre-processing before quantization"
    try:
        yield
    finally:
        logging.disable(previous)


def _export(model_path: Path, out: Path) -> None:
    offline_hub()
    import torch

    optimize_model = importlib.import_module("onnxruntime.transformers.optimizer").optimize_model
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(model_path))
    # Eager attention: the pattern onnxruntime's Attention fusion recognises.
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.m(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]

    sample = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    raw = out.with_name(out.name + ".raw")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and exporter deprecation chatter
            torch.onnx.export(
                Encoder(model), (sample, sample, torch.zeros_like(sample)), str(raw),
                dynamo=False, opset_version=OPSET, input_names=names,
                output_names=["last_hidden_state"], dynamic_axes=axes,
            )  # fmt: skip
            fused = optimize_model(
                str(raw),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=1,
            )
        fused.save_model_to_file(str(out))
    finally:
        raw.unlink(missing_ok=True)


def _quantize(fp32: Path, out: Path, recipe: Int8Recipe) -> None:
    import onnx

    quantization = importlib.import_module("onnxruntime.quantization")
    QuantType, quantize_dynamic = quantization.QuantType, quantization.quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    keep = [n.name for n in graph.node if any(n.name.endswith(p) for p in recipe.fp32_nodes)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8 if recipe.signed_weights else QuantType.QUInt8,
            per_channel=recipe.per_channel,
            reduce_range=recipe.reduce_range,
            nodes_to_exclude=keep,
            # The fused ops are in Microsoft's domain, where shape inference gives no types.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


# --- inference -------------------------------------------------------------------------------


#: Calls of at most this many tokens in all (a question or two) use the latency session.
SMALL_CALL_TOKENS = 512
#: Texts per `session.run`. Measured on 2 AVX2 cores with ~210-token chunks: 8 is ~10-18%
#: faster than 32 (the activations of 8 chunks stay in cache), 64 is slower still.
MICRO_BATCH = 8


class OnnxEmbedder(Embedder):
    """Sentence embeddings from an exported encoder; one worker thread, like the torch one.

    Two sessions of the same file: the bulk one (ingestion) lets its idle workers sleep, so
    they leave the cores to the event loop and Redis between batches; the latency one, for
    small calls (a question), keeps its workers spinning, which saves the cost of waking them
    for each of the graph's ~60 parallel steps: measured here, a 15-token question takes
    ~3.7 ms instead of ~5.3 ms. Both compute the same vectors.
    """

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        *,
        model_name: str,
        backend: str,
        max_tokens: int = 256,
        batch_size: int = 32,
        micro_batch: int = MICRO_BATCH,
        latency_session: Any | None = None,
    ) -> None:
        self._session = session
        self._latency_session = latency_session or session
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in session.get_inputs()}
        self.model_name = model_name
        self.backend = backend
        self.dim = int(session.get_outputs()[0].shape[-1])
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.micro_batch = max(1, min(micro_batch, batch_size))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragis-embed")
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        onnx_file: Path,
        model_path: Path,
        *,
        model_name: str,
        backend: str,
        batch_size: int = 32,
        micro_batch: int = MICRO_BATCH,
        threads: int | None = None,
        spinning: bool = False,
        latency_session: bool = True,
    ) -> OnnxEmbedder:
        """`micro_batch`: texts per model run (an `embed` call of `batch_size` texts is cut
        into runs of texts of similar length). `threads`: onnxruntime's intra-op threads
        (None: one per core). `spinning`: whether
        the bulk session's idle workers spin (see the class doc). `latency_session`: load the
        second, spinning session for small calls."""
        try:
            ort = importlib.import_module("onnxruntime")
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(
                f"The ONNX embedding backends need onnxruntime: {INSTALL_HINT}."
            ) from exc

        def session(spin: bool) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or 0
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            options.add_session_config_entry("session.intra_op.allow_spinning", str(int(spin)))
            return ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

        max_tokens = _max_tokens(model_path)
        tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        tokenizer.enable_truncation(max_tokens)
        tokenizer.no_padding()
        return cls(
            session(spinning),
            tokenizer,
            model_name=model_name,
            backend=backend,
            max_tokens=max_tokens,
            batch_size=batch_size,
            micro_batch=micro_batch,
            latency_session=session(True) if latency_session and not spinning else None,
        )

    def encode(self, texts: Sequence[str]) -> Matrix:
        """The blocking form of `embed`: unit vectors, one row per text, in order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
            small = sum(len(e.ids) for e in encodings) <= SMALL_CALL_TOKENS
            session = self._latency_session if small else self._session
            order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
            for start in range(0, len(order), self.micro_batch):
                rows = order[start : start + self.micro_batch]
                out[rows] = self._run(session, [encodings[i].ids for i in rows])
        return out

    def _run(self, session: Any, ids: list[list[int]]) -> Matrix:
        width = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feed = {"input_ids": tokens, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(tokens)
        hidden: Matrix = np.asarray(session.run(None, feed)[0], dtype=np.float32)
        weights = mask.astype(np.float32)
        pooled: Matrix = np.einsum("bsd,bs->bd", hidden, weights) / weights.sum(1, keepdims=True)
        return unit_rows(pooled)

    async def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.encode, list(texts))

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _max_tokens(model_path: Path) -> int:
    """sentence-transformers' `max_seq_length` (256 for all-MiniLM-L6-v2)."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        config = json.loads((model_path / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])
    return 256
