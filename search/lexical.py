"""Language-aware tokenisation for BM25: stopwords and a stemmer per passage language.

Each passage is analysed in its own language; a query in its detected language (and, so that
names and shared words still meet, in English too). For compounding languages (Danish, German,
Swedish, Dutch, Norwegian, Finnish) a long word is also split into two known words of the corpus
("eksportrådgivning" → "eksport" + "rådgivning"), with the vocabulary learnt at index time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: A word with a footnote marker glued to it by PDF text extraction ("responses4", "measures5").
_MARKED = re.compile(r"([^\W\d_]{3,})\d{1,2}", re.UNICODE)

#: BCP 47 code → PyStemmer algorithm.
STEMMERS = {
    "en": "english", "da": "danish", "de": "german", "sv": "swedish", "nl": "dutch", "fr": "french",
    "fi": "finnish", "nb": "norwegian", "nn": "norwegian", "no": "norwegian", "es": "spanish",
    "it": "italian", "pt": "portuguese", "pl": "polish", "ro": "romanian", "hu": "hungarian",
    "lt": "lithuanian", "et": "estonian", "cs": "czech", "el": "greek", "ga": "irish",
}
#: BCP 47 code → name of a bm25s stopword list.
_STOPWORD_LISTS = {
    "en": "STOPWORDS_EN", "da": "STOPWORDS_DANISH", "de": "STOPWORDS_GERMAN", "sv": "STOPWORDS_SWEDISH",
    "nl": "STOPWORDS_DUTCH", "fr": "STOPWORDS_FRENCH", "nb": "STOPWORDS_NORWEGIAN",
    "nn": "STOPWORDS_NORWEGIAN", "no": "STOPWORDS_NORWEGIAN", "es": "STOPWORDS_SPANISH",
    "it": "STOPWORDS_ITALIAN", "pt": "STOPWORDS_PORTUGUESE",
}
COMPOUNDING = frozenset({"da", "de", "sv", "nl", "nb", "nn", "no", "fi"})
_LINKING = ("", "s", "e", "n", "en", "er")
MIN_PART = 4
MIN_COMPOUND = 8


def words(text: str) -> list[str]:
    """Lower-cased words and numbers of a text (NFC-normalised)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold())


@lru_cache(maxsize=64)
def stopwords(lang: str) -> frozenset[str]:
    import bm25s.stopwords as lists

    name = _STOPWORD_LISTS.get(lang)
    return frozenset(getattr(lists, name)) if name else frozenset()


def stopword_lists() -> dict[str, list[str]]:
    """Every stopword list the analyzer uses, by language: saved with an index, so that queries are
    analysed with the lists the index was built with (and loading it needs no bm25s, nor scipy)."""
    return {lang: sorted(stopwords(lang)) for lang in sorted(_STOPWORD_LISTS)}


@lru_cache(maxsize=64)
def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    import Stemmer

    algorithm = STEMMERS.get(lang)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def stem(tokens: list[str], lang: str) -> list[str]:
    """Stems of the tokens with the language's stemmer (tokens unchanged without one)."""
    stemmer = _stemmer(lang)
    return list(stemmer.stemWords(tokens)) if stemmer is not None else tokens


class Analyzer:
    """Text → BM25 tokens for a language, with optional decompounding against a vocabulary."""

    def __init__(self, known_words: Iterable[str] = (), stop_lists: Mapping[str, Iterable[str]] | None = None) -> None:
        self.known = frozenset(known_words)
        self._splits: dict[str, tuple[str, ...]] = {}
        self._stop = None if stop_lists is None else {lang: frozenset(ws) for lang, ws in stop_lists.items()}

    def stopwords(self, lang: str) -> frozenset[str]:
        """The language's stopwords: the lists saved with the index, else bm25s's."""
        if self._stop is None:
            return stopwords(lang)
        return self._stop.get(lang, frozenset())

    def split_compound(self, word: str) -> tuple[str, ...]:
        """Two known words a compound is made of (longest known tail first), or ()."""
        if len(word) < MIN_COMPOUND or word.isdigit() or not self.known:
            return ()
        cached = self._splits.get(word)
        if cached is not None:
            return cached
        found: tuple[str, ...] = ()
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            if tail not in self.known:
                continue
            for link in _LINKING:
                if link and not head.endswith(link):
                    continue
                core = head[: len(head) - len(link)] if link else head
                if len(core) >= MIN_PART and core in self.known:
                    found = (core, tail)
                    break
            if found:
                break
        self._splits[word] = found
        return found

    def tokens(self, text: str, lang: str) -> list[str]:
        """BM25 tokens of a passage in ``lang``: stopwords out, stems, compound parts added, and
        the word of a word with a footnote marker glued to it ("responses4" → also "responses")."""
        stop = self.stopwords(lang)
        raw = [w for w in words(text) if w not in stop]
        raw += [m[1] for w in raw if (m := _MARKED.fullmatch(w)) is not None and m[1] not in stop]
        if lang in COMPOUNDING and self.known:
            extra = [part for w in raw for part in self.split_compound(w)]
            raw = raw + extra
        return stem(raw, lang)

    def query_tokens(self, text: str, lang: str, also: Iterable[str] = ("en",)) -> list[str]:
        """Distinct tokens of a query, analysed in its language and in ``also`` languages."""
        out: dict[str, None] = {}
        for code in (lang, *also):
            for token in self.tokens(text, code):
                out.setdefault(token, None)
        return list(out)


def learn_known_words(texts: Iterable[str], min_count: int = 2, limit: int = 200_000) -> list[str]:
    """Frequent words of the corpus (≥ ``MIN_PART`` letters): the decompounding vocabulary."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w for w in words(text) if len(w) >= MIN_PART and not w.isdigit())
    return [w for w, n in counts.most_common(limit) if n >= min_count]
