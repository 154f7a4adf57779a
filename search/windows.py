"""Sentence windows: finer-grained vectors inside prose passages.

A passage of a report often makes several points; its one vector averages them, so a question
about one point (asked in another language, where the model's signal is weaker) can lose to a
passage that is only vaguely about the whole topic. Each prose passage of two or more
sentences also gets a vector per sentence, and a passage's dense score mixes its own similarity
with its best sentence's (0.7 / 0.3). Measured in docs/benchmarks.md on the multilingual query
set: no windows 0.781, windows of two sentences 0.820, single sentences 0.848 on the seeds
(hybrid MRR@10); single sentences also cost about half the embedding of two-sentence windows
with stride 1, since every sentence is embedded once instead of twice.

Sentences end at punctuation (``ingest.passages.sentence_spans``), at list items, and after a
short line without punctuation before a capital: a heading or a subtitle of a web page is a
sentence of its own instead of the start of the next one, while the wrapped lines of a PDF
paragraph (they fill the width) and the rows of a table stay together. Before that rule, 30
of the seeds' 241 passages had no sentence vectors (a subtitle that says exactly what the
passage is about was glued into one long "sentence"); after it 10 (with a figure's lettered
items as items of their own), and MRR@10 over the 95 judged questions went 0.899 → 0.905 on the
seeds (docs/benchmarks.md).

Rows of lists of operations get no windows: they are one record about one funded project, and
embedding their windows would double the cost of ingesting a national list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingest.passages import LIST_MARKER, sentence_spans

#: Sentences per window, and the fewest sentences a passage needs to be windowed.
WINDOW = 1
MIN_SENTENCES = 2
#: Words a sentence needs to count (headings and list markers are folded into their neighbours).
MIN_WORDS = 3
#: Weight of the best window in a passage's dense score (the rest is the passage's own).
WINDOW_WEIGHT = 0.3

#: Line ends that say the line goes on.
_JOINING = (",", "-", "–", "(", "/", "&")
#: A list item starting a line: each item of a bulleted list is a point of its own; so is each
#: lettered item of a figure or a questionnaire ("a. Cultural differences", "b) Tax reductions"),
#: but not a line that starts with "e.g." or "i.e.".
_LIST_ITEM = re.compile(rf"\n\s*(?={LIST_MARKER}\s|[a-z][.)](?=\s|[A-Z“\"]))")


@dataclass(frozen=True)
class Windows:
    """Window texts of many passages; ``start[row]:start[row + 1]`` are the windows of ``row``."""

    texts: list[str]
    start: np.ndarray  # int64, len = passages + 1


def sentence_windows(text: str) -> list[str]:
    """Windows of ``WINDOW`` consecutive sentences or list items (stride 1) of a passage, or [] when it is short."""
    sentences: list[str] = []
    typical = _typical_line(text)
    for a, b in sentence_spans(text):
        for part in (p for item in _LIST_ITEM.split(text[a:b]) for p in _heading_breaks(item, typical)):
            sentence = " ".join(part.split())
            if not sentence:
                continue
            if sentences and len(sentences[-1].split()) < MIN_WORDS:
                sentences[-1] = f"{sentences[-1]} {sentence}"
            else:
                sentences.append(sentence)
    if len(sentences) < MIN_SENTENCES:
        return []
    return [" ".join(sentences[i : i + WINDOW]) for i in range(len(sentences) - WINDOW + 1)]


def _typical_line(text: str) -> int:
    """The length of a full line of the passage (its 80th percentile): wrapped text fills it."""
    lengths = sorted(len(line.strip()) for line in text.splitlines() if line.strip())
    return lengths[int(len(lengths) * 0.8)] if lengths else 0


def _heading_breaks(part: str, typical: int) -> list[str]:
    """``part`` cut after each short line that ends without punctuation before a line starting
    with a capital or a digit: a heading, a subtitle or one line of a table or a list, which
    the sentence splitter (punctuation only) would glue to the sentence after it. A line that
    fills the passage's width is a wrapped line of a paragraph and is not cut."""
    lines = part.splitlines()
    if len(lines) < 2:
        return [part]
    out = [lines[0]]
    last = lines[0].strip()  # the last line with text so far
    for line in lines[1:]:
        head = line.lstrip()[:1]
        table = "\t" in line or "\t" in last  # a row of a table: its cells are no sentence
        if last and head and (head.isupper() or head.isdigit()) and not table and not last.endswith(_JOINING) and len(last) < 0.6 * max(typical, 40):
            out.append(line)
        else:
            out[-1] = f"{out[-1]}\n{line}"
        last = line.strip() or last
    return out


def sentence_span(text: str, sentence: str) -> tuple[int, int] | None:
    """Where a window's sentence (spaces normalised, :func:`sentence_windows`) lies in the
    passage ``text``: its first occurrence, whatever the whitespace; None if it is not there."""
    words = sentence.split()
    if not words:
        return None
    found = re.search(r"\s+".join(re.escape(word) for word in words), text)
    return found.span() if found else None


def build_windows(texts: Sequence[str], eligible: np.ndarray) -> Windows:
    """The windows of every eligible passage (rows not eligible get none)."""
    out: list[str] = []
    start = np.zeros(len(texts) + 1, dtype=np.int64)
    for row, text in enumerate(texts):
        if eligible[row]:
            out.extend(sentence_windows(text))
        start[row + 1] = len(out)
    return Windows(out, start)


def best_window_scores(rows: np.ndarray, window_vectors: np.ndarray, start: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each row's best window score against ``query`` (NaN for a row without windows)."""
    rows = np.asarray(rows, dtype=np.int64)
    counts = start[rows + 1] - start[rows]
    best = np.full(len(rows), np.nan)
    has = counts > 0
    if not has.any():
        return best
    sel = rows[has]
    lens = counts[has]
    idx = np.repeat(start[sel] - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    scores = np.asarray(window_vectors[np.sort(idx)] @ query, dtype=np.float64)
    scores = scores[np.argsort(np.argsort(idx))]
    owner = np.repeat(np.arange(len(sel)), lens)
    found = np.full(len(sel), -np.inf)
    np.maximum.at(found, owner, scores)
    best[has] = found
    return best


def mix_scores(passage_scores: np.ndarray, rows: np.ndarray, window_vectors: np.ndarray, start: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Passage scores mixed with their best window's score (rows without windows keep theirs)."""
    best = best_window_scores(rows, window_vectors, start, query)
    has = np.isfinite(best)
    out = np.asarray(passage_scores, dtype=np.float64).copy()
    out[has] = (1 - WINDOW_WEIGHT) * out[has] + WINDOW_WEIGHT * best[has]
    return out
