"""Organisations named in free text: councils, agencies, clusters, chambers, companies, universities.

Found by patterns that need evidence beyond capitalisation: a legal form (GmbH, A/S, AB, Ltd...), an
organisational head word in one of the corpus languages (Council, Agency, Universität, Kommune,
Kamer van Koophandel, -styrelsen...), a field/value layout ("Lead partner: ..."), an enumeration after
"partners (...)", an acronym defined in parentheses, or a name attributed to a speaker ("..., Manager
at X"). Each organisation gets ``rg:locatedIn`` and ``rg:countryCode`` when its name or its passage
names a region. Person names, generic phrases ("the Council") and known instruments or regions are not
organisations.
"""

from __future__ import annotations

import re
from functools import cache

from rdflib import Literal

from ingest.document import Passage
from ingest.extract.gazetteer import (
    KnownOrganisation,
    known_organisations,
    region_by_key,
    resolve_instrument,
    resolve_region,
)
from ingest.extract.model import Entity, EntityRef
from ingest.extract.projects import acronym_matches
from ingest.extract.text_utils import PhraseMatcher, fold, is_acronym, name_key, slug, surface, tokenize
from kg.namespaces import RG

_W = r"(?:[dl]['’])?[A-ZÀ-ÞØÆÅ][\w'’&-]*"  # a capitalised word ("l’Innovation" too)
_CONNECT = r"(?:of|for|and|the|de|du|des|la|le|van|von|der|für|&|pour|et|di|del|della|dei|do|da|dos|das|per|lo)"
_NAME = rf"{_W}(?:[ \t]+(?:{_CONNECT}[ \t]+)*{_W}){{0,7}}"

_LEGAL = (
    r"GmbH(?:\s*&\s*Co\.?\s*KG)?|AG|A/S|ApS|AB|BV|B\.V\.|NV|N\.V\.|Ltd\.?|Limited|LLP|plc|PLC|SAS|SARL|S\.A\.|SA|"
    r"S\.r\.l\.|Srl|S\.p\.A\.|SpA|Oy|Oyj|ASA|AS|HF|hf|e\.V\.|KG|Inc\.?|LLC|sp\.\s*z\s*o\.o\.|S\.L\.|SL|vzw|VZW|asbl|ASBL"
)
_LEGAL_RE = re.compile(rf"(?<![\w])((?:{_W}|[a-z][\w-]+)(?:[ \t]+(?:{_CONNECT}[ \t]+)*{_W}){{0,5}})[ \t]+({_LEGAL})(?![\w])")

