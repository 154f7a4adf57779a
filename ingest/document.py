"""Records that flow from the readers to the graph: a read document and its passages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """A structural unit of a document's text (paragraph, heading, list item), with offsets."""

    start: int
    end: int
    kind: str = "paragraph"  # paragraph | heading | list_item | table_row
    page: int | None = None


@dataclass(frozen=True)
class ReadDocument:
    """A file turned into text: the text every offset refers to, and its structure."""

    source: str  # the file name as ingested (basename)
    path: str  # the path it was read from
    content_hash: str  # sha256 of the raw bytes
    media_type: str  # text/plain, text/markdown, text/html, application/pdf, ...docx
    text: str
    blocks: tuple[Block, ...]
    title: str | None = None
    encoding: str | None = None

    @property
    def doc_id(self) -> str:
        """Short stable id derived from the content hash (used in IRIs)."""
        return self.content_hash[:16]


@dataclass(frozen=True)
class Passage:
    """A contiguous span of a document's text: the unit of search and of provenance."""

    doc_id: str
    position: int  # 0-based ordinal within the document
    start: int  # character offset into ReadDocument.text (inclusive)
    end: int  # character offset (exclusive)
    text: str
    lang: str = "und"
    page: int | None = None
    heading: str | None = None  # the nearest heading above the passage, if any
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def passage_id(self) -> str:
        """Stable id within the dataset: document id and position."""
        return f"{self.doc_id}-{self.position}"

    @property
    def text_hash(self) -> str:
        """Hash of the text alone: the key of the embedding cache."""
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()

    @property
    def offsets(self) -> tuple[int, int]:
        return (self.start, self.end)
