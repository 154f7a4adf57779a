"""Projects and initiatives (``rg:Project``) named in free text or on a project page.

Names are found by their shape, in any of the supported languages:

* a long name with its acronym: "Everywhere International SMEs (EIS)", "ABEIS (Accelerating
  Bio-Economy Innovation for SMEs)", "ACE - Accelerate Cross-border Engagement";
* a name next to the word project: "the SoundCare project", "projektet "X"", "le projet X";
* "an initiative called X", "the name of the joint initiative is X";
* the title of a project page whose text is a field/value layout (lead partner, budget, ...).

The key of a project is its normalised acronym when known, else its normalised name, so the
Danish and the English article about "Everywhere International SMEs (EIS)" give one project.
Linking (partner regions, partners, lead partner, funding, budgets) uses the regions,
organisations and instruments the other extractors found in the same passages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rdflib import Literal
from rdflib.namespace import DCTERMS, XSD

from ingest.document import Passage
from ingest.extract.fields import Field, find_fields, parse_amount, parse_date
from ingest.extract.linking import (
    Sentence,
    all_sentences,
    find_mentions,
    fold,
    label_pattern,
    slug,
)
from ingest.extract.model import Entity, EntityRef
from kg.namespaces import RG

log = logging.getLogger(__name__)

_PROJECT_WORDS = (
    r"project|projects|projekt|projektet|projektets|projekter|projet|projets|projekte|projektes|"
    r"projecten|progetto|proyecto|projekti|hanke|hankkeen|initiative|initiativ|initiativet|"
    r"initiatief|iniciativa|iniziativa"
)
_PROJECT_CUE = re.compile(rf"(?<!\w)(?:{_PROJECT_WORDS})(?!\w)|-projekt\w*|-hanke\w*", re.IGNORECASE)
_CONNECTORS = (
    "of", "for", "and", "the", "in", "on", "to", "de", "du", "des", "la", "le", "et", "für",
    "und", "der", "van", "voor", "en", "för", "och", "og", "af", "i", "&", "per", "del", "di",
)
_WORD = r"[A-ZÆØÅÄÖÜÉÈÀ0-9][\w@'’&+./-]*"
_CONN = "|".join(re.escape(c) for c in _CONNECTORS)
_NAME = rf"{_WORD}(?:[ \t]+(?:(?:{_CONN})[ \t]+)*{_WORD}){{0,7}}"
_ACRONYM = r"[A-Z][A-Za-z0-9@&-]{1,11}"

# "Long Name (ACR)" and "projektet "Long Name" (ACR)"
_NAME_ACRONYM = re.compile(rf"(?P<name>{_NAME})[\"”“»']?[ \t]*\((?P<acr>{_ACRONYM})\)")
# "ACR project (Long Name)", "ACR (Long Name)", "ACR - Long Name"
_ACRONYM_NAME = re.compile(
    rf"(?<![\w@])(?P<acr>{_ACRONYM})(?:[ \t]+(?:{_PROJECT_WORDS}))?[ \t]*"
    rf"(?:\([ \t]*(?P<name1>{_NAME})[ \t]*\)|[-–—:][ \t]+(?P<name2>{_NAME}))"
)
# "the SoundCare project", "an Innovation Express project", "EIS-projektet"
_NAME_PROJECT = re.compile(
    rf"(?<!\w)(?i:the|a|an|first|second|this|our|their|its)[ \t]+(?P<name>{_NAME})[ \t]+"
    rf"(?:project|initiative|projects)\b"
)
_NAME_DASH_PROJECT = re.compile(
    r"(?<![\w@])(?P<name>[A-Z][A-Za-z0-9@&]{1,15})-(?:projekt(?:et|ets)?|hanke(?:en|essa)?|"
    r"projektes|Projekt|project)(?!\w)"
)
# "projektet "X"", "le projet X", "das Projekt X", "het project X", "project on "X""; an apostrophe
# inside a word is part of a quoted name ("Grøn Omstilling i SMV'er", "Let's Export")
_PROJECT_NAME = re.compile(
    rf"(?<!\w)(?:project|projektet|Projektet|projekt|projet|Projekt|progetto|proyecto|hanke|initiative|"
    rf"initiativet|Initiativet|initiatief|initiativ)[ \t]+(?:on|om|über|sur|called|named|entitled|kaldet|"
    rf"kallat|genannt|appelé|intitulé|genaamd|chiamato|llamado|nimeltä)?[ \t]*"
    rf"(?:[\"“„«‘'](?P<quoted>(?:[^\"”“»’'\n]|(?<=\w)['’](?=\w)){{3,80}})[\"”“»’']|(?P<name>{_NAME}))"
)
_CALLED = re.compile(
    rf"(?:initiative|project|programme|network|projekt|projet|Projekt|initiativ)[ \t]+"
    rf"(?:called|named|entitled|kaldet|kallat|genannt|appelé|intitulé|genaamd)[ \t]+"
    rf"[\"“„«]?(?P<name>{_NAME})|"
    rf"name of the (?:joint |new )?(?:initiative|project) is[ \t]+[\"“„«]?(?P<name2>{_NAME})"
)
# "follow-on projects – including the Nordic Network of Testbeds"
_INCLUDING = re.compile(
    rf"(?:{_PROJECT_WORDS})\b[^.;:]{{0,40}}?\b(?:including|such as|among them|bl\.a\.|herunter|"
    rf"darunter|dont|waaronder|bland annat|w tym|incluido|tra cui)[ \t]+(?:the[ \t]+)?"
    rf"(?P<name>{_NAME})"
)
_IS_PROJECT = re.compile(
    rf"(?<![\w@])(?P<acr>[A-Z][A-Z0-9]{{1,9}})[ \t]+(?:is|er|ist|est|is|är|on)[ \t]+"
    rf"(?:an?|et|ein|eine|un|une|een|ett)?[ \t]*(?:[\w-]+[ \t]+){{0,3}}(?:{_PROJECT_WORDS})\b"
)

_ORG_WORDS = re.compile(
    r"(?<!\w)(?:office|council|agency|chamber|university|universitet|universität|université|"
    r"institute|institut|centre|center|centrum|gmbh|ltd|a/s|aps|ab|as|sa|bv|nv|association|"
    r"ministry|ministeriet|kommune|commission|enterprise|enterprises|cluster|klynge|network|"
    r"netværk|authority|department|directorate|dg|fund|fonden|foundation|bank|group|company|"
    r"services|unit|park|lab|region|regionen|county|province|société|verein|stichting|agencia|agenzia|"
    r"agence|agentur|camera|cámara|universidad|università|universidade|confederación|fundación|fondazione|"
    r"chambre|kamer|kammer)(?!\w)",
    re.IGNORECASE,
)
_GENERIC_NAMES = {
    "eu", "european", "interreg", "horizon", "horizon 2020", "h2020", "the", "this", "an", "a",
    "research", "innovation", "new", "pilot", "joint", "eu-funded", "european union", "first",
    "second", "third", "other", "cluster", "international", "national", "regional", "our",
    "erasmus", "life", "cosme", "erdf", "ie", "sme", "smes", "r&d", "rdi",
}
_LEAD_CUE = re.compile(
    r"\b(?:led by|coordinated by|lead partner(?: is)?|ledet af|koordineret af|geleitet von|"
    r"koordiniert von|piloté par|coordonné par|mené par|geleid door|gecoördineerd door|"
    r"leds av|koordineras av|johtaa|kierowany przez|liderado por|coordinato da|guidato da)\b",
    re.IGNORECASE,
)
_BUDGET_TEXT = re.compile(
    r"(?:total budget|project budget|budget of|budget on|budget von|budget de|budget van|"
    r"budget på|budget på|samlet budget|gesamtbudget|begroting van|budget totale|"
    r"presupuesto de|budżet)\D{0,25}(?P<amount>(?:EUR|€)?\s?\d[\d .,’']*(?:\s?(?:million|mill|mio|"
    r"mn|m|millioner|miljoner|millions)\b)?\s?(?:EUR|€|euro|euros)?)",
    re.IGNORECASE,
)
_ERDF_TEXT = re.compile(
    r"(?:ERDF|EFRU|FEDER|EFRE|EFRO|ERUF|EAKR|EFRR|FESR)\D{0,30}(?P<amount>(?:EUR|€)?\s?\d[\d .,’']*"
    r"(?:\s?(?:million|mill|mio|mn|m)\b)?\s?(?:EUR|€|euro)?)",
)


@dataclass
class _Candidate:
    name: str | None
    acronym: str | None
    position: int
    confidence: float
    alt_names: set[str] = field(default_factory=set)


def acronym_matches(acronym: str, name: str) -> bool:
    """Whether ``acronym`` can be read from the word initials of ``name`` (Schwartz–Hearst).

    Every letter of the acronym must be found in order in the name, the first one at the
    start of a word, and the name must not be much longer than the acronym explains. A digit
    may stand for a word ("F2FIR": Farm-to-Fork Innovation Regions; "B2B", "4" for "for").
    """
    if any(ch.isdigit() for ch in acronym):
        spelled = re.sub(r"(?i)(?<![^\s-])(?:to|two)(?![^\s-])", "2", name)
        spelled = re.sub(r"(?i)(?<![^\s-])(?:for|four)(?![^\s-])", "4", spelled)
        if spelled != name and _acronym_matches(acronym, spelled):
            return True
    return _acronym_matches(acronym, name)


def _acronym_matches(acronym: str, name: str) -> bool:
    acr = [ch.lower() for ch in acronym if ch.isalnum()]
    text = name.lower()
    if not acr or not text:
        return False
    a_idx, t_idx = len(acr) - 1, len(text) - 1
    while a_idx >= 0:
        ch = acr[a_idx]
        while t_idx >= 0 and (
            text[t_idx] != ch or (a_idx == 0 and t_idx > 0 and text[t_idx - 1].isalnum())
        ):
            t_idx -= 1
        if t_idx < 0:
            return False
        t_idx -= 1
        a_idx -= 1
    words = [w for w in re.split(r"[\s/]+", name) if w and w.lower() not in _CONNECTORS]
    return bool(words) and words[0][0].lower() == acr[0] and len(words) <= len(acr) + 2


def initials(name: str) -> str:
    """Initials of the capitalised words (and hyphenated parts) of a name: "ISE"."""
    parts = [p for p in re.split(r"[\s/-]+", name) if p]
    return "".join(p[0] for p in parts if p[0].isupper() or p[0].isdigit())


def _trim_name(name: str) -> str:
    words = name.split()
    while words and words[-1].lower() in _CONNECTORS:
        words.pop()
    while words and words[0].lower() in ("the", "a", "an", "le", "la", "les", "das", "der",
                                         "die", "het", "de", "el", "il", "this", "our"):
        words.pop(0)
    return " ".join(words).strip(" \t\"'“”„«»‘’.,;:")


def _acceptable_name(name: str) -> bool:
    folded = fold(name)
    if len(folded) < 3 or folded in _GENERIC_NAMES:
        return False
    if not any(ch.isalpha() for ch in name):
        return False
    return not re.fullmatch(r"[\d\s.,/-]+", name)


def _is_instrument(name: str, lang: str | None) -> bool:
    try:
        from ingest.extract.gazetteer import resolve_instrument
    except ImportError:
        return False
    try:
        return resolve_instrument(name, lang=lang) is not None
    except Exception:  # a gazetteer error must not hide a project
        log.debug("resolve_instrument failed on %r", name, exc_info=True)
        return False


def _candidates_in(sentence: Sentence, lang: str | None) -> list[_Candidate]:
    text = sentence.text
    found: list[_Candidate] = []
    cue = bool(_PROJECT_CUE.search(text))
    for m in _NAME_ACRONYM.finditer(text):
        acr = m.group("acr")
        name = _trim_name(m.group("name"))
        if _ORG_WORDS.search(" ".join(name.split()[-len(acr) - 3:])):
            continue  # "la Agencia Gallega de Innovación (GAIN)": an organisation
        # shorten the name from the left until the acronym explains it
        words = name.split()
        while len(words) > 1 and not acronym_matches(acr, " ".join(words)):
            words.pop(0)
        name = _trim_name(" ".join(words))
        if not acronym_matches(acr, name) or not _acceptable_name(name):
            continue
        if _ORG_WORDS.search(name) or _is_instrument(name, lang):
            continue
        local = text[max(0, m.start() - 60):m.end() + 60]
        if not _PROJECT_CUE.search(local) and not cue:
            continue
        found.append(_Candidate(name, acr, sentence.position, 0.9))
    for m in _ACRONYM_NAME.finditer(text):
        acr = m.group("acr")
        name = _trim_name(m.group("name1") or m.group("name2") or "")
        if not name or not acronym_matches(acr, name) or not _acceptable_name(name):
            continue
        if _ORG_WORDS.search(name) or _is_instrument(name, lang) or not cue:
            continue
        found.append(_Candidate(name, acr, sentence.position, 0.9))
    for regex in (_NAME_PROJECT, _NAME_DASH_PROJECT):
        for m in regex.finditer(text):
            name = _trim_name(m.group("name"))
            if _acceptable_name(name) and not _is_instrument(name, lang):
                acr = name if re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", name) else None
                found.append(_Candidate(None if acr else name, acr, sentence.position, 0.75))
    for m in _PROJECT_NAME.finditer(text):
        quoted = m.group("quoted")
        name = _trim_name(quoted or m.group("name") or "")
        if not _acceptable_name(name) or _is_instrument(name, lang):
            continue
        if not quoted and (_ORG_WORDS.search(name) or len(name.split()) > 6):
            continue
        acr = name if re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", name) else None
        # 'Projekt "Cyfrowe MŚP Bałtyku" (DigiBalt)': the short name in parentheses after a quoted
        # project name is its acronym, even where it is no initials of the name
        short = re.match(rf"[ \t]*\((?P<acr>{_ACRONYM})\)", text[m.end():]) if quoted else None
        if short and not acr and fold(short.group("acr")) not in _GENERIC_NAMES:
            found.append(_Candidate(name, short.group("acr"), sentence.position, 0.85))
            continue
        found.append(_Candidate(None if acr else name, acr, sentence.position, 0.75))
    for m in _CALLED.finditer(text):
        name = _trim_name(m.group("name") or m.group("name2") or "")
        if _acceptable_name(name) and not _is_instrument(name, lang):
            found.append(_Candidate(name, None, sentence.position, 0.8))
    for m in _INCLUDING.finditer(text):
        name = _trim_name(m.group("name"))
        if len(name.split()) >= 2 and _acceptable_name(name) and not _is_instrument(name, lang):
            found.append(_Candidate(name, None, sentence.position, 0.7))
    for m in _IS_PROJECT.finditer(text):
        acr = m.group("acr")
        if fold(acr) not in _GENERIC_NAMES:
            found.append(_Candidate(None, acr, sentence.position, 0.7))
    return found


def _page_title(passages: Sequence[Passage], fields: list[Field]) -> _Candidate | None:
    """The project named by the title of a field/value project page."""
    roles = {f.role for f in fields}
    if len(roles & {"lead_partner", "budget", "erdf", "start_date", "end_date", "partners"}) < 2:
        return None
    for passage in passages[:3]:
        for line in passage.text.splitlines():
            line = line.strip()
            if not line:
                continue
            title = re.split(r"\s+[|–—]\s+", line)[0].strip()
            if 2 <= len(title) <= 100 and len(title.split()) <= 10:
                return _Candidate(title, None, passage.position, 0.85)
            return None
    return None


class _Merged:
    """A project being assembled from candidates that share a name or acronym."""

    def __init__(self, cand: _Candidate) -> None:
        self.name = cand.name
        self.acronym = cand.acronym
        self.alt_names: set[str] = set(cand.alt_names)
        self.confidence = cand.confidence
        self.first_position = cand.position

    def absorb(self, cand: _Candidate) -> None:
        if cand.name and not self.name:
            self.name = cand.name
        elif cand.name and fold(cand.name) != fold(self.name or ""):
            if len(cand.name) > len(self.name or ""):
                self.alt_names.add(self.name or "")
                self.name = cand.name
            else:
                self.alt_names.add(cand.name)
        if cand.acronym and not self.acronym:
            self.acronym = cand.acronym
        self.confidence = max(self.confidence, cand.confidence)
        self.first_position = min(self.first_position, cand.position)

    def matches(self, cand: _Candidate) -> bool:
        if cand.acronym and self.acronym and cand.acronym.lower() == self.acronym.lower():
            return True
        names = [n for n in (self.name, *self.alt_names) if n]
        if cand.name and any(_name_contains(n, cand.name) for n in names):
            return True
        if cand.acronym and not cand.name and self.name and not self.acronym:
            return initials(self.name) == cand.acronym
        if cand.name and not cand.acronym and self.acronym and not self.name:
            return initials(cand.name) == self.acronym
        return False

    @property
    def key(self) -> str:
        return slug(self.acronym) if self.acronym else slug(self.name or "")


def _name_contains(longer: str, shorter: str) -> bool:
    """Whether ``shorter`` is ``longer`` or a whole-word tail or head of it."""
    a, b = fold(longer).split(), fold(shorter).split()
    if not b or len(b) > len(a):
        return False
    return a == b or (len(b) >= 2 and (a[-len(b):] == b or a[: len(b)] == b))


def _merge(cands: list[_Candidate]) -> list[_Merged]:
    merged: list[_Merged] = []
    # full candidates (name + acronym) first so that partial ones attach to them
    for cand in sorted(cands, key=lambda c: (not (c.name and c.acronym), -len(c.name or ""))):
        for proj in merged:
            if proj.matches(cand):
                proj.absorb(cand)
                break
        else:
            merged.append(_Merged(cand))
    # an acronym-only project explained by another project's name joins it
    for proj in list(merged):
        if proj.acronym and not proj.name:
            for other in merged:
                if other is not proj and other.name and not other.acronym and (
                    initials(other.name) == proj.acronym
                ):
                    other.acronym = proj.acronym
                    other.confidence = max(other.confidence, proj.confidence)
                    merged.remove(proj)
                    break
    return merged


def _attach_acronyms(projects: list[_Merged], text: str) -> None:
    """Give a name-only project the acronym the text uses for it ("ISE's support")."""
    for proj in projects:
        if proj.acronym or not proj.name:
            continue
        acr = initials(proj.name)
        if 2 <= len(acr) <= 8 and len(proj.name.split()) >= 2 and re.search(
            rf"(?<![\w@]){re.escape(acr)}(?![\w@])", text
        ):
            proj.acronym = acr


def find_projects(
    passages: Sequence[Passage],
    doc_lang: str | None = None,
    *,
    regions: Sequence[Entity] = (),
    organisations: Sequence[Entity] = (),
    instruments: Sequence[Entity] = (),
) -> list[Entity]:
    """Projects named in the passages, linked to the regions, organisations and instruments
    the other extractors found there.

    Also returns (as ``Organisation`` entities, after the projects) the organisations a
    project page names in its fields that ``organisations`` does not hold, and (as ``Region``
    entities) partner countries named only by a nationality adjective ("a Danish company").
    """
    sentences = list(all_sentences(passages))
    cands: list[_Candidate] = []
    for sentence in sentences:
        cands.extend(_candidates_in(sentence, doc_lang))
    fields = find_fields(passages)
    for f in fields:  # "Projet : INTERNAT-PME", "Project acronym: F2FIR"
        value = _trim_name(f.value)
        if f.role == "project" and _acceptable_name(value) and len(value.split()) <= 10 \
                and not _is_instrument(value, doc_lang):
            acr = value if re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", value) else None
            cands.append(_Candidate(None if acr else value, acr, f.position, 0.85))
    title = _page_title(passages, fields)
    if title is not None:
        cands.append(title)
    merged = [m for m in _merge(cands) if m.name or m.acronym]
    full_text = "\n".join(p.text for p in passages)
    _attach_acronyms(merged, full_text)
    # two projects that now share an acronym are one project
    by_key: dict[str, _Merged] = {}
    for proj in merged:
        have = by_key.get(proj.key)
        if have is None:
            by_key[proj.key] = proj
        else:
            have.absorb(_Candidate(proj.name, proj.acronym, proj.first_position, proj.confidence,
                                   proj.alt_names))
    entities: list[Entity] = []
    new_organisations: list[Entity] = []
    for proj in by_key.values():
        entity = _to_entity(proj, doc_lang)
        entity.passages = {s.position for s in sentences if find_mentions(entity, s.text)}
        entity.passages.add(proj.first_position)
        entities.append(entity)
    if title is not None:
        page_project = next(
            (e for e in entities if fold(e.label) == fold(title.name or "")
             or any(fold(a) == fold(title.name or "") for a, _ in e.alt_labels)),
            None,
        )
        if page_project is not None:
            _apply_fields(page_project, fields, organisations, regions, instruments, passages,
                          doc_lang, new_organisations)
    region_scores = partner_region_scores(entities, sentences, regions, doc_lang)
    if len(entities) == 1:  # a record of one project: "Région : Bretagne" names where it runs
        for f in fields:
            if f.role == "region":
                for region in regions:
                    if find_mentions(region, f.value):
                        field_scores = region_scores.setdefault(entities[0].ref, {})
                        field_scores[region.ref] = max(field_scores.get(region.ref, 0.0), 0.9)
    for entity in entities:
        _link(entity, entities, sentences, regions, [*organisations, *new_organisations],
              instruments, region_scores.get(entity.ref), doc_lang)
    return entities + new_organisations + _regions_by_nationality(entities, sentences, regions)


def _regions_by_nationality(projects: Sequence[Entity], sentences: Sequence[Sentence],
                            regions: Sequence[Entity]) -> list[Entity]:
    """Region entities for the partner countries known only by a nationality adjective."""
    try:
        from ingest.extract.gazetteer import region_by_key
        from ingest.extract.regions import region_entity
    except ImportError:
        return []
    known = {r.ref for r in regions}
    wanted = {v for p in projects for pred, v in p.attributes
              if pred == RG.partnerRegion and isinstance(v, EntityRef) and v not in known}
    out: dict[EntityRef, Entity] = {}
    for sentence in sentences:
        for ref in _demonym_regions(sentence.text):
            if ref in wanted and (info := region_by_key(ref.key)) is not None:
                out.setdefault(ref, region_entity(info)).passages.add(sentence.position)
    return list(out.values())


def _to_entity(proj: _Merged, lang: str | None) -> Entity:
    label = proj.name or proj.acronym or ""
    alts: list[tuple[str, str | None]] = []
    if proj.acronym and proj.name:
        alts.append((proj.acronym, None))
    for alt in sorted(proj.alt_names):
        if alt and fold(alt) != fold(label):
            alts.append((alt, lang))
    return Entity(
        ref=EntityRef("Project", proj.key),
        label=label,
        lang=lang if proj.name else None,
        alt_labels=alts,
        confidence=proj.confidence,
    )


def _entity_for_name(name: str, pool: Sequence[Entity]) -> Entity | None:
    folded = fold(name)
    for entity in pool:
        labels = [entity.label, *(a for a, _ in entity.alt_labels)]
        if any(fold(lab) == folded for lab in labels):
            return entity
    for entity in pool:
        if find_mentions(entity, name) and len(entity.label) >= 0.5 * len(name):
            return entity
    return None


def _organisation_ref(name: str, organisations: Sequence[Entity], new: list[Entity],
                      position: int) -> EntityRef:
    """The ref of the organisation called ``name``; a new Organisation entity if unknown."""
    entity = _entity_for_name(name, [*organisations, *new])
    if entity is not None:
        entity.passages.add(position)
        return entity.ref
    created = Entity(ref=EntityRef("Organisation", slug(name)), label=name.strip(),
                     passages={position}, confidence=0.7)
    new.append(created)
    return created.ref


def _region_refs_of(org_ref: EntityRef, organisations: Sequence[Entity]) -> list[EntityRef]:
    for entity in organisations:
        if entity.ref == org_ref:
            return [v for p, v in entity.attributes if p == RG.locatedIn and isinstance(v, EntityRef)]
    return []


def _apply_fields(
    project: Entity,
    fields: list[Field],
    organisations: Sequence[Entity],
    regions: Sequence[Entity],
    instruments: Sequence[Entity],
    passages: Sequence[Passage],
    lang: str | None,
    new: list[Entity],
) -> None:
    """Facts of a project page's field/value layout (new organisations go to ``new``)."""
    for f in fields:
        project.passages.add(f.position)
        if f.role == "lead_partner":
            ref = _organisation_ref(f.value, organisations, new, f.position)
            project.add(RG.leadPartner, ref)
            project.add(RG.partner, ref)
        elif f.role == "partners":
            for name in re.split(r"\s*[;,]\s*", f.value):
                # a partner list ends where running text starts
                if 2 < len(name) <= 90 and len(name.split()) <= 8 and not re.search(r"[.!?]\s", name):
                    ref = _organisation_ref(name, organisations, new, f.position)
                    project.add(RG.partner, ref)
        elif f.role in ("budget", "erdf"):
            amount = parse_amount(f.value)
            if amount is not None and amount > 0:
                pred = RG.budgetEUR if f.role == "budget" else RG.erdfEUR
                project.add(pred, Literal(amount, datatype=XSD.decimal))
                if f.role == "erdf":  # an ERDF amount: the project is ERDF-funded
                    for inst in instruments:
                        if any(fold(a) == "erdf" for a in (inst.label, *(x for x, _ in inst.alt_labels))):
                            project.add(RG.fundedBy, inst.ref)
        elif f.role in ("start_date", "end_date"):
            when = parse_date(f.value)
            if when is not None:
                pred = RG.startDate if f.role == "start_date" else RG.endDate
                project.add(pred, Literal(when, datatype=XSD.date))
        elif f.role == "programme":
            programme = _entity_for_name(f.value, instruments)
            if programme is not None:
                project.add(RG.fundedBy, programme.ref)
    # organisations listed on the page (one name a line, after the partner description)
    for entity in organisations:
        if any(fold(entity.label) == fold(line.strip())
               for p in passages for line in p.text.splitlines() if line.strip()):
            project.add(RG.partner, entity.ref)
    # the site the page belongs to names its programme: "Project | 2 Seas"
    first_line = next((ln for p in passages[:1] for ln in p.text.splitlines() if ln.strip()), "")
    if "|" in first_line:
        site = first_line.split("|", 1)[1]
        for inst in instruments:
            if find_mentions(inst, site):
                project.add(RG.fundedBy, inst.ref)