_HEADS = (
    r"County Council|City Council|Borough Council|District Council|Council|Agency|Agencies|Chamber of Commerce|"
    r"Chamber|Chambers|University|Universität|Universitet|Universitetet|Université|Universiteit|Università|"
    r"Universidad|Uniwersytet|Hochschule|Hogeschool|College|Institute|Institut|Instituut|Instituttet|Institutet|"
    r"Innovation Centre|Innovation Center|Research Centre|Research Center|Centre|Center|Cluster|Association|"
    r"Associations|Association pour|Federation|Foundation|Stichting|Stiftung|Fondation|Kommune|Kommun|Gemeente|"
    r"Provincie|Kamer van Koophandel|Handelskammer|Industrie- und Handelskammer|IHK|Ministry|Ministerium|"
    r"Ministère|Ministeriet|Department|Directorate|Commission|Authority|Office|EU Office|Hospital|Business Alliance|"
    r"Alliance|Partnership|Enterprise Partnership|Network|Netværk|Consortium|Confederation|Union|Academy|Akademie|"
    r"Board|Service|Services|Group|Company|Corporation|Bank|Lab|Labs|Park|Science Park|Business Park|Hub|"
    r"Ontwikkelingsmaatschappij|Maatschappij|Gesellschaft|Verband|Væksthus|Erhverv|"
    r"Landesregierung|Government|Secretariat|Observatory|Platform|Enterprise|Province|Provinz|Provincia|"
    r"Erhvervshus|Erhvervsfremme|Erhvervsråd|Agence|Agentur|Agencia|Agenzia|Agencja|Agentschap|Chambre|Camera|"
    r"Cámara|Izba|Kamer|Conseil|Consiglio|Fundacja|Fundación|Fondazione|Stowarzyszenie|Strefa|Urząd|"
    r"Politechnika|Fachhochschule|Wirtschaftsförderung|Sykehus|Sjukhus|Sygehus|Klinikum|Solutions|Consulting|"
    r"Technologies|Systems|Engineering|Software|Industries|Holding|Ventures|Partners|Directorate-General"
)
_HEAD_RE = re.compile(rf"\b(?:{_HEADS})\b(?!-)")
# a preposition of place or origin before "Region X": the region is named as a territory
_PLACE_PREPOSITION_RE = re.compile(
    r"\b(?:in|from|across|throughout|i|fra|från|aus|im|uit|de|du|dans|en|del|della|nella|dalla|z|ze|w|we)[ \t]+$",
    re.IGNORECASE,
)
# administrative words that make a region's name the name of its authority ("Emilia-Romagna Region")
_ADMIN_RE = re.compile(
    r"^(?:Region|Regionen|Région|Regione|Province|Provincie|Provinz|Provincia|County|Land|Landkreis|Kreis|"
    r"Gemeente|Kommune|Kommun|Municipality|City|Stadt|Ville|Województwo)\b|\b(?:Region|Regione|Province|"
    r"Provincie|County|Council|Kommune|Kommun|Municipality|Landkreis)$"
)
# a name used as the modifier of a common noun: "the Complex Cleantech Solutions methodology"
_MODIFIER_OF_RE = re.compile(
    r"^[ \t]+(?:methodology|method|approach|model|project|programme|program|tool|concept|framework|"
    r"strategy|initiative|call|scheme|award|prize|conference|event|report|study)\b"
)
# Danish/Swedish/German compounds that name an organisation by their ending
_COMPOUND_RE = re.compile(
    r"\b[A-ZÆØÅÄÖÜ][a-zæøåäöü]+(?:styrelsen|rådet|verket|instituttet|institutet|ministeriet|departementet|"
    r"universitetet|kommune|kammer|agentur|kammaren|förbundet|foreningen|forbundet|akademiet|erhvervshus|"
    r"sjukhuset|sykehuset|hospital|hospitalet|netværk|netværket|nätverket|"
    r"handelskammer|wirtschaftsförderung|hochschule)\b"
)
_NAME_RE = re.compile(_NAME)
_FIELD_RE = re.compile(
    r"^\s*(?:Lead partner|Lead Partner|Leadpartner|Project partners?|Partners?|Beneficiary|Beneficiaries|"
    r"Organisation|Organization|Coordinator|Applicant|Kontraktansvarlig partner|Projektpartnere?|Partnere|"
    r"Federführender Partner|Projektträger|Begünstigter|Chef de file|Bénéficiaire|Begunstigde|Penvoerder|"
    r"Stödmottagare|Projektägare|Published by|Udgivet af|Herausgeber)(?:\s*[:\-–]\s*(.*)|\s*)$",
    re.IGNORECASE,
)
_ENUM_RE = re.compile(r"\bpartners?\s*\(([^()]{5,400})\)", re.IGNORECASE)
_ACRONYM_DEF_RE = re.compile(rf"({_NAME})\s*\(\s*(?:the\s+)?([A-Z][A-Za-z0-9&'’-]{{1,11}})\s*\)")
_ACRONYM_FIRST_RE = re.compile(rf"\b([A-Z][A-Z0-9&]{{1,9}})\s*\(\s*(?:the\s+)?({_NAME})\s*\)")
# "INSME, the International Network for Small and Medium Sized Enterprises"
_ACRONYM_APPOSITION_RE = re.compile(rf"\b([A-Z][A-Z0-9&]{{1,9}}),\s+the\s+({_NAME})")
_ACRONYM_DASH_RE = re.compile(rf"(?m)(?:^|\s)([A-Z][A-Z0-9&]{{1,9}})\s+[–-]\s+({_NAME})")
_ATTRIBUTION_RE = re.compile(
    rf"\b(?:Manager|Director|CEO|[Aa]dvis[eo]r|Consultant|Researcher|Head|Coordinator|Officer|President|"
    rf"Chairman|Secretary General|[Oo]wner|Founder|Partner|Specialist)[\w /&]{{0,40}}?(?:\s+at|,)\s+({_NAME})"
)
_SME_RE = re.compile(
    rf"(?:\(|^|\.\s)({_NAME}),\s+(?:[A-Z][a-z]+\s+)?(?:SME|company|startup|virksomhed|Unternehmen|företag)\b"
)
_CLUSTER_RE = re.compile(
    rf"\b(?:the|The)\s+(?:(?:Danish|Swedish|German|French|Norwegian|Finnish|Estonian|Latvian|Dutch|Polish)\s+)?"
    rf"({_NAME})\s+cluster(?:s)?\b(?!\s+organi)"
)
_REGION_ORG_RE = re.compile(r"\b(?:Region|Regionen|Regione|Région|Landkreis|Kreis|Provincie|Provinz)\s+[A-ZÀ-ÞØÆÅ][\w-]+")
_TABLE_PERSON_RE = re.compile(r"(?m)^\s*(?:[a-z]+\s+)?[A-ZÀ-Þ][\w'’-]+(?:\s[A-ZÀ-Þ][\w'’-]+)?,\s+[A-ZÀ-Þ][\w-]+\s+")
_NOT_ORG_WORDS = re.compile(
    r"\b(?:Your|Our|How|What|Why|Get|Use|Make|Develop|Maintain|Understand|Choose|Strategic|Lessons|Models|"
    r"Conference|Conferences|Workshop|Workshops|Event|Events|Session|Sessions|Matchmaking|Meeting|Call|Calls|"
    r"Programme|Programmes|Program|Fund|Facility|Initiative|Initiatives|Scheme|Project|Projects|Annex|Figure|"
    r"Head|Manager|Director|Chief|Senior|Officer|Consultant|Specialkonsulent|Formerly|Including)\b"
)
# "Aisense (Slovenia)", "KeyGene (the Netherlands)": a name with its country in parentheses
_COUNTRY_PAREN_RE = re.compile(
    rf"(?:^|[,;:•]\s*|\band\s+|\b(?:are|were|include|includes|including|such as)\s+)((?:[a-z]+[A-Z][\w-]*|{_W})(?:[ \t]+{_W}){{0,2}})\s+\((?:the\s+)?(?=[A-Z])"
    rf"(?:Austria|Belgium|Bulgaria|Croatia|Cyprus|Czechia|Denmark|Estonia|Finland|France|Germany|Greece|Hungary|"
    rf"Ireland|Italy|Latvia|Lithuania|Luxembourg|Malta|Netherlands|Poland|Portugal|Romania|Slovakia|Slovenia|Spain|"
    rf"Sweden|Norway|Iceland|Switzerland|United Kingdom|UK|Israel|Turkey|Ukraine|USA|Japan|China|India|Canada)"
    rf"(?:/[A-Z][a-z]+)?\)",
    re.MULTILINE,
)
# "Danish partners - AgroTech and FoodNetwork -", "partners: X, Y and Z"
_PARTNER_DASH_RE = re.compile(
    rf"\bpartners?\s*(?:[-–—:]\s+)((?:{_W}(?:[ \t]+{_W}){{0,3}})(?:\s*(?:,|and|og|und|et|en|och)\s*{_W}(?:[ \t]+{_W}){{0,3}})*)"
)
# a quotation's attribution: "(Carl Romlin, Project Manager, Drinor AB)", "(Arne Madsen, AEM Engineering)"
_QUOTE_ATTRIBUTION_RE = re.compile(r"\(([A-ZÀ-Þ][\w'’-]+(?:\s[A-ZÀ-Þ][\w'’-]+){1,2},[^()\n]{3,90})\)")
_ROLE_RE = re.compile(
    r"\b(?:Manager|Director|CEO|owner|Owner|advisor|Advisor|Adviser|Consultant|Head|Coordinator|Officer|"
    r"President|Chairman|Founder|Specialist|Researcher|Professor|participant|SME|from|Senior|Chief|Partner)\b"
)
_PARTICIPANT_ROW_RE = re.compile(
    r"(?m)^[ \t]*(?:[a-z]+\s)?[A-ZÀ-Þ][\w'’-]+(?:\s[A-ZÀ-Þ][\w'’-]+)?,\s+[A-ZÀ-Þ][\w'’.-]+"
    r"[ \t]+(\S.*?)[ \t]*$"
)


