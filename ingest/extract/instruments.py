"""Funding programmes and policy instruments named in free text.

Known instruments resolve to concepts of ``ontology/schemes/instruments.ttl`` in any language
(acronyms only with their exact case; bare fund codes such as ``R``/``S`` are no labels). Instruments
not in the scheme are added, conservatively, only from explicit funding phrases ("funded by X",
"supported by X"; a name the text also calls a project is the project, see ``extract_document``).
A generic "Interreg" adds nothing in a sentence that names a specific Interreg programme: the most
specific instrument stated wins; a sentence of its own ("various Interreg programmes") keeps it.
"""

from __future__ import annotations

import re
from functools import cache

from ingest.document import Passage
from ingest.extract.gazetteer import (
    instrument_ancestors,
    instrument_by_iri,
    instrument_concepts,
    instrument_free_text_names,
    new_instrument_ref,
    resolve_region,
)
from ingest.extract.linking import inflected_pattern, inflecting
from ingest.extract.model import Entity
from ingest.extract.text_utils import PhraseMatcher, Token, is_acronym, name_key, surface, tokenize

_GENERIC_PARENTS = {"https://w3id.org/regiograph/id/instrument/interreg"}
_NAME = r"[A-Z][\w&'’+-]*(?:[ \t]+(?:[A-Z0-9][\w&'’+-]*|for|of|and|de|du|für|van))*"
_FUNDING_PHRASE = re.compile(
    r"\b(?:(?:co-?)?funded|(?:co-?)?financed|supported|sponsored)\s+(?:by|through|under)\s+(?:the\s+)?(" + _NAME + ")"
    r"|\b(?:støttet|finansieret|medfinansieret)\s+af\s+(" + _NAME + ")"
    r"|\b(?:gefördert|finanziert)\s+(?:durch|von)\s+(?:dem\s+|der\s+)?(" + _NAME + ")"
    r"|\b(?:financé|cofinancé|soutenu)\s+par\s+(?:le\s+|la\s+|l['’])?(" + _NAME + ")"
    r"|\b(?:gefinancierd|ondersteund)\s+door\s+(?:het\s+|de\s+)?(" + _NAME + ")"
    r"|\b(?:finansierat|finansierad|stöttat)\s+av\s+(" + _NAME + ")"
)
# a funder that is an organisation, a region or a person is not an instrument
_NOT_INSTRUMENT_HEADS = re.compile(
    r"\b(?:Council|Agency|Ministry|Commission|University|Chamber|Authority|Department|Office|Bank|Foundation|"
    r"Institute|Government|Region|Innovation Norway|Nordic Innovation|Ltd|GmbH|AB|A/S|ApS|SE)\b|styrelsen\b|verket\b"
)
_INSTRUMENT_HEADS = re.compile(
    r"\b(?:Programme|Program|Programm|Fund|Facility|Initiative|Scheme|Express|Instrument|Strategy|Plan|Fonds|Fonden|"
    r"Mechanism|Call|Stars|Action|Actions|Partnership|Platform)\b"
)


@cache
def _matcher() -> PhraseMatcher[tuple[str, str]]:
    return PhraseMatcher((label, (label, iri)) for label, iri in instrument_free_text_names())


def _accepted(text: str, tokens: list[Token], first: int, last: int, values: list[tuple[str, str]]) -> list[str]:
    name = surface(text, tokens, first, last)
    iris = []
    for label, iri in values:
        if is_acronym(label):
            if name.replace(" ", "") != label.replace(" ", "") and name != label:
                continue
        elif label[:1].isupper() and not name[:1].isupper() and not name[:1].isdigit():
            continue
        if iri not in iris:
            iris.append(iri)
    if last < len(tokens) and text[tokens[last - 1].end : tokens[last].start] == "-" and len(iris) and name.isupper():
        pass
    return iris


def _inflected_mentions(text: str, taken: list[tuple[int, int]], lang: str) -> list[tuple[str, str, int]]:
    """(label, iri, start) of scheme labels of the text's language written with case endings
    ("z Europejskiego Funduszu Rozwoju Regionalnego"), longest first, outside ``taken`` spans."""
    out: list[tuple[str, str, int]] = []
    labels = sorted(((t, c.iri) for c in instrument_concepts() for t, tl in c.labels if tl == lang),
                    key=lambda item: -len(item[0]))
    for label, iri in labels:
        pattern = inflected_pattern(label, lang)
        for m in pattern.finditer(text) if pattern is not None else ():
            if not any(s < m.end() and m.start() < e for s, e in taken):
                out.append((label, iri, m.start()))
                taken = [*taken, (m.start(), m.end())]
    return out