#: confidence a region needs to become an ``rg:partnerRegion`` of a project
PARTNER_REGION_THRESHOLD = 0.7

# a sentence that says who takes part: partners, participants, hosts, a consortium
_PARTICIPATION = re.compile(
    r"(?:partner\w*|participa\w*|consorti\w*|together with|teamed up|join(?:ed|s)? forces|"
    r"take part|taking part|took part|involv\w*|work\w*(?:\s+\w+ly)?\s+together|cooperat\w* with|"
    r"collaborat\w* with|gathered|host\w*|værter|vært|deltag\w*|deltog|deltar|sammen med|"
    r"teilnehm\w*|beteiligt|zusammen mit|Gastgeber|avec|réun\w*|accueill\w*|samen met|deelnem\w*|"
    r"tillsammans med|medverk\w*|uczestni\w*|from \d+ (?:regions|countries)|fra \d+ \w+ regioner|"
    r"aus \d+ (?:Regionen|Ländern)|de \d+ régions|uit \d+ regio's|från \d+ regioner|"
    # the firms taking part, by origin: "virksomheder fra X", "Unternehmen aus X", "firmy z X"
    r"\b(?:companies|firms|businesses|enterprises|SMEs|participants|virksomheder|företag|bedrifter|"
    r"Unternehmen|Firmen|KMU|bedrijven|ondernemers|kmo's|entreprises|PME|empresas|pymes|imprese|aziende|"
    r"PMI|firmy|przedsiębiorstw\w*|przedsiębiorcy|yritykset|yrityksiä)\s+(?:\w+\s+)?"
    r"(?:from|fra|från|aus|uit|de|d'|des|del|da|dal|dalla|z|ze)\s)",
    re.IGNORECASE,
)
# an event of the project held in a region: "the workshop in Aarhus", "launch held in Hampshire"
_EVENT = re.compile(
    r"(?:workshop\w*|meeting\w*|launch\w*|event\w*|conference\w*|seminar\w*|visit\w*|gathered|held|"
    r"took place|hosted|kick-off|møde\w*|besøg\w*|konferen\w*|Treffen|Veranstaltung\w*|réunion\w*|"
    r"rencontre\w*|bijeenkomst\w*|möte\w*|träff\w*|spotkani\w*)",
    re.IGNORECASE,
)
_IN_BEFORE = re.compile(r"(?:\b(?:in|i|im|à|au|en|w|within)\s+(?:the\s+|der\s+|de\s+)?)$", re.IGNORECASE)
# a region named as a market or target, not as a participant: "enter the Chinese market",
# "export to China", "customers in China", "international markets (e.g. USA)"
_TARGET_BEFORE = re.compile(
    r"(?:market\w*|export\w*|enter\w*|customers?|clients?|buyers?|sell\w*|sales|abroad|foreign|"
    r"delegation of|marked\w*|eksport\w*|kunder|Markt|Märkte|Kunden|marché\w*|clients|markt\w*|"
    r"exportera\w*|rynk\w*)\b[^.;:]{0,40}$",
    re.IGNORECASE,
)
_TARGET_AFTER = re.compile(r"^[\s\w-]{0,12}\b(?:market\w*|marked\w*|Markt|marché)", re.IGNORECASE)
# "an Innovation Express project", "a second Interreg project": a project funded by the named one
_INDEFINITE_USE = re.compile(
    r"(?:\b(?:an?|one|first|second|third|several|other|many|\d+)\s+(?:[\w-]+\s+){0,3})$", re.IGNORECASE
)
_ANAPHORA = re.compile(
    r"^\W*(?:This|The|These|Dette|Denne|Dieses|Diese|Ce|Cette|Dit|Deze|Detta|Denna)\s+(?:[\w-]+\s+){0,2}?"
    r"(?P<head>project|initiative|network|partnership|consortium|projekt\w*|netværk\w*|Netzwerk|réseau|"
    r"netwerk|nätverk\w*|projet)\b",
    re.IGNORECASE,
)


