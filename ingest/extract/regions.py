"""Regions named in free text: NUTS regions, counties, provinces, cities, macro-regions and countries.

Every mention resolves through :mod:`ingest.extract.gazetteer` to one region (NUTS IRI where one exists).
Context rules keep precision: names must be written as proper nouns, generic words are never regions,
a country written as the qualifier of a finer place ("Aarhus, Denmark") or inside a name ("Innovate UK")
adds nothing, and names ambiguous between countries (Limburg) are settled by the other regions of the
document or dropped.
"""

from __future__ import annotations

import re
from functools import cache

from rdflib import Literal

from ingest.document import Passage
from ingest.extract.gazetteer import (
    GENERIC_NAMES,
    RegionInfo,
    region_by_key,
    region_candidates,
    region_free_text_names,
    resolve_region,
)
from ingest.extract.model import Entity
from ingest.extract.text_utils import PhraseMatcher, Token, name_key, surface, tokenize
from kg.namespaces import RG

_DIRECTIONS = (
    r"East|West|North|South|Upper|Lower|Northern|Southern|Eastern|Western|Oost|Noord|Zuid|Ost|Nord|Süd|Ober|Nieder"
)
# "East & West Flanders", "Nord- og Sydjylland": the first name is elliptic
_ELLIPSIS = re.compile(
    rf"\b({_DIRECTIONS})(-?)\s*(?:&|and|og|und|et|en|och|/)\s*(?:{_DIRECTIONS})-?\s*([A-ZÀ-Þ][\w-]+)"
)


@cache
def _matcher() -> PhraseMatcher[tuple[str, str]]:
    return PhraseMatcher((name, (name, key)) for name, key in region_free_text_names())


def _proper(text: str, tokens: list[Token], first: int, values: list[tuple[str, str]]) -> bool:
    """The mention is written like the name: capitalised where the name is (and not an all-lower word)."""
    head = tokens[first].text
    for name, _ in values:
        if not name[:1].isupper() or head[:1].isupper() or head[:1].isdigit():
            if head.isupper() and len(head) > 3 and not name.isupper():
                continue  # SHOUTED headings are fine, but not acronym-like reuse of names
            return True
    return False


def _resolve_span(name: str, keys: set[str], country: str | None) -> list[str]:
    """Region keys a matched name may denote, best tier first (ties kept for later disambiguation)."""
    cands = [(t, k) for t, k in region_candidates(name) if k in keys]
    if country:
        scoped = [(t, k) for t, k in cands if (info := region_by_key(k)) and info.country_code == country]
        cands = scoped or cands
    if not cands:
        return []
    ref = resolve_region(name, country)
    if ref is not None and ref.key in keys:
        return [ref.key]
    best = min(t for t, _ in cands)
    return sorted({k for t, k in cands if t == best})


def _qualifier_country(text: str, tokens: list[Token], first: int, prev_end: int | None, prev_country: str | None,
                       info: RegionInfo) -> bool:
    """A country written as qualifier: 'Aarhus, Denmark' / 'Bonn, Germany' / 'Innovate UK'."""
    if info.level not in (0, None) or (info.nuts_code is None and not info.key.startswith("country-")):
        return False
    start = tokens[first].start
    if prev_end is not None and prev_country == info.country_code:
        between = text[prev_end:start]
        if re.fullmatch(r"\s*[,(]\s*", between):
            return True
    if first > 0:
        prev = tokens[first - 1]
        between = text[prev.end : start]
        if between in (" ", "\u00a0") and prev.text[:1].isupper() and prev.text.lower() not in _FUNCTION_WORDS:
            return True  # part of a name: "Innovate UK", "Inovamais Portugal"
    return False


_FUNCTION_WORDS = {"in", "i", "im", "en", "au", "aux", "from", "fra", "aus", "de", "of", "and", "og", "und", "et",
                   "the", "to", "til", "nach", "para", "across", "within", "outside", "for", "med", "with", "och"}


def find_regions(passages: list[Passage]) -> list[Entity]:
    """Regions mentioned in the passages, one entity per region, with country and NUTS code."""
    matcher = _matcher()
    pending: list[tuple[Passage, str, list[str]]] = []  # ambiguous mentions, settled after the pass
    found: dict[str, Entity] = {}

    def add(passage: Passage, name: str, key: str) -> None:
        info = region_by_key(key)
        if info is None:
            return
        ent = found.get(key)
        if ent is None:
            ent = Entity(ref=info.ref, label=info.pref_label, lang=None)
            if info.country_code:
                ent.add(RG.countryCode, Literal(info.country_code))
            if info.nuts_code:
                ent.add(RG.nutsCode, Literal(info.nuts_code))
            for text, lang in info.labels:
                if text != ent.label and (text, lang) not in ent.alt_labels:
                    ent.alt_labels.append((text, lang))
            found[key] = ent
        ent.passages.add(passage.position)
        lang = passage.lang if passage.lang and passage.lang != "und" else None
        if name != ent.label and all(name_key(a) != name_key(name) for a, _ in ent.alt_labels):
            ent.alt_labels.append((name, lang))

    for passage in passages:
        text = passage.text
        tokens = tokenize(text)
        extra = _ellipsis_names(text)
        for name in extra:
            ref = resolve_region(name)
            if ref is not None:
                add(passage, name, ref.key)
        prev_end: int | None = None
        prev_country: str | None = None
        for first, last, values in matcher.find(tokens):
            name = surface(text, tokens, first, last)
            start = tokens[first].start
            if start > 1 and text[start - 1] == "-" and text[start - 2].isalnum():
                continue  # the tail of a compound: "Euro-Mediterranean area"
            if name_key(name) in GENERIC_NAMES or not _proper(text, tokens, first, values):
                continue
            keys = {k for _, k in values}
            options = _resolve_span(name, keys, None)
            if not options:
                continue
            if len(options) > 1:
                pending.append((passage, name, options))
                continue
            info = region_by_key(options[0])
            if info is None:
                continue
            if _qualifier_country(text, tokens, first, prev_end, prev_country, info):
                continue
            add(passage, name, options[0])
            prev_end, prev_country = tokens[last - 1].end, info.country_code

    countries = {e.ref.key: None for e in found.values()}
    doc_countries = {info.country_code for k in countries if (info := region_by_key(k)) and info.country_code}
    for passage, name, options in pending:
        chosen = [k for k in options if (info := region_by_key(k)) and info.country_code in doc_countries]
        chosen_countries = {info.country_code for k in chosen if (info := region_by_key(k)) is not None}
        if len(chosen_countries) == 1:
            ref = resolve_region(name, next(iter(chosen_countries)))
            if ref is not None:
                add(passage, name, ref.key)
    return list(found.values())


def _ellipsis_names(text: str) -> list[str]:
    """Expand elliptic coordinations: 'East & West Flanders' -> ['East Flanders']."""
    out = []
    for m in _ELLIPSIS.finditer(text):
        direction, hyphen, head = m.group(1), m.group(2), m.group(3)
        out.append(f"{direction}{'-' if hyphen else ' '}{head}")
    return out