def find_instruments(passages: list[Passage], lang: str | None = None) -> list[Entity]:
    """Instruments mentioned in the passages: scheme concepts first, then new ones from funding phrases.

    ``lang`` is the document's language; where names take case endings (pl, cs, sk) the scheme's
    labels in that language count inflected too."""
    found: dict[str, Entity] = {}
    matcher = _matcher()

    def add_known(passage: Passage, name: str, iri: str) -> None:
        concept = instrument_by_iri(iri)
        if concept is None:
            return
        ent = found.get(iri)
        if ent is None:
            ent = Entity(ref=concept.ref, label=concept.pref_label, lang="en")
            ent.alt_labels.extend((t, lang) for t, lang in concept.labels if t != concept.pref_label)
            found[iri] = ent
        ent.passages.add(passage.position)
        lang = passage.lang if passage.lang and passage.lang != "und" else None
        if name != ent.label and all(name_key(a) != name_key(name) for a, _ in ent.alt_labels):
            ent.alt_labels.append((name, lang))

    for passage in passages:
        tokens = tokenize(passage.text)
        taken: list[tuple[int, int]] = []
        for first, last, values in matcher.find(tokens):
            iris = _accepted(passage.text, tokens, first, last, values)
            if len(iris) > 1:  # a label shared by concepts: keep the broadest
                iris = sorted(iris, key=lambda i: len(instrument_ancestors(i)))[:1]
            for iri in iris:
                add_known(passage, surface(passage.text, tokens, first, last), iri)
            taken.append((tokens[first].start, tokens[last - 1].end))
        text_lang = passage.lang if passage.lang and passage.lang != "und" else lang
        if inflecting(text_lang):
            for label, iri, start in _inflected_mentions(passage.text, taken, text_lang or ""):
                add_known(passage, label, iri)
                taken.append((start, start + 1))

    # generic parents named beside one of their specific children add nothing
    for iri in list(found):
        if iri not in _GENERIC_PARENTS:
            continue
        children = [c for c in found.values() if iri in instrument_ancestors(c.ref.iri or "")]
        if children and all(_only_beside_children(found[iri], children, p) for p in passages
                            if p.position in found[iri].passages):
            del found[iri]

    new: dict[str, Entity] = {}
    known_keys = {name_key(label) for label, _ in instrument_free_text_names()}
    for passage in passages:
        for m in _FUNDING_PHRASE.finditer(passage.text):
            name = next(g for g in m.groups() if g)
            name = re.sub(r"\s+", " ", name).strip(" -")
            name = re.sub(r"\s+(?:and|for|of|de|du|für|van)$", "", name)
            if not _new_instrument_name(name, known_keys):
                continue
            ref = new_instrument_ref(name)
            ent = new.setdefault(ref.key, Entity(ref=ref, label=name, lang=None, confidence=0.6))
            ent.passages.add(passage.position)
    for ent in new.values():  # later mentions of a new instrument's exact name
        for passage in passages:
            if ent.label in passage.text:
                ent.passages.add(passage.position)
    return list(found.values()) + list(new.values())


def _only_beside_children(parent: Entity, children: list[Entity], passage: Passage) -> bool:
    """Every sentence of the passage that names the generic parent also names one of its children
    ("Interreg 2 Seas ... Interreg funding" adds nothing; "various Interreg programmes" does)."""
    from ingest.extract.linking import find_mentions, split_sentences

    for sentence in split_sentences(passage):
        spans = find_mentions(parent, sentence.text)
        child_spans = [s for c in children for s in find_mentions(c, sentence.text)]
        own = [s for s in spans if not any(cs[0] <= s[0] and s[1] <= cs[1] for cs in child_spans)]
        if own and not child_spans:
            return False
    return True


def _new_instrument_name(name: str, known_keys: set[str]) -> bool:
    if len(name) < 4 or name_key(name) in known_keys or " " not in name:
        return False
    if _NOT_INSTRUMENT_HEADS.search(name) or resolve_region(name) is not None:
        return False
    return bool(_INSTRUMENT_HEADS.search(name)) or sum(w[:1].isupper() for w in name.split()) >= 3
