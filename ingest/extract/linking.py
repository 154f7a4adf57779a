"""Shared text helpers for extractors that link entities: keys, sentences, mentions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ingest.document import Passage
from ingest.extract.model import Entity

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’»)]?\s+(?=[\"'“‘«(]?[A-ZÆØÅÄÖÜÉ0-9•\-])|\n\s*\n|\n(?=\s*[•\-*✓✗]\s)")


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form used to compare labels."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", stripped).strip().lower()


def slug(text: str) -> str:
    """Normalised key: folded, runs of non-alphanumerics replaced by one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


@dataclass(frozen=True)
class Sentence:
    """A sentence (or list item) of one passage, with offsets into the passage text."""

    position: int  # passage position
    start: int
    end: int
    text: str


def split_sentences(passage: Passage) -> list[Sentence]:
    """Split a passage into sentences and list items (offsets relative to the passage)."""
    out: list[Sentence] = []
    start = 0
    text = passage.text
    for match in _SENTENCE_END.finditer(text):
        _add_sentence(out, passage.position, text, start, match.start())
        start = match.end()
    _add_sentence(out, passage.position, text, start, len(text))
    return out


def _add_sentence(out: list[Sentence], position: int, text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return
    lead = len(chunk) - len(chunk.lstrip())
    out.append(Sentence(position, start + lead, start + lead + len(stripped), stripped))


def all_sentences(passages: Iterable[Passage]) -> Iterator[Sentence]:
    for passage in passages:
        yield from split_sentences(passage)


@lru_cache(maxsize=4096)
def label_pattern(label: str) -> re.Pattern[str] | None:
    """A case-insensitive whole-word pattern for a label (spaces/hyphens flexible)."""
    label = label.strip()
    if len(label) < 2:
        return None
    parts = [re.escape(p) for p in re.split(r"[\s\u00a0]+", label) if p]
    body = r"[\s\u00a0]+".join(parts).replace(r"\-", r"[\-‐–\s]?")
    body = body.replace("'", "['’]").replace("’", "['’]")
    # acronyms must match case-sensitively ("EIS", not "eis"); names case-insensitively
    if label.isupper() and len(label) <= 6:
        return re.compile(rf"(?<![\w@]){body}(?![\w@])")
    return re.compile(rf"(?<![\w@]){body}(?![\w@])", re.IGNORECASE)


@lru_cache(maxsize=8192)
def _needle(label: str) -> str:
    """A lower-case piece every match of the label contains (a cheap pre-filter)."""
    return re.split(r"[^\w]", label.strip().lower(), maxsplit=1)[0][:4]


def entity_labels(entity: Entity) -> list[str]:
    """The label and alt labels of an entity, longest first."""
    labels = {entity.label, *(alt for alt, _ in entity.alt_labels)}
    return sorted((lab for lab in labels if lab), key=len, reverse=True)


def find_mentions(entity: Entity, text: str, lang: str | None = None) -> list[tuple[int, int]]:
    """Spans of ``text`` where the entity's label or an alt label occurs; with ``lang`` a language
    whose nouns take case endings, also where it occurs inflected ("z Litwy" for Litwa)."""
    spans: list[tuple[int, int]] = []
    lowered = text.lower()
    cased = inflecting(lang)
    for label in entity_labels(entity):
        if _needle(label) not in lowered and not cased:
            continue
        patterns = [label_pattern(label), inflected_pattern(label, lang or "") if cased else None]
        for match in (m for pattern in patterns if pattern is not None for m in pattern.finditer(text)):
            span = (match.start(), match.end())
            if not any(s <= span[0] < e or s < span[1] <= e for s, e in spans):
                spans.append(span)
    return sorted(spans)


@lru_cache(maxsize=8192)
def inflected_pattern(label: str, lang: str) -> re.Pattern[str] | None:
    """A label with case endings on its words (names of five letters or more, capitalised as
    written): "Litwa" matches "Litwy", "Europejski Fundusz" matches "Europejskiego Funduszu"."""
    from ingest.extract.text_utils import fold as key_fold

    words = [w for w in re.split(r"[\s\u00a0]+", label.strip()) if w]
    if not words or sum(ch.isalpha() for ch in label) < 5 or label.isupper():
        return None
    parts = []
    for word in words:
        head, _, tail = word.rpartition("-")  # "Warmińsko-mazurskie": the last part inflects
        key = key_fold(tail)
        cut = len(key) - len(case_stem(key, lang)) if len(key) == len(tail) and tail.isalpha() else 0
        body = re.escape(f"{head}-" if head else "").replace(r"\-", r"[\-‐–]") + re.escape(tail[: len(tail) - cut])
        parts.append(body + (r"\w{0,4}" if len(tail) >= 4 and tail.isalpha() else ""))
    body = r"[\s\u00a0]+".join(parts)
    return re.compile(rf"(?<![\w@]){body}(?![\w@])")


def mentions_entity(entity: Entity, text: str) -> bool:
    return bool(find_mentions(entity, text))


#: case endings of nouns and adjectives, as folded by ``text_utils.fold`` (ą → a, ę → e), longest
#: first, per language whose place names and programme names take case endings in running text
_CASE_ENDINGS: dict[str, tuple[str, ...]] = {
    # Polish: "z Litwy" (Litwa), "z Pomorza" (Pomorze), "w Gdańsku" (Gdańsk), "w Olsztynie",
    # "z Danii" (Dania), "Europejskiego Funduszu" (Europejski Fundusz)
    "pl": ("iego", "iemu", "ego", "emu", "ach", "ami", "ich", "ych", "imi", "ymi", "iej", "owi",
           "ie", "ii", "ji", "ia", "ja", "ej", "em", "im", "ym", "om", "a", "e", "i", "y", "u", "o"),
}
_CASE_ENDINGS["cs"] = _CASE_ENDINGS["sk"] = _CASE_ENDINGS["pl"]


def inflecting(lang: str | None) -> bool:
    """Whether names take case endings in text of this language (see :func:`case_stem`)."""
    return bool(lang) and (lang or "").split("-")[0] in _CASE_ENDINGS


def case_stem(word_key: str, lang: str | None) -> str:
    """The stem a folded word shares with its case forms: ``litwy``/``litwa`` -> ``litw``,
    ``gdansku``/``gdansk`` -> ``gdansk``. At least three letters stay; other languages: the word."""
    endings = _CASE_ENDINGS.get((lang or "").split("-")[0])
    if not endings:
        return word_key
    for ending in endings:
        if word_key.endswith(ending) and len(word_key) - len(ending) >= 3:
            return word_key[: -len(ending)]
    return word_key
