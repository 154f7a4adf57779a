"""Small text helpers shared by the extractors: tokens with offsets, name keys, phrase matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

_TOKEN = re.compile(r"\w+\+?", re.UNICODE)
# letters that NFKD does not decompose but that writers often replace by a plain letter
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ı": "i", "œ": "oe"})


@dataclass(frozen=True)
class Token:
    """A word of a text with its offsets and its comparison key."""

    text: str
    start: int
    end: int
    key: str


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a word (``Skåne`` and ``skane`` compare equal)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.translate(_FOLD)


def tokenize(text: str) -> list[Token]:
    """Words (letters, digits, a trailing ``+``) with offsets; punctuation and hyphens separate words."""
    return [Token(m.group(), m.start(), m.end(), fold(m.group())) for m in _TOKEN.finditer(text)]


def name_key(name: str) -> str:
    """The key two spellings of one name share: folded words joined by single spaces."""
    return " ".join(t.key for t in tokenize(name))


def is_acronym(label: str) -> bool:
    """An acronym (``ERDF``, ``EFRO``, ``ESF+``, ``H2020``): matched case-sensitively in free text."""
    letters = [c for c in label if c.isalpha()]
    return " " not in label.strip() and len(label) <= 8 and bool(letters) and all(c.isupper() for c in letters)


class PhraseMatcher(Generic[V]):
    """Longest-first, left-to-right matching of known phrases (by :func:`name_key`) over tokens."""

    def __init__(self, phrases: Iterable[tuple[str, V]]) -> None:
        self._index: dict[str, list[V]] = {}
        self._lengths: dict[str, list[int]] = {}  # first word -> phrase lengths, longest first
        for phrase, value in phrases:
            key = name_key(phrase)
            if not key:
                continue
            self._index.setdefault(key, []).append(value)
            first, size = key.split(" ", 1)[0], key.count(" ") + 1
            if size not in self._lengths.setdefault(first, []):
                self._lengths[first].append(size)
        for sizes in self._lengths.values():
            sizes.sort(reverse=True)

    def __contains__(self, phrase: str) -> bool:
        return name_key(phrase) in self._index

    def get(self, phrase: str) -> list[V]:
        return self._index.get(name_key(phrase), [])

    def find(self, tokens: list[Token]) -> Iterator[tuple[int, int, list[V]]]:
        """Yield ``(first, last_exclusive, values)`` token spans, longest match first, no overlaps."""
        i = 0
        n = len(tokens)
        while i < n:
            for length in self._lengths.get(tokens[i].key, ()):
                if length > n - i:
                    continue
                key = " ".join(t.key for t in tokens[i : i + length])
                values = self._index.get(key)
                if values:
                    yield i, i + length, values
                    i += length
                    break
            else:
                i += 1


def surface(text: str, tokens: list[Token], first: int, last: int) -> str:
    """The text covered by tokens ``first`` .. ``last - 1``."""
    return text[tokens[first].start : tokens[last - 1].end]


def slug(text: str) -> str:
    """Lower-case ASCII slug of a name: ``Kent County Council`` -> ``kent-county-council``."""
    return "-".join(t.key for t in tokenize(text) if t.key)[:80] or "unnamed"
