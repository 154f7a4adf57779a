"""Regions named in free text: NUTS regions, counties, provinces, cities, macro-regions and countries.

Every mention resolves through :mod:`ingest.extract.gazetteer` to one region (NUTS IRI where one exists).
Context rules keep precision: names must be written as proper nouns, generic words are never regions,
a country written as the qualifier of a finer place ("Aarhus, Denmark") or inside a name ("Innovate UK")
adds nothing, and names ambiguous between countries (Limburg) are settled by the other regions of the
document or dropped.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from functools import cache

from rdflib import Literal

from ingest.document import Passage
from ingest.extract.gazetteer import (
    GENERIC_NAMES,
    ONTOLOGY_DIR,
    SHORT_NAMES,
    RegionInfo,
    iso_country,
    region_by_key,
    region_candidates,
    region_free_text_names,
    resolve_region,
)
from ingest.extract.linking import case_stem, inflecting
from ingest.extract.model import Entity
from ingest.extract.text_utils import PhraseMatcher, Token, fold, name_key, surface, tokenize
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


def _stem_phrase(name: str, lang: str) -> str:
    return " ".join(case_stem(t.key, lang) for t in tokenize(name))


@cache
def _case_matcher(lang: str) -> PhraseMatcher[tuple[str, str]]:
    """Names by the stems of their words, for text whose names take case endings ("z Litwy",
    "z Pomorza", "w Gdańsku"); names of five letters or more only."""
    return PhraseMatcher((_stem_phrase(name, lang), (name, key)) for name, key in region_free_text_names()
                         if sum(ch.isalpha() for ch in name) >= 5)


def _case_mentions(text: str, tokens: list[Token], taken: list[tuple[int, int]],
                   lang: str) -> list[tuple[int, int, list[tuple[str, str]]]]:
    """Inflected mentions of names (token spans outside ``taken``), each capitalised like its name."""
    stemmed = [Token(t.text, t.start, t.end, case_stem(t.key, lang)) for t in tokens]
    out = []
    for first, last, values in _case_matcher(lang).find(stemmed):
        if any(first < e and s < last for s, e in taken):
            continue
        if _proper(text, tokens, first, values):
            out.append((first, last, values))
    return out


def _proper(text: str, tokens: list[Token], first: int, values: list[tuple[str, str]]) -> bool:
    """The mention is written like the name: capitalised where the name is (and not an all-lower word)."""
    head = tokens[first].text
    for name, _ in values:
        if name in SHORT_NAMES and head != name:
            continue  # "UK", "US" only in capitals
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


# a row of a participant list: "Golding, David   Innovate UK   UK"
_PERSON_ROW = re.compile(r"^\s*[A-ZÀ-Þ][\w'’-]+(?:\s[\w'’-]+)?,\s+[A-ZÀ-Þ][\w'’-]+\s")


def _name_part_country(text: str, tokens: list[Token], first: int, last: int, info: RegionInfo) -> bool:
    """A country written as part of a name: 'Innovate UK', 'Inovamais Portugal' (not a place).

    The last word of a participant-list row is its country column, not part of the name."""
    if info.level not in (0, None) or (info.nuts_code is None and not info.key.startswith("country-")):
        return False
    if first == 0:
        return False
    prev = tokens[first - 1]
    between = text[prev.end : tokens[first].start]
    if between not in (" ", "\u00a0") or not prev.text[:1].isupper() or prev.text.lower() in _FUNCTION_WORDS:
        return False
    line_start = text.rfind("\n", 0, tokens[first].start) + 1
    line_end = text.find("\n", tokens[last - 1].end)
    rest = text[tokens[last - 1].end : line_end if line_end >= 0 else len(text)]
    return not (not rest.strip() and _PERSON_ROW.match(text[line_start:]))


# "(DK, FI, IS, LT, NO, SE)": a list of at least three country codes in parentheses
_CODE_LIST = re.compile(r"\(((?:[A-Z]{2}\b[^()\n]{0,12}?){3,})\)")


_FUNCTION_WORDS = {"in", "i", "im", "en", "au", "aux", "from", "fra", "aus", "de", "of", "and", "og", "und", "et",
                   "the", "to", "til", "nach", "para", "across", "within", "outside", "for", "med", "with", "och"}


def find_regions(passages: list[Passage], lang: str | None = None) -> list[Entity]:
    """Regions mentioned in the passages, one entity per region, with country and NUTS code.

    ``lang`` is the document's language, for passages without one of their own; in languages
    whose nouns take case endings (pl, cs, sk) inflected names count too ("z Litwy")."""
    matcher = _matcher()
    pending: list[tuple[Passage, str, list[str]]] = []  # ambiguous mentions, settled after the pass
    found: dict[str, Entity] = {}
    mentions: dict[str, int] = {}  # region key -> times named

    def add(passage: Passage, name: str, key: str) -> None:
        info = region_by_key(key)
        if info is None:
            return
        ent = found.get(key)
        if ent is None:
            ent = found[key] = region_entity(info)
        ent.passages.add(passage.position)
        mentions[key] = mentions.get(key, 0) + 1
        lang = passage.lang if passage.lang and passage.lang != "und" else None
        if name != ent.label and all(name_key(a) != name_key(name) for a, _ in ent.alt_labels):
            ent.alt_labels.append((name, lang))

    def add_written(passage: Passage, name: str, key: str, end: int) -> None:
        """Add a mention; "the Lublin region" also gives the name as written ("Lublin region")."""
        add(passage, name, key)
        after = re.match(r"[ \t]+(region|Region|regionen|Regionen|région|regione|regio)\b", passage.text[end:end + 12])
        if after:
            add(passage, f"{name} {after.group(1)}", key)

    for passage in passages:
        text = passage.text
        tokens = tokenize(text)
        extra = _ellipsis_names(text)
        for name in extra:
            ref = resolve_region(name)
            if ref is not None:
                add(passage, name, ref.key)
        spans = [(first, last, values, False) for first, last, values in matcher.find(tokens)]
        text_lang = passage.lang if passage.lang and passage.lang != "und" else lang
        if inflecting(text_lang):
            spans += [(first, last, values, True) for first, last, values in
                      _case_mentions(text, tokens, [(f, la) for f, la, _, _ in spans], text_lang or "")]
        for first, last, values, inflected in spans:
            # an inflected mention ("Litwy") stands for the name it inflects ("Litwa")
            name = surface(text, tokens, first, last)
            if inflected:  # the name the written form extends ("Gdańsku": Gdańsk, not Gdański)
                name = min((n for n, _ in values), key=lambda n: (not fold(name).startswith(fold(n)), -len(n)))
                values = [v for v in values if v[0] == name]
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
            if _name_part_country(text, tokens, first, last, info):
                continue
            add_written(passage, name, options[0], tokens[last - 1].end)
        for m in _CODE_LIST.finditer(text):
            codes = re.findall(r"(?<![A-Za-z])([A-Z]{2})(?![a-z])", m.group(1))
            if len(codes) < 3:
                continue
            for code in codes:
                ref = resolve_region(code)
                info = region_by_key(ref.key) if ref is not None else None
                if info is not None and info.level == 0 and iso_country(code) == info.country_code:
                    add(passage, code, ref.key)  # type: ignore[union-attr]

    per_country: dict[str, int] = {}
    for key in found:
        if (info := region_by_key(key)) is not None and info.country_code:
            per_country[info.country_code] = per_country.get(info.country_code, 0) + mentions.get(key, 1)
    for passage, name, options in pending:
        chosen = [k for k in options if (info := region_by_key(k)) and info.country_code in per_country]
        chosen_countries = {info.country_code for k in chosen if (info := region_by_key(k)) is not None}
        if len(chosen_countries) > 1:
            # the country most of the document's other regions are in ("Noord-Brabant, Limburg,
            # Eindhoven ... Antwerpen": the Dutch Limburg), if it is a clear majority
            ranked = sorted((c for c in chosen_countries if c), key=lambda c: -per_country[c])
            if len(ranked) > 1 and per_country[ranked[0]] > per_country[ranked[1]]:
                chosen_countries = {ranked[0]}
        if len(chosen_countries) == 1:
            ref = resolve_region(name, next(iter(chosen_countries)))
            if ref is not None:
                add(passage, name, ref.key)
    return list(found.values())


def regions_outside_names(regions: list[Entity], names: list[str], passages: list[Passage],
                          lang: str | None = None) -> list[Entity]:
    """The regions the text names as places, not only inside an organisation's name.

    "Oslo" in "Oslo Medtech" or "Pas-de-Calais" in "ADITEC Pas-de-Calais (...)" does not make the
    region a region of the document; the organisation keeps its ``rg:locatedIn``. A name ambiguous
    between countries is settled again by the places alone (a region may come back)."""
    if not names:
        return regions
    # "Region Värmland", "La Région Bretagne": the authority of a region names that region as a place
    authority = re.compile(r"^(?:Region|Regionen|Région|Regione|Regio|Provincie|Province|Provinz|Landkreis)\s")
    parts = sorted({n for n in names if len(n) >= 3 and not authority.match(n)}, key=len, reverse=True)
    if not parts:
        return regions
    # a name, and a capitalised word glued to it unless that word ends the line (a table column)
    body = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in parts)
    # (a footnote mark may follow the name: "Skåne Innovation²")
    masker = re.compile(rf"(?<!\w)(?:{body})(?:[ \t]+[A-ZÀ-Þ][\w-]*(?=[ \t]*[^\s]))?(?:(?!\w)|(?=[¹²³⁰-⁹]))",
                        re.IGNORECASE)
    masked = [replace(p, text=masker.sub(lambda m: " " * len(m.group(0)), p.text)) for p in passages]
    outside = find_regions(masked, lang)
    places = {e.ref.key for e in outside}
    have = {r.ref.key for r in regions}
    # a name ambiguous between countries is settled again by the places alone: "Interreg
    # Vlaanderen-Nederland" or "POM Antwerpen" do not make "Limburg" Belgian
    return [r for r in regions if r.ref.key in places] + [e for e in outside if e.ref.key not in have]


def elliptic_names(text: str) -> list[tuple[str, tuple[int, int]]]:
    """The names an elliptic coordination leaves out, with the span of the coordination."""
    out = []
    for m in _ELLIPSIS.finditer(text):
        direction, hyphen, head = m.group(1), m.group(2), m.group(3)
        out.append((f"{direction}{'-' if hyphen else ' '}{head}", (m.start(), m.end())))
    return out


def _ellipsis_names(text: str) -> list[str]:
    """Expand elliptic coordinations: 'East & West Flanders' -> ['East Flanders']."""
    out = []
    for m in _ELLIPSIS.finditer(text):
        direction, hyphen, head = m.group(1), m.group(2), m.group(3)
        out.append(f"{direction}{'-' if hyphen else ' '}{head}")
    return out


# --- nationality adjectives ("a Danish and a German company") --------------------------------------

DEMONYMS_FILE = ONTOLOGY_DIR / "gazetteer" / "demonyms.toml"
#: adjective endings added to the base forms of demonyms.toml, per language
_ADJECTIVE_ENDINGS = {"de": ("", "e", "er", "en", "em", "es"), "da": ("", "e"), "nb": ("", "e"), "no": ("", "e"),
                      "sv": ("", "a"), "nl": ("", "e"), "fr": ("", "e", "s", "es"), "es": ("", "s", "es")}
_POLISH_ADJECTIVE = ("i", "a", "ie", "iego", "iej", "im", "ich", "imi", "ą", "iemu")
#: nouns of participants that a nationality adjective can describe (word starts, any corpus language)
_PARTICIPANT_HEAD = (
    r"partner|compan|firm|SME|business|enterprise|cluster|organi[sz]ation|universit|institut|agenc|"
    r"municipalit|team|participant|start-?up|manufacturer|producer|supplier|designer|entrepreneur|"
    r"virksomhed|klynge|kluster|företag|bedrift|selskab|bolag|Unternehmen|Firm|Hochschule|Universität|"
    r"KMU|Betrieb|bedrij|kmo|universiteit|entreprise|PME|partenaire|pôle|société|université|empresa|pyme|"
    r"socio|universidad|clúster|impres|aziend|PMI|università|przedsiębior|uczel|klast|spółk"
)
_COORDINATION = r"(?:\s*(?:,|and|og|und|et|en|och|y|e|oraz|i)\s+(?:an?|one|two|three|ein\w*|en|et|ett|un|une|uno|una|jeden|jedna|\d+)?\s*)"


@cache
def _demonyms() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every nationality adjective, and folded form -> ISO country code.
    Capitalised forms (English, Dutch) match only as written; the others in any case."""
    data = tomllib.loads(DEMONYMS_FILE.read_text(encoding="utf-8")) if DEMONYMS_FILE.exists() else {}
    forms: dict[str, str] = {}
    written: set[str] = set()
    for iso, per_lang in data.items():
        for lang, values in per_lang.items():
            for value in values:
                if lang == "pl" and value.endswith("i"):
                    variants = [value[:-1] + e for e in _POLISH_ADJECTIVE]
                else:
                    variants = [value + e for e in _ADJECTIVE_ENDINGS.get(lang, ("",))]
                for variant in variants:
                    forms.setdefault(variant.lower(), iso)
                    written.add(variant)
    alternatives = [re.escape(f) if f[:1].isupper() else f"(?i:{re.escape(f)})"
                    for f in sorted(written, key=len, reverse=True)]
    body = "|".join(alternatives) or "(?!)"
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])"), forms