# "together with X", "teamed up with the X", "a cooperation with X": a named partner
_WITH_RE = re.compile(
    rf"\b(?:together with|teamed up with|joined forces with|partnered with|(?:co-?operation|collaboration|"
    rf"partnership|agreement|contract) with|sammen med|samarbejde med|zusammen mit|Kooperation mit|"
    rf"samen met|samenwerking met|tillsammans med|samarbete med|współpracy z|en partenariat avec)\s+"
    rf"(?:the\s+|de\s+|der\s+|dem\s+|het\s+)?({_NAME}[^.;:()\n]{{0,200}})"
)
_BROUGHT_RE = re.compile(
    rf"\bbrought\s+(?:the\s+)?({_NAME})\s+together\s+with\b|(?:^|[.;:]\s+|,\s+)({_NAME})\s+(?:established|started|"
    rf"signed|entered into|began)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:collaboration|cooperation|partnership|agreement|contract)"
)
# a former or later name: "ELTRA (today Energinet.dk)", "Teknopol (now Skåne Innovation)"
_RENAMED_RE = re.compile(
    rf"({_W}(?:[ \t]+{_W}){{0,3}})\s*\((?:today|now|formerly|previously|tidligere|nu|heute|früher|jetzt|"
    rf"anciennement|aujourd['’]hui|voorheen|nu|tidigare|numera|obecnie)\s+([^()\n]{{2,60}})\)"
)
# "the Swedish SME Ewa Solutions", "the company X", "virksomheden X", "das Unternehmen X"
_KIND_NAMED_RE = re.compile(
    rf"\b(?:SME|company|firm|start-?up|virksomheden|firmaet|Unternehmen|Firma|l['’]entreprise|la société|"
    rf"het bedrijf|företaget|bolaget|spółka|przedsiębiorstwo)\s+({_W}(?:[ \t]+{_W}){{0,3}})"
)
# "... is managed by X", "led by the X", "géré par X", "Liderem projektu jest X"
_AGENT_RE = re.compile(
    rf"\b(?:(?:managed|run|operated|led|coordinated|hosted|implemented)\s+by|géré\w*\s+par|piloté\w*\s+par|"
    rf"porté\w*\s+par|coordonné\w*\s+par|ledet\s+af|drevet\s+af|drives\s+af|koordineret\s+af|"
    rf"geleitet\s+von|koordiniert\s+von|betrieben\s+von|geleid\s+door|beheerd\s+door|gecoördineerd\s+door|"
    rf"drivs\s+av|leds\s+av|koordineras\s+av|prowadzon\w*\s+przez|kierowan\w*\s+przez|"
    rf"(?:[Ll]ead partner|[Ll]eadpartner|[Cc]hef de file|[Pp]envoerder|[Ll]ider\w*\s+projektu)\s+(?:is|ist|est|er|är|jest))"
    rf"\s+(?:the\s+|la\s+|le\s+|l['’]|de\s+|der\s+|die\s+|dem\s+|het\s+)?({_NAME})"
)
# a sentence that lists the partners: "Project partners are A, B and C."
_PARTNERS_ARE_RE = re.compile(
    r"\b(?:[Pp]roject ?[Pp]artners?|[Pp]artners?|[Pp]artnere|[Pp]artnerne|[Pp]artenaires|[Pp]artnerzy)\s+"
    r"(?:are|were|include|includes|zijn|waren|sind|waren|er|var|är|var|sont|étaient|to|są)\s*:?\s+([^.\n]{3,400})|"
    r"\b(?:[Ss]ocios|[Pp]artner)\s+(?:del\s+(?:proyecto|progetto)\s+)?(?:son|sono)\s*:?\s+([^.\n]{3,400})"
)
# a list of names in parentheses after a plural organisation noun:
# "two clusters from Sweden (Paper Province and Tretorget)"
_PLURAL_LIST_RE = re.compile(
    r"\b(?:clusters?|companies|firms|organi[sz]ations?|agencies|universities|institutions|members|"
    r"test ?beds|hospitals|networks?|klynger|virksomheder|Unternehmen|Cluster|entreprises|bedrijven|"
    r"kluster|företag)\b[^()\n.;]{0,40}\(([^()]{3,400})\)"
)
# a quotation followed by its source in parentheses: “…” (TTC Norge)
_QUOTE_SOURCE_RE = re.compile(rf"[.!?…][”\"]\s*\(({_W}(?:[ \t]+{_W}){{0,4}})\)")
# "Kontakt: Mette Jensen, Business Region North Denmark"
_CONTACT_RE = re.compile(
    r"(?m)^\s*(?:Contact|Kontakt|Kontaktperson|Ansprechpartner\w*|Contacto|Contatto|Contactpersoon)\s*:\s*"
    r"[^,\n]{3,40},\s*(?:[^,\n]{2,40},\s*)?([^,\n]{2,80}?)\s*$"
)
# "DG Research & Innovation", "Directorate-General for Regional and Urban Policy"
_DG_RE = re.compile(rf"\b(?:DG|Directorate-General(?:\s+for)?)[ \t]+({_NAME})")
# a name with its own web address: "Læs mere om Unique North: http://uniquenorth.com/"
_NAME_URL_RE = re.compile(
    rf"({_W}(?:[ \t]+{_W}){{0,3}})\s*[:(–-]?\s*(?:https?://)?(?:www\.)?([a-z0-9-]{{2,40}})\.[a-z]{{2,4}}\b"
)
# a domain written as a name: "Energinet.dk"
_DOMAIN_NAME_RE = re.compile(r"(?<![\w/.@])([A-Z][A-Za-z0-9-]{2,30}\.(?:dk|se|no|fi|de|nl|be|fr|eu|com|org))(?![\w/])")
# a name whose first words only qualify an organisation named after "of the": "State Aid of the
# European Commission" (the head word belongs to the second part)
_OF_THE_RE = re.compile(r"^(.+?)\s+(?:of|for|at)\s+the\s+(.+)$")
# a department named after a role: "Head of Membership Services"
_ROLE_OF_RE = re.compile(
    r"\b(?:Head|Director|Manager|Chief|Officer|Secretary|President|Chair)\s+(?:General\s+)?(?:of|for)\s+$"
)
_LEGAL_LOWER_RE = re.compile(
    rf"(?<![\w])({_W}[ \t]+(?!(?:and|og|und|och|et|en|the|der|die|das|de|the|in|i|of|for)\b)[a-zæøåäöü]{{3,}})"
    rf"[ \t]+(HF|ASA|AS|AB|A/S|ApS|GmbH|Oy|Oyj|BV|NV|Ltd)(?![\w])"
)
_DEMONYMS = {
    "danish", "swedish", "german", "french", "norwegian", "finnish", "estonian", "latvian", "lithuanian",
    "polish", "dutch", "belgian", "british", "irish", "italian", "spanish", "austrian", "icelandic",
    "nordic", "scandinavian", "chinese", "european", "american", "japanese", "english", "scottish", "welsh",
    "flemish", "walloon", "baltic", "portuguese", "greek", "czech", "slovak", "hungarian", "romanian",
}