# a sentence about "the project" of a document about one project: "Projektet er støttet af X"
_DEFINITE_PROJECT = re.compile(
    r"^\W*(?:(?:The|This|Our|Das|Dieses|Unser|Le|Ce|Notre|Het|Dit|Ons|El|Este|Il|Questo|Ten)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:project|initiative|Projekt|projet|proyecto|progetto|projekt)|Projektet|Prosjektet|Projekt|Hanke|Hankkeen)\b"
)


def _own_mentions(project: Entity, text: str) -> list[tuple[int, int]]:
    """Mentions of the project itself, not of projects funded by it ("an X project")."""
    out = []
    for start, end in find_mentions(project, text):
        after = text[end:end + 12]
        if re.match(r"[\s-]*(?:project|projekt|projet|Projekt)", after, re.IGNORECASE) and \
                _INDEFINITE_USE.search(text[max(0, start - 40):start]):
            continue
        out.append((start, end))
    return out


def _sentence_projects(sentences: Sequence[Sentence], projects: Sequence[Entity]) -> list[tuple[Entity, float] | None]:
    """The project each sentence is about, with how sure: named (1.0), referred to by
    "This network/project" (0.95), the only project named in its passage (0.85), the only
    project of a document that is about it (0.85: named in a fifth of its passages, or a short text)."""
    named = [[p for p in projects if _own_mentions(p, s.text)] for s in sentences]
    # "a second X project": the sentence is about a project funded by X, not about X
    other_project = [any(find_mentions(p, s.text) for p in projects) and not here
                     for s, here in zip(sentences, named, strict=True)]
    n_passages = len({s.position for s in sentences})
    main = projects[0] if len(projects) == 1 and (
        n_passages <= 12 or len(projects[0].passages) >= 0.2 * n_passages) else None
    by_passage: dict[int, set[int]] = {}
    for sentence, here in zip(sentences, named, strict=True):
        by_passage.setdefault(sentence.position, set()).update(id(p) for p in here)
    # a case story under its own heading is about the one project named only there and only in a
    # quotation, even where the name comes last ("“Our membership in the SoundCare project ...”");
    # a project the story names in its own prose ("funding ... for the X project") states its facts there
    section = _sections(sentences)
    sections_of: dict[int, set[int]] = {}
    for sec, here in zip(section, named, strict=True):
        for proj in here:
            sections_of.setdefault(id(proj), set()).add(sec)
    section_project: dict[int, Entity] = {}
    quoted_only = {id(p) for p in projects if all(
        s.text[:1] in "\"“„«‘'" for s, here in zip(sentences, named, strict=True) if p in here)}
    for sec in set(section):
        own = [p for p in projects if sections_of.get(id(p)) == {sec} and id(p) in quoted_only]
        if len(own) == 1:
            section_project[sec] = own[0]
    out: list[tuple[Entity, float] | None] = []
    last: list[Entity] = []  # projects in order of their last mention
    for sentence, here, other in zip(sentences, named, other_project, strict=True):
        if other:
            out.append(None)
        elif len(here) == 1:
            out.append((here[0], 1.0))
        elif here:
            out.append(None)
        else:
            anaphora = _ANAPHORA.match(sentence.text)
            chosen: tuple[Entity, float] | None = None
            if anaphora:
                head = fold(anaphora.group("head"))[:5]
                for proj in reversed(last):
                    if head.startswith("proj") or head in fold(proj.label):
                        chosen = (proj, 0.95)
                        break
            if chosen is None:
                ids = by_passage.get(sentence.position, set())
                own_section = section_project.get(section[len(out)])
                if len(ids) == 1:
                    chosen = (next(p for p in projects if id(p) in ids), 0.85)
                elif own_section is not None:
                    chosen = (own_section, 0.85)
                elif main is not None:
                    chosen = (main, 0.85)
            out.append(chosen)
        for proj in here:
            if proj in last:
                last.remove(proj)
            last.append(proj)
    return out