def demonym_mentions(text: str) -> list[tuple[str, tuple[int, int]]]:
    """(ISO country, span) of nationality adjectives that describe participants: "a Swedish and an
    Estonian company", "the Finnish cluster Arctic Food Tech", "the German Medical Valley cluster",
    "ein dänisches Unternehmen", "agencies – two Danish and one Dutch –". Not "the Chinese market"."""
    pattern, forms = _demonyms()
    found = list(pattern.finditer(text))
    out: list[tuple[str, tuple[int, int]]] = []
    for m in found:
        rest = text[m.end():m.end() + 120]
        # skip the other adjectives of a coordination: "a Swedish and an Estonian company"
        while True:
            nxt = re.match(_COORDINATION, rest)
            other = pattern.match(rest[nxt.end():]) if nxt else None
            if other is None:
                break
            rest = rest[nxt.end() + other.end():]  # type: ignore[union-attr]
        head_after = re.match(rf"\s+(?:[\w-]+\s+){{0,2}}?(?:{_PARTICIPANT_HEAD})", rest)
        named = m.group(0)[:1].isupper() and re.match(r"\s+(?:[A-ZÀ-Þ][\w&-]*\s*){1,4}", rest)
        head_before = re.search(rf"(?:{_PARTICIPANT_HEAD})\w*\s*[–—(:-]\s*(?:[\w-]+\s+){{0,4}}$",
                                text[max(0, m.start() - 80):m.start()])
        if head_after or named or head_before:
            iso = forms.get(m.group(0).lower())
            if iso:
                out.append((iso, (m.start(), m.end())))
    return out


def country_region(iso: str) -> RegionInfo | None:
    """The region of a country, by ISO 3166-1 alpha-2 code (NUTS level 0 where the country has one)."""
    nuts = {"GR": "EL", "GB": "UK"}.get(iso, iso)
    return region_by_key(nuts) or region_by_key(f"country-{iso.lower()}")


def region_entity(info: RegionInfo) -> Entity:
    """A new region entity with its gazetteer labels, country and NUTS code."""
    ent = Entity(ref=info.ref, label=info.pref_label, lang=None)
    if info.country_code:
        ent.add(RG.countryCode, Literal(info.country_code))
    if info.nuts_code:
        ent.add(RG.nutsCode, Literal(info.nuts_code))
    for text, lang in info.labels:
        if text != ent.label and (text, lang) not in ent.alt_labels:
            ent.alt_labels.append((text, lang))
    return ent