def _strip_country_column(org: str) -> str:
    """Drop a trailing country column ("Innovate UK UK", "Dialogic The Netherlands", "... EU")."""
    words = org.split()
    for size in (3, 2, 1):
        if len(words) > size:
            tail = " ".join(words[-size:])
            if tail in ("EU",) or (_is_country(tail) and not (size == 1 and words[-1] == words[-2])):
                return " ".join(words[:-size]).strip(" ,;")
            if size == 1 and len(words) > 2 and words[-1] == words[-2]:
                return " ".join(words[:-1])
    return org.strip(" ,;")


_CLUSTER_NAMED_RE = re.compile(rf"\bcluster\s+(?:organi[sz]ation\s+)?({_NAME})")

_NATIONALITY = re.compile(
    r"^(?:the\s+|The\s+)?(?:Danish|Swedish|German|French|Norwegian|Finnish|Estonian|Latvian|Lithuanian|Polish|"
    r"Dutch|Belgian|British|Irish|Italian|Spanish|Austrian|Icelandic|Nordic|Scandinavian|Chinese|local|"
    r"agro business|food|forest industry|Swedish/Norwegian)\s+"
)
_STOP_NAMES = {
    name_key(s)
    for s in ["", "Council ", "Commission ", "Agency ", "University ", "Region ", "Network ", "Cluster ", "Centre ", "Board ", "Office ", "Ministry ", "Chamber ", "Partnership ", "Government ", "Department"]
    if s.strip()
} | {name_key(s) for s in ("Council", "Commission", "Region", "Network", "Cluster", "Centre", "Office", "Board",
                            "Service", "Group", "Union", "European Union", "EU", "Partner", "Partners", "Lead partner",
                            "Project Manager", "Communication manager", "Chief Executive", "Cluster Manager",
                            "Annex", "Figure", "Table", "Priority Axis", "Specific objective", "Target", "Theme",
                            "Type", "Phase", "SME", "SMEs", "Innovation", "Research", "The", "This", "These", "For",
                            "In", "Our", "Their", "We", "Lead", "Project")}
_GENERIC_FIRST = {"the", "a", "an", "this", "that", "these", "those", "our", "their", "its", "each", "every",
                  "all", "both", "other", "several", "many", "some", "such", "regional", "national", "local",
                  "european", "international", "public", "private", "new", "business", "cluster", "innovation",
                  "den", "det", "de", "der", "die", "das", "le", "la", "les", "het", "en", "et", "og"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "our", "their", "its", "each", "every", "all",
                "both", "other", "several", "many", "some", "such", "den", "det", "der", "die", "das", "le", "la",
                "les", "het"}