def _is_heading(sentence: Sentence, following: Sentence | None) -> bool:
    """A title line: short, capitalised, without closing punctuation, followed by a new sentence."""
    text = sentence.text
    return ("\n" not in text and 2 <= len(text.split()) <= 12 and text[:1].isupper()
            and not re.search(r"[.!?:;,\"”’)]$", text) and not text.startswith(("(", "-", "•", "|"))
            and (following is None or not following.text[:1].islower()))


def _sections(sentences: Sequence[Sentence]) -> list[int]:
    """The section of each sentence: a new one starts at every heading."""
    out, current = [], 0
    for i, sentence in enumerate(sentences):
        if _is_heading(sentence, sentences[i + 1] if i + 1 < len(sentences) else None):
            current += 1
        out.append(current)
    return out


# a leading clause of time or circumstance: "After meeting at the X Conference in Berlin, ..."
_SETTING_CLAUSE = re.compile(
    r"^\W*(?:After|Before|Following|During|Since|Nach|Vor|Während|Seit|Efter|Før|Under|Après|Avant|Lors|Depuis|"
    r"Na|Tras|Después|Antes|Durante|Dopo|Prima|Durante|Po|Przed|Podczas)\b[^,;:.]{0,160},"
)


def _region_evidence(text: str, spans: list[tuple[int, int]]) -> float:
    """How strongly a sentence says the region at ``spans`` takes part (0 for a target market)."""
    best = 0.0
    setting = _SETTING_CLAUSE.match(text)
    for start, end in spans:
        before = text[max(0, start - 60):start]
        if _TARGET_BEFORE.search(before) or _TARGET_AFTER.match(text[end:end + 20]):
            continue
        if setting and end <= setting.end():
            best = max(best, 0.55)  # "After meeting at a conference in Berlin, ...": where, not who
        elif _PARTICIPATION.search(text):
            best = max(best, 0.9)
        elif _EVENT.search(text) and _IN_BEFORE.search(text[max(0, start - 12):start]):
            best = max(best, 0.85)
        else:
            best = max(best, 0.55)
    return best


