"""Text → passages of roughly 50–250 words that follow the document's structure.

Passages are contiguous spans of ``ReadDocument.text`` (exact offsets), built from the
document's blocks: a heading opens a passage, paragraphs and list items are packed until the
passage is long enough, a long paragraph is split between sentences (never inside one), and a
paragraph that a PDF-to-text tool broke into one block per line is joined back first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.document import Block, Passage, ReadDocument

MIN_WORDS = 50
MAX_WORDS = 250

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "dr", "mr", "mrs", "ms", "prof", "no", "nr", "vs", "cf", "approx", "incl",
    "st", "jr", "sr", "fig", "vol", "pp", "ca", "bzw", "z.b", "d.h", "u.a", "usw", "f.eks", "bl.a",
    "mv", "osv", "m.fl", "dvs", "t.ex", "s.k", "mm", "art", "co", "inc", "ltd",
}
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-ZÆØÅÄÖÜÉÈ0-9À-Ý])")
_TERMINAL = (".", "!", "?", "…", ":", ";", '"', "”", "’", ")")
#: What starts an item of a list ("- ", "• ", "✗ ", "3) "), followed by white space: a regular
#: expression for the sentence vectors (search/windows.py) and the explorer's reflow (views/common.py).
LIST_MARKER = r"(?:[-–•▪◦●■*✗✓✔➢►]|\d{1,2}[.)])"


@dataclass
class _Unit:
    start: int
    end: int
    kind: str
    page: int | None
    words: int


def words_in(text: str) -> int:
    return len(text.split())


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence boundaries of ``text`` as absolute (start, end) spans, abbreviation-aware."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start() + 1].rstrip(".!?…\"”’)] ")
        last_word = before.split()[-1].lower() if before.split() else ""
        if last_word.rstrip(".") in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        end = match.end()
        seg = text[start:end].rstrip()
        if seg:
            spans.append((offset + start, offset + start + len(seg)))
        start = end
    tail = text[start:].rstrip()
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        spans.append((offset + start + lead, offset + start + len(tail)))
    return spans


def _join_wrapped(text: str, blocks: tuple[Block, ...]) -> list[_Unit]:
    """Join blocks that are lines of one paragraph broken apart (PDF-to-text output)."""
    units: list[_Unit] = []
    line_lengths = sorted(b.end - b.start for b in blocks if "\n" not in text[b.start : b.end])
    typical = line_lengths[int(len(line_lengths) * 0.8)] if line_lengths else 80
    for block in blocks:
        body = text[block.start : block.end]
        if units:
            prev = units[-1]
            prev_body = text[prev.start : prev.end].rstrip()
            same_page = prev.page == block.page
            continues = (
                prev.kind in {"paragraph", "heading", "list_item"}
                and block.kind in {"paragraph", "heading"}
                and same_page
                and not prev_body.endswith(_TERMINAL)
                and (
                    body[:1].islower()
                    or (prev.kind == "paragraph" and block.kind == "paragraph" and len(prev_body.splitlines()[-1]) >= 0.6 * typical and typical >= 40)
                )
            )
            if continues:
                prev.end = block.end
                prev.kind = "list_item" if prev.kind == "list_item" else "paragraph"
                prev.words += words_in(body)
                continue
        units.append(_Unit(block.start, block.end, block.kind, block.page, words_in(body)))
    return units


def _split_long(text: str, unit: _Unit) -> list[_Unit]:
    """Split a unit longer than MAX_WORDS between sentences into chunks ≤ MAX_WORDS."""
    sentences = sentence_spans(text[unit.start : unit.end], unit.start)
    chunks: list[_Unit] = []
    for s, e in sentences:
        n = words_in(text[s:e])
        if chunks and chunks[-1].words + n <= MAX_WORDS:
            chunks[-1].end = e
            chunks[-1].words += n
        else:
            chunks.append(_Unit(s, e, unit.kind, unit.page, n))
    return chunks or [unit]


def split_passages(doc: ReadDocument, lang: str = "und") -> list[Passage]:
    """Passages of ``doc`` (language ``lang`` until per-passage detection refines it)."""
    text = doc.text
    units: list[_Unit] = []
    for unit in _join_wrapped(text, doc.blocks):
        units.extend(_split_long(text, unit) if unit.words > MAX_WORDS else [unit])

    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    count = 0
    for unit in units:
        boundary = unit.kind == "heading" or (current and unit.page != current[-1].page)
        # a heading opens a passage only after some prose: a web page's fact sheet ("Lead partner",
        # "Kent County Council", "Project budget", "2 855 597", …) is a run of short lines that
        # each read as a heading, and its figures belong with the project's name above them
        if current and (
            count + unit.words > MAX_WORDS
            or (boundary and count >= MIN_WORDS * 0.6 and any(u.kind != "heading" for u in current))
            or (count >= MIN_WORDS and current[-1].kind != "heading" and unit.kind != "list_item")
        ):
            groups.append(current)
            current, count = [], 0
        current.append(unit)
        count += unit.words
    if current:
        groups.append(current)

    # A short tail joins the passage before it when the result stays reasonable.
    merged: list[list[_Unit]] = []
    for group in groups:
        n = sum(u.words for u in group)
        if merged and n < MIN_WORDS * 0.6 and sum(u.words for u in merged[-1]) + n <= MAX_WORDS + 50 and (
            merged[-1][-1].page == group[0].page
        ):
            merged[-1].extend(group)
        else:
            merged.append(group)

    passages: list[Passage] = []
    heading: str | None = None
    for group in merged:
        start, end = group[0].start, group[-1].end
        for unit in group:
            if unit.kind == "heading":
                heading = text[unit.start : unit.end].strip()[:200]
        body = text[start:end]
        if not body.strip():
            continue
        passages.append(
            Passage(
                doc_id=doc.doc_id,
                position=len(passages),
                start=start,
                end=end,
                text=body,
                lang=lang,
                page=group[0].page,
                heading=heading,
            )
        )
    return passages