_GENERIC_SINGLE_HEADS = {"region", "council", "agency", "university", "network", "cluster", "centre", "center",
                         "office", "board", "group", "service", "services", "partnership", "alliance", "union",
                         "commission", "department", "ministry", "chamber", "institute", "hub", "lab", "platform"}


def _clean(name: str) -> str:
    name = re.sub(r"[¹²³⁰-⁹]+", "", name)  # footnote marks
    name = re.split(r"[’']s\s", name)[0]
    name = re.sub(r"\s+", " ", name).strip(" ,.;:–-\"'“”‘’()")
    words = name.split()
    while len(words) > 2 and (words[-1] == "EU" or _is_country(" ".join(words[-2:])) or _is_country(words[-1])):
        cut = 2 if _is_country(" ".join(words[-2:])) else 1
        if not _HEAD_RE.search(" ".join(words[:-cut])) and not _LEGAL_RE.search(" ".join(words[:-cut])):
            break
        words = words[:-cut]
    name = " ".join(words)
    name = _NATIONALITY.sub("", name)
    name = re.sub(r"^(?:the|The|THE)\s+", "", name)
    name = re.sub(r"\s+(?:and|og|und|et|en|of|for|the|&|in|i)$", "", name)
    return name.strip()


def _is_country(text: str) -> bool:
    ref = resolve_region(text)
    info = region_by_key(ref.key) if ref is not None else None
    return info is not None and (info.level == 0 or info.key.startswith("country-"))


def _plausible(name: str, strong: bool = False, listed: bool = False) -> bool:
    """A name that can be an organisation: not generic, not a person, region or instrument.

    ``strong``: the context already says it is an organisation (a cluster, a partner list, a
    participant table), so a two-word name such as "Medical Valley" is not taken for a person."""
    if len(name) < 2 or len(name) > 90 or (_NOT_ORG_WORDS.search(name) and not (listed and " " in name)):
        return False
    if name[:1].islower() and not _LEGAL_RE.search(name) and not (listed and re.match(r"[a-z]+[A-Z]", name)):
        return False
    key = name_key(name)
    if not key or key in _STOP_NAMES:
        return False
    words = name.split()
    if words[0].casefold() in _DETERMINERS and len(words) <= 2:
        return False
    if len(words) == 1 and (words[0].casefold() in _GENERIC_SINGLE_HEADS | _DEMONYMS or _HEAD_RE.fullmatch(name)):
        return False
    if all(w.casefold() in _GENERIC_SINGLE_HEADS or w.casefold() in _DETERMINERS for w in words):
        return False
    if resolve_instrument(name) is not None:
        return False
    if resolve_region(name) is not None and not _HEAD_RE.search(name) and not _REGION_ORG_RE.match(name) and not _COMPOUND_RE.search(name):
        info = region_by_key(resolve_region(name).key)  # type: ignore[union-attr]
        if not (strong and _ADMIN_RE.search(name) and info is not None and info.level not in (None, 0)):
            return False
    # "Peter Grant": two plain capitalised words and nothing organisational
    # (a word that is a place makes it a name of a body: "Normandie Attractivité")
    person_like = len(words) == 2 and all(re.fullmatch(r"[A-ZÀ-Þ][a-zà-ÿ]+", w) for w in words) and not any(
        resolve_region(w) is not None for w in words)
    return strong or not person_like or bool(
        _HEAD_RE.search(name) or _COMPOUND_RE.search(name) or _REGION_ORG_RE.match(name)
    )


def _split_coordination(name: str) -> list[str]:
    """'X and Y Council' -> the parts that are organisations by themselves; a region before 'and' stays."""
    # "&" joins the words of one name ("Lifestyle & Design Cluster", "Research & Innovation")
    parts = re.split(r"\s+(?:and|og|und|och|et|en)\s+", name)
    if len(parts) == 1:
        return [name]
    left, right = parts[0], " ".join(parts[1:])
    if re.search(r"\s(?:for|of|für|de|pour|van|voor|för|af)\s", left) and not _has_head(right):
        return [name]  # "Department for Research and Innovation"
    if resolve_region(left) is not None and not _HEAD_RE.search(left) and not _REGION_ORG_RE.match(left):
        return [name]
    out = [p for p in parts if _HEAD_RE.search(p) or _COMPOUND_RE.search(p) or _REGION_ORG_RE.match(p)]
    return out or [right]


def _has_head(name: str) -> bool:
    return bool(_HEAD_RE.search(name) or _COMPOUND_RE.search(name) or _LEGAL_RE.search(name))


def _head_names(text: str, original: str = "") -> list[tuple[str, int]]:
    """Capitalised names that contain an organisational head word or compound."""
    out = []
    spans: list[tuple[int, int]] = []
    for m in _NAME_RE.finditer(text):
        name = m.group()
        if not (_HEAD_RE.search(name) or _COMPOUND_RE.search(name)):
            continue
        spans.append(m.span())
        if _MODIFIER_OF_RE.match(text[m.end():m.end() + 20]):
            continue
        if re.search(r"\b(?:Services?|Unit|Department|Division|Section|Team)$", name) and re.search(
                _ROLE_OF_RE.pattern.rstrip("$") + re.escape(name), original or text):
            continue  # "Head of Membership Services": a department, not an organisation
        of_the = _OF_THE_RE.match(name)
        if of_the and not _has_head(of_the.group(1)) and _has_head(of_the.group(2)):
            out.append((of_the.group(2), m.start() + name.index(of_the.group(2))))
            continue
        out.append((name, m.start()))
    for m in _COMPOUND_RE.finditer(text):
        if not any(s <= m.start() and m.end() <= e and (s, e) != m.span() for s, e in spans):
            out.append((m.group(), m.start()))
    return out