def partner_region_scores(
    projects: Sequence[Entity], sentences: Sequence[Sentence], regions: Sequence[Entity],
    lang: str | None = None,
) -> dict[EntityRef, dict[EntityRef, float]]:
    """Confidence, per project and region, that the region takes part in the project.

    A region counts where a sentence about the project (see :func:`_sentence_projects`) names it
    in a participation structure (partners, a consortium, "from 5 regions (A, B, C)") or as the
    place of one of the project's events; regions named as markets or targets do not count. A
    country is dropped where the same sentence gives a finer region in it ("Aarhus, Denmark").
    ``lang``: the document's language (inflected names count in pl, cs, sk: "z Litwy")."""
    scores: dict[EntityRef, dict[EntityRef, float]] = {}
    about = _sentence_projects(sentences, projects)
    for sentence, target in zip(sentences, about, strict=True):
        if target is None:
            continue
        project, scope = target
        found: dict[EntityRef, float] = {}
        elliptic = _elliptic_regions(sentence.text)
        for region in regions:
            spans = find_mentions(region, sentence.text, lang) or elliptic.get(region.ref.key, [])
            if spans:
                found[region.ref] = _region_evidence(sentence.text, spans) * scope
        # participants by nationality: "a Swedish and an Estonian company" (0.85, 0.9 with a cue)
        for ref, spans in _demonym_regions(sentence.text).items():
            if _region_evidence(sentence.text, spans) > 0:  # not a market or a target
                evidence = 0.9 if _PARTICIPATION.search(sentence.text) else 0.85
                found[ref] = max(found.get(ref, 0.0), evidence * scope)
        for ref in list(found):
            info = _region_info(ref)
            if info is not None and info.level == 0 and any(
                (other := _region_info(o)) is not None and o != ref and other.country_code == info.country_code
                and found[o] >= min(found[ref], PARTNER_REGION_THRESHOLD) for o in found
            ):
                del found[ref]
        have = scores.setdefault(project.ref, {})
        for ref, score in found.items():
            have[ref] = max(have.get(ref, 0.0), score)
    return scores


