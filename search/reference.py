"""The language reference: the same sentences in many languages, and the head start a query's
tokens give each language when the content is held equal.

The re-ranker (search/late.py) scores a candidate by MaxSim, each query token's best cosine
with the passage's tokens on e5-small's layer-9 states. Tokens of the query's own language, or
of a language near it, match more closely than their translations do: on the twenty parallel
sentences of ``reference_sentences.json`` (everyday statements of regional policy, about no
particular corpus) the Danish questions of our judged set reach a mean MaxSim of 0.523 with the
Danish versions and 0.505 with the English ones, Swedish questions 0.517 with the Danish and
0.506 with the English, French questions 0.540 with the French and 0.513 with the English;
English questions 0.494 with the English and 0.487 with the Danish. Among the seeds' 238
passages, 5 Danish, the Danish news item's general passages so ranked first for Danish and
Swedish questions whose answers are English.

:meth:`LanguageReference.token` measures that head start for one query and each language of
its candidates; the re-ranker subtracts it from every candidate's MaxSim, so passages compete on
what they say rather than on the language they say it in. A language without reference
sentences gets the mean of the others (no correction). Measured in docs/benchmarks.md ("A
language reference for the re-ranker"), with what was tried and not kept: the same correction
of the pooled vectors in the dense calibration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from search.late import TokenStates, maxsim

SENTENCES = Path(__file__).with_name("reference_sentences.json")


@cache
def all_sentences() -> dict[str, tuple[str, ...]]:
    """Language code (ISO 639-1, as the language detector gives them) → its reference sentences."""
    data = json.loads(SENTENCES.read_text(encoding="utf-8"))
    return {code: tuple(texts) for code, texts in data["sentences"].items()}


def sentences_for(langs: Iterable[str]) -> tuple[list[str], list[str], np.ndarray]:
    """(the languages of ``langs`` that have sentences, all their sentences in one list, each
    sentence's index into the first list)."""
    known = all_sentences()
    codes = [code for code in dict.fromkeys(langs) if code in known]
    texts = [text for code in codes for text in known[code]]
    owner = np.array([i for i, code in enumerate(codes) for _ in known[code]], dtype=np.int64)
    return codes, texts, owner


@dataclass
class LanguageReference:
    """The reference sentences of an index's languages, with their token states (passage role)."""

    langs: list[str]
    owner: np.ndarray  # (sentences,) index into ``langs``
    tokens: TokenStates
    _states: dict[str, list[np.ndarray]] | None = field(default=None, repr=False, compare=False)

    def token(self, query_tokens: np.ndarray, langs: Iterable[str] | None = None) -> dict[str, float]:
        """Language (of ``langs``, default all) → the query's mean MaxSim (``late.maxsim``, as
        the re-ranker scores a passage) with that language's sentences; {} without query
        tokens. A re-ranker's candidates are in a few languages: the others are not scored."""
        if not len(query_tokens):
            return {}
        wanted = self.langs if langs is None else [code for code in langs if code in self.langs]
        query = self.tokens.query(query_tokens)  # into the space the sentences' states are kept in
        return {code: float(np.mean([maxsim(query, states) for states in self._sentences()[code]])) for code in wanted}

    def _sentences(self) -> dict[str, list[np.ndarray]]:
        """Language → its sentences' token states (float32), read once."""
        if self._states is None:
            self._states = {code: [self.tokens.of(int(row)) for row in np.flatnonzero(self.owner == i)] for i, code in enumerate(self.langs)}
        return self._states

    def save(self, folder: Path) -> None:
        (folder / "reference.json").write_text(json.dumps({"langs": self.langs}), encoding="utf-8")
        np.save(folder / "reference_owner.npy", self.owner)
        self.tokens.save(folder, prefix="reference_")

    @classmethod
    def load(cls, folder: Path) -> LanguageReference | None:
        """The reference saved in an index folder, or None (an index built before it existed, or
        without token states)."""
        if not (folder / "reference.json").exists():
            return None
        langs = json.loads((folder / "reference.json").read_text(encoding="utf-8"))["langs"]
        tokens = TokenStates.load(folder, prefix="reference_")
        return None if tokens is None else cls(langs, np.load(folder / "reference_owner.npy"), tokens)


def aligned(values: Mapping[str, float], langs: Sequence[str]) -> np.ndarray:
    """``values`` per language as an array aligned with ``langs``; a language without a value
    gets the mean of the others (no head start either way), and all get 0 when none has one."""
    if not values:
        return np.zeros(len(langs))
    neutral = float(np.mean(list(values.values())))
    return np.array([values.get(code, neutral) for code in langs], dtype=np.float64)