def _trim_to_head(name: str) -> str:
    """Drop leading sentence words before an organisation name ('In Kent County Council' -> 'Kent County Council')."""
    words = name.split()
    while len(words) > 1 and words[0].casefold() in {"in", "at", "from", "by", "with", "and", "for", "to",
                                                      "since", "through", "via", "contact", "kontakt",
                                                      "læs", "mere", "om", "specialkonsulent", "hos", "bei",
                                                      "von", "dr.", "mr.", "ms.", "prof.", "formerly",
                                                      "including", "i", "og", "sme", "smes", "company",
                                                      "firm", "startup", "start-up"}:
        words = words[1:]
    return " ".join(words)


def find_organisations(passages: list[Passage]) -> list[Entity]:
    """Organisations mentioned in the passages, with acronyms, ``rg:locatedIn`` and ``rg:countryCode``."""
    found: dict[str, Entity] = {}
    acronyms: dict[str, str] = {}  # acronym -> key of the organisation

    def add(passage: Passage, raw: str, confidence: float = 0.8, acronym: str | None = None,
            strong: bool = False, exact: bool = False, listed: bool = False) -> Entity | None:
        name = raw if exact else _clean(_trim_to_head(_clean(raw)))
        nationality = _NATIONALITY.match(re.sub(r"^\s*(?:the|The)\s+", "", _trim_to_head(raw.strip())))
        if not exact and nationality and nationality.group()[:1].isupper() and len(name.split()) == 1 \
                and not name.isupper() and not _has_head(name):
            name = f"{nationality.group().strip()} {name}"  # "Nordic Medtest": part of the name
        if not _plausible(name, strong, listed):
            return None
        key = slug(name)
        for have in found.values():  # a name already known as another name of an organisation
            if key != have.ref.key and any(slug(a) == key for a, _ in have.alt_labels):
                key = have.ref.key
                break
        if key in acronyms.values() or (key not in found and name in acronyms):
            key = acronyms.get(name, key)
        ent = found.get(key)
        if ent is None:
            ent = Entity(ref=EntityRef("Organisation", key), label=name, lang=None, confidence=confidence)
            found[key] = ent
        ent.passages.add(passage.position)
        ent.confidence = max(ent.confidence, confidence)
        if acronym and acronym != name:
            acronyms[acronym] = key
            if (acronym, None) not in ent.alt_labels:
                ent.alt_labels.append((acronym, None))
        # "the Danish Sound Innovation Network": the nationality may be part of the name
        if not exact and nationality and nationality.group()[:1].isupper() and len(name.split()) >= 2 \
                and not name.startswith(nationality.group().strip()):
            full = f"{nationality.group().strip()} {name}"
            if full != ent.label and (full, None) not in ent.alt_labels:
                ent.alt_labels.append((full, None))
        return ent

    def add_list(passage: Passage, value: str, confidence: float, clause: bool = False) -> None:
        """Items of an enumeration ("A, B and C"; "A in Norway; B, C in Sweden"), each an organisation
        when it is not a region or a person."""
        value = re.sub(r"\s+(?:in|im|w)\s+(?:the\s+)?[A-ZÀ-Þ][\w-]+(?:\s+(?:of\s+)?[A-ZÀ-Þ][\w-]+){0,3}"
                       r"(?=\s*(?:[;,)]|$|\s+and\s))", "", value)
        items: list[str] = []
        for chunk in re.split(r"\s*[,;]\s*", value):
            # "A and B" are two names, but not "Department for Research and Innovation"
            parts = re.split(r"\s+(?:and|og|und|et|en|och|oraz|i|y|e)\s+", re.sub(r"^(?:and|og|und|et|en|och|oraz|i|y|e)\s+", "", chunk))
            if len(parts) > 1 and (re.search(r"\s(?:for|of|für|de|pour|van|voor|för|af)\s", parts[0]) or re.search(
                    r"\s(?:and|og|und)\s+[A-ZÀ-Þ][\w-]*\s+(?:cluster|network|organi[sz]ation|association|company)\b",
                    chunk)):
                # "the Oslo Renewable Energy and Environment cluster": one name
                parts = [re.sub(r"^(?:and|og|und|et|en|och|oraz|i)\s+", "", chunk)]
            items.extend(parts)
        previous: Entity | None = None
        for item in items:
            if previous is not None and re.match(r"(?:Department|Division|Unit|Faculty|Institute for)\b", item):
                previous.alt_labels.append((item.strip(" ."), None))  # a unit of the item before it
                continue
            item = re.sub(r"^(?:the|de|het|der|die|das|le|la|les|l['’]|el|los|las|il|lo|gli)\s+", "", item.strip(), flags=re.IGNORECASE)
            acr = re.search(r"\(([A-Z][A-Z0-9&-]{1,9})\)\s*$", item)
            item = re.sub(r"\s*\([^)]*\)\s*$", "", item).strip(" .:")
            item = re.split(r"\s+[–—-]\s+", item)[0]
            if clause:  # the name, not the rest of the clause
                name = _NAME_RE.match(item)
                item = name.group() if name else ""
            if item and item[:1].isupper() and len(item.split()) <= 7:
                previous = add(passage, item, confidence, acronym=acr.group(1) if acr else None, strong=True)

    previous_field = False
    # a participant table ("Surname, First name  Organisation  Country"), one row a line
    participant_table = sum(len(_PARTICIPANT_ROW_RE.findall(p.text)) for p in passages) >= 5
    for passage in passages:
        rows_text = passage.text
        text = _TABLE_PERSON_RE.sub("", passage.text)
        # field/value layouts: "Lead partner: X" or a label passage followed by the value passage
        stripped = text.strip()
        if previous_field and stripped and len(stripped) < 120 and "\n" not in stripped:
            add(passage, stripped, 0.9)
        previous_field = False
        for line in text.splitlines():
            fm = _FIELD_RE.match(line)
            if fm:
                value = (fm.group(1) or "").strip()
                if value:
                    for item in re.split(r"\s*[;,]\s*", value):
                        if item:
                            add(passage, item, 0.9, strong=True)
                elif line.strip() == stripped:
                    previous_field = True
        for m in _ENUM_RE.finditer(text):
            for item in re.split(r"\s*(?:,|;|\band\b|&(?=\s*the\b))\s*", m.group(1)):
                item = item.strip()
                if (item and item[:1].isupper()) or item.startswith("the "):
                    add(passage, item, 0.85)
        for m in _ACRONYM_DEF_RE.finditer(text):
            name, acr = m.group(1), m.group(2)
            if _HEAD_RE.search(name) or _COMPOUND_RE.search(name) or _LEGAL_RE.search(name):
                parts = _split_coordination(name)
                for part in parts[:-1]:
                    add(passage, part, 0.85)
                add(passage, parts[-1], 0.9, acronym=acr)
        for m in _ACRONYM_FIRST_RE.finditer(text):
            acr, name = m.group(1), m.group(2)
            if _HEAD_RE.search(name):
                ent = add(passage, acr, 0.85)
                if ent is not None and (name, None) not in ent.alt_labels:
                    ent.alt_labels.append((_clean(_NATIONALITY.sub("", name)), None))
        for m in _ACRONYM_APPOSITION_RE.finditer(text):
            acr, name = m.group(1), _clean(m.group(2))
            if _has_head(name) and name[:1] == acr[:1] and acronym_matches(acr, name):
                add(passage, name, 0.85, acronym=acr)
        for m in _ACRONYM_DASH_RE.finditer(text):
            acr, name = m.group(1), m.group(2)
            if _HEAD_RE.search(name):
                add(passage, name, 0.85, acronym=acr)
        for m in _LEGAL_RE.finditer(text):
            base = _clean(m.group(1))
            if base[:1].islower() and re.search(r"[A-ZÀ-Þ][\w-]*[ \t]+$", text[:m.start(1)]):
                continue  # "Sunnaas sykehus HF": see _LEGAL_LOWER_RE
            if (base and not base[:1].islower()) or (base.isalpha() and " " not in base):
                ent = add(passage, f"{base} {m.group(2)}", 0.9)
                if ent is not None:
                    acronyms.setdefault(base, ent.ref.key)
        for name, _ in _head_names(text, rows_text):
            for part in _split_coordination(name):
                add(passage, part, 0.75)
        for m in _REGION_ORG_RE.finditer(text):
            # "virksomheder fra Region Sjælland", "companies in Region X": the territory, not its authority
            if resolve_region(m.group()) is not None and not _PLACE_PREPOSITION_RE.search(text[:m.start()]):
                add(passage, m.group(), 0.8)
        for rx in (_ATTRIBUTION_RE, _SME_RE):
            for m in rx.finditer(text):
                add(passage, m.group(1), 0.7)
        for rx in (_CLUSTER_RE, _CLUSTER_NAMED_RE, _COUNTRY_PAREN_RE):
            for m in rx.finditer(text):
                before = text[:m.start(1)].rstrip()
                if rx is _COUNTRY_PAREN_RE and "\n" in text[len(before):m.start(1)] and re.search(
                        r"(?:^|\s)[A-ZÀ-Þ][\w-]*$", before):
                    continue  # the tail of a name broken over two lines ("Ad Solem / Acceleration")
                if rx is _CLUSTER_RE and re.match(r"\s*clusters\b", text[m.end(1):]):
                    # "the Danish X Cluster and Swedish Y clusters": two clusters
                    for part in re.split(r"\s+(?:and|og|und|och)\s+", m.group(1)):
                        add(passage, part, 0.7, strong=True)
                    continue
                add(passage, m.group(1), 0.7, strong=True, listed=rx is _COUNTRY_PAREN_RE)
        for m in _WITH_RE.finditer(text):
            add_list(passage, m.group(1), 0.7, clause=True)
        for rx in (_BROUGHT_RE, _KIND_NAMED_RE, _CONTACT_RE):
            for m in rx.finditer(text):
                if rx is _KIND_NAMED_RE and resolve_instrument(m.group()) is not None:
                    continue  # "SME Instrument"
                add(passage, next(g for g in m.groups() if g), 0.7, strong=True)
        for m in _RENAMED_RE.finditer(text):
            later = add(passage, m.group(2), 0.7, strong=True)
            if later is not None or _has_head(m.group(1)):
                add(passage, m.group(1), 0.7, strong=True)
        for m in _AGENT_RE.finditer(text):
            add(passage, m.group(1), 0.75)
        for m in _QUOTE_SOURCE_RE.finditer(text):
            add(passage, m.group(1), 0.7)
        joined = re.sub(r"(\b(?:and|of|for|&))[ \t]*\n\s*|[ \t]*\n\s*(?=(?:and|&|of|for)\s)", r"\1 ", text)
        for m in _DG_RE.finditer(joined):
            add(passage, f"DG {_strip_country_column(m.group(1))}", 0.8, strong=True)
        for m in _NAME_URL_RE.finditer(text):
            if re.sub(r"[^a-z0-9]", "", fold(m.group(1))) == m.group(2).replace("-", ""):
                add(passage, m.group(1), 0.8, strong=True)
        for m in _DOMAIN_NAME_RE.finditer(text):
            add(passage, m.group(1), 0.7, strong=True)
        for m in _LEGAL_LOWER_RE.finditer(text):
            add(passage, f"{m.group(1)} {m.group(2)}", 0.85)
        for m in _PARTNERS_ARE_RE.finditer(text):
            add_list(passage, m.group(1) or m.group(2), 0.8)
        for m in _PLURAL_LIST_RE.finditer(text):
            # one item only: an organisation by its own words, not an abbreviation ("SMV’er")
            if re.search(r"[,;]|\s(?:and|og|und|et|en|och)\s", m.group(1)) or _has_head(m.group(1)):
                add_list(passage, m.group(1), 0.7)
        for known, surface_name in _known_in(text):
            ent = add(passage, known.pref_label, 0.9, strong=True, exact=True)
            if ent is not None:
                if surface_name != ent.label and (surface_name, None) not in ent.alt_labels:
                    ent.alt_labels.append((surface_name, None))
                if known.country_code:
                    ent.add(RG.countryCode, Literal(known.country_code))
        for m in _PARTNER_DASH_RE.finditer(text):
                for item in re.split(r"\s*(?:,|\band\b|\bog\b|\bund\b|\bet\b|\ben\b|\boch\b)\s*", m.group(1)):
                    if item and item[:1].isupper():
                        add(passage, item, 0.7, strong=True)
        for m in _QUOTE_ATTRIBUTION_RE.finditer(text):
            parts = [p.strip() for p in m.group(1).split(",")]
            org = next((p for p in reversed(parts[1:]) if p[:1].isupper() and not _ROLE_RE.search(p)
                        and resolve_region(p) is None), None)
            if org is not None:
                add(passage, org, 0.7, strong=True)
        rows = list(_PARTICIPANT_ROW_RE.finditer(rows_text))
        if participant_table:  # a participant table: "Surname, First name  Organisation  Country"
            for m in rows:
                parts = re.split(r"\s+/\s+", _strip_country_column(m.group(1)))
                for org in parts:
                    org = re.split(r"\s+at\s+", org)[-1]  # "Secretary General at INSME"
                    if org[:1].islower():
                        continue  # running text, not a table row
                    org = re.split(r"\s+[–—-]\s+|;\s*|,\s+(?=[A-Z])|,\s+the\s", org)[0]
                    if len(parts) > 1:  # "WEPROG Germany / Den.": each part may end in a country
                        org = _strip_country_column(org)
                    acr = re.search(r"\(([A-Z][A-Z0-9&-]{1,9})\)", org)
                    org = re.sub(r"\s*\([^)]*(?:\)|$)", "", org).strip()
                    if org and len(org) > 2:
                        add(passage, org, 0.75, acronym=acr.group(1) if acr else None, strong=True)

    for acr, key in list(acronyms.items()):
        dup = found.get(slug(acr))
        if dup is not None and key in found and dup.ref.key != key:
            found[key].passages |= dup.passages
            del found[dup.ref.key]
    for key, ent in list(found.items()):
        for other in list(found.values()):
            if other is ent:
                continue
            names = [other.label, *(a for a, _ in other.alt_labels)]
            # "Helsinki University" cut before "hospital"; "DG Research" cut at a line break
            cut_before_noun = any(re.fullmatch(rf"{re.escape(ent.label)} [a-zæøåäöü]+", n) for n in names)
            cut_at_and = any(re.match(rf"{re.escape(ent.label)}\s+(?:&|and|und|og|et)\s", n) for n in names)
            if (cut_before_noun and ent.passages <= other.passages) or cut_at_and:
                other.passages |= ent.passages
                del found[key]
                break
    _link_mentions(passages, found, acronyms)
    for ent in found.values():
        _locate(ent, passages)
    return list(found.values())