def _demonym_regions(text: str) -> dict[EntityRef, list[tuple[int, int]]]:
    """Countries whose nationality adjective describes participants in the text."""
    try:
        from ingest.extract.regions import country_region, demonym_mentions
    except ImportError:
        return {}
    out: dict[EntityRef, list[tuple[int, int]]] = {}
    for iso, span in demonym_mentions(text):
        info = country_region(iso)
        if info is not None:
            out.setdefault(info.ref, []).append(span)
    return out


def _elliptic_regions(text: str) -> dict[str, list[tuple[int, int]]]:
    """Regions named by an elliptic coordination ("East & West Flanders" names East Flanders)."""
    try:
        from ingest.extract.gazetteer import resolve_region
        from ingest.extract.regions import elliptic_names
    except ImportError:
        return {}
    out: dict[str, list[tuple[int, int]]] = {}
    for name, span in elliptic_names(text):
        ref = resolve_region(name)
        if ref is not None:
            out.setdefault(ref.key, []).append(span)
    return out


def _region_info(ref: EntityRef):  # type: ignore[no-untyped-def]
    try:
        from ingest.extract.gazetteer import region_by_key
    except ImportError:
        return None
    return region_by_key(ref.key)


def _link(
    project: Entity,
    projects: Sequence[Entity],
    sentences: Sequence[Sentence],
    regions: Sequence[Entity],
    organisations: Sequence[Entity],
    instruments: Sequence[Entity],
    region_scores: dict[EntityRef, float] | None = None,
    lang: str | None = None,
) -> None:
    """Partner regions, partners, lead partner, funding and budgets from the project's text
    (``lang``: the document's language, for inflected programme names)."""
    # a document about one project talks about it even where it does not name it
    single = len(projects) == 1
    own = [s for s in sentences if s.position in project.passages]
    named = [s for s in own if _own_mentions(project, s.text)]
    others = [p for p in projects if p is not project]
    for sentence in own if single else named:
        text = sentence.text
        if not single and any(find_mentions(o, text) for o in others) and not find_mentions(
            project, text
        ):
            continue
        if _own_mentions(project, text) or (single and _DEFINITE_PROJECT.match(text)):
            inst_spans = {inst.ref: find_mentions(inst, text, lang) for inst in instruments}
            for inst in instruments:
                # "Interreg" inside "the BSR Interreg programme" is the specific programme
                spans = [sp for sp in inst_spans[inst.ref] if not any(
                    o[0] <= sp[0] and sp[1] <= o[1] and o != sp for ref, os in inst_spans.items()
                    if ref != inst.ref for o in os)]
                if spans and _funds(text, spans):
                    project.add(RG.fundedBy, inst.ref)
        for org in organisations:
            spans = find_mentions(org, text)
            if not spans:
                continue
            lead = _LEAD_CUE.search(text)
            if lead and any(s >= lead.end() and s - lead.end() <= 5 for s, _ in spans):
                project.add(RG.leadPartner, org.ref)
                project.add(RG.partner, org.ref)
            elif _PARTICIPATION.search(text):
                project.add(RG.partner, org.ref)
        if find_mentions(project, text):
            budget = _BUDGET_TEXT.search(text)
            if budget and not any(p == RG.budgetEUR for p, _ in project.attributes):
                amount = parse_amount(budget.group("amount"))
                if amount is not None and amount >= 1000:
                    project.add(RG.budgetEUR, Literal(amount, datatype=XSD.decimal))
            erdf = _ERDF_TEXT.search(text)
            if erdf and not any(p == RG.erdfEUR for p, _ in project.attributes):
                amount = parse_amount(erdf.group("amount"))
                if amount is not None and amount >= 1000:
                    project.add(RG.erdfEUR, Literal(amount, datatype=XSD.decimal))
    # the regions its partners are located in (a region seen only in a partner's name stands
    # for its country where the text names that country as a place)
    places = {r.ref for r in regions}
    scores = dict(region_scores or {})
    for org_ref in [v for p, v in project.attributes if p == RG.partner and isinstance(v, EntityRef)]:
        for region_ref in _region_refs_of(org_ref, organisations):
            info = _region_info(region_ref)
            if region_ref in places:
                scores[region_ref] = max(scores.get(region_ref, 0.0), 0.8)
            elif info is not None and info.country_code:
                country = next((r for r in places if (ci := _region_info(r)) is not None and ci.level == 0
                                and ci.country_code == info.country_code), None)
                if country is not None:
                    scores[country] = max(scores.get(country, 0.0), 0.75)
    chosen = [ref for ref, score in scores.items() if score >= PARTNER_REGION_THRESHOLD]
    for region_ref in chosen:
        # the most specific region stated: not Scotland beside the Highlands and Islands
        info = _region_info(region_ref)
        if info is not None and info.nuts_code and any(
                (other := _region_info(o)) is not None and info.nuts_code in (other.parent_codes or [])
                for o in chosen if o != region_ref):
            continue
        project.add(RG.partnerRegion, region_ref)
    project.attributes = [(p, v) for p, v in project.attributes if not (p == RG.fundedBy and v == project.ref)]
    description = next((s.text for s in named if len(s.text) > 40), None)
    if description and project.lang:
        project.add(DCTERMS.description, Literal(description[:1000], lang=project.lang))


_FUNDS = re.compile(
    r"(?:fund\w*|financ\w*|co-financ\w*|support\w*\s+(?:by|from|under)|grant\w*|finansier\w*|"
    r"støtte\w*|gefördert|finanziert|Förderung|financé|cofinancé|financement|gefinancierd|"
    r"subsidie\w*|medfinansier\w*|rahoitt\w*|finansowan\w*|dofinansowan\w*|financiad\w*|finanziat\w*)",
    re.IGNORECASE,
)


def _funds(text: str, spans: list[tuple[int, int]]) -> bool:
    """The instrument at ``spans`` funds the project: a funding word in the sentence, or the
    instrument names the kind of project ("an Interreg project", "Interreg Europe funded project")."""
    if _FUNDS.search(text):
        return True
    return any(re.match(r"[\s-]*(?:funded\s+)?(?:project|projekt|projet|Projekt)", text[e:e + 20], re.IGNORECASE)
               for _, e in spans)


__all__ = ["PARTNER_REGION_THRESHOLD", "acronym_matches", "find_projects", "initials", "label_pattern",
           "partner_region_scores"]