@cache
def _known_matcher() -> PhraseMatcher[tuple[str, KnownOrganisation]]:
    return PhraseMatcher((name, (name, org)) for org in known_organisations() for name, _ in org.labels)


def _known_in(text: str) -> list[tuple[KnownOrganisation, str]]:
    """Well-known bodies (``ontology/gazetteer/organisations.toml``) named in the text, as written:
    acronyms in capitals, names capitalised."""
    tokens = tokenize(text)
    out: list[tuple[KnownOrganisation, str]] = []
    for first, last, values in _known_matcher().find(tokens):
        written = surface(text, tokens, first, last)
        for name, org in values:
            if (is_acronym(name) and written == name) or (
                    not is_acronym(name) and written[:1].isupper() == name[:1].isupper()):
                out.append((org, written))
                break
    return out


def _link_mentions(passages: list[Passage], found: dict[str, Entity], acronyms: dict[str, str]) -> None:
    """Later mentions of a found name or acronym add their passages."""
    names = {ent.label: key for key, ent in found.items()}
    names.update({a: k for a, k in acronyms.items() if k in found})
    for passage in passages:
        for name, key in names.items():
            if len(name) >= 2 and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", passage.text):
                found[key].passages.add(passage.position)


def _locate(ent: Entity, passages: list[Passage]) -> None:
    """rg:locatedIn / rg:countryCode from a region named inside the organisation's name."""
    tokens = tokenize(ent.label)
    best = None
    for size in range(len(tokens), 0, -1):
        for i in range(0, len(tokens) - size + 1):
            piece = ent.label[tokens[i].start : tokens[i + size - 1].end]
            if not piece[:1].isupper():
                continue
            ref = resolve_region(piece)
            if ref is not None:
                best = ref
                break
        if best is not None:
            break
    if best is None:
        return
    info = region_by_key(best.key)
    ent.add(RG.locatedIn, best)
    if info is not None and info.country_code:
        ent.add(RG.countryCode, Literal(info.country_code))
