"""Field/value layouts: "Lead partner" then "Kent County Council", "Budget: 2 855 597", ...

Project pages and good-practice records put facts in labelled fields, either on one line
("Theme: Innovation") or as a label line followed by a value line. This module finds those
fields in any of the supported languages and reads amounts and dates from their values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ingest.document import Passage
from ingest.extract.linking import fold

#: role -> field labels (folded) in en, da, de, fr, nl, sv, fi, pl, es, it
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "lead_partner": (
        "lead partner", "leadpartner", "lead-partner", "lead beneficiary", "lead organisation",
        "coordinator", "project coordinator", "hovedpartner", "ledende partner", "projektleder",
        "federfuhrender partner", "projekttrager", "chef de file", "partenaire principal",
        "beneficiaire principal", "coordinateur", "hoofdpartner", "penvoerder", "huvudpartner",
        "projektagare", "huvudsokande", "johtava partneri", "partner wiodacy", "lider projektu",
        "beneficiario principal", "socio principal", "capofila", "partner capofila",
    ),
    "budget": (
        "project budget", "total budget", "budget", "total eligible budget", "total cost",
        "total eligible cost", "total eligible costs", "eligible costs", "projektbudget",
        "samlet budget", "gesamtbudget", "gesamtkosten", "budget total", "budget du projet",
        "cout total", "projectbudget", "totale begroting", "begroting", "totalbudget",
        "total budget (eur)", "budjetti", "kokonaisbudjetti", "budzet projektu", "budzet",
        "presupuesto", "presupuesto total", "budget del progetto", "costo totale",
    ),
    "erdf": (
        "erdf amount", "erdf", "erdf contribution", "erdf funding", "efru", "feder",
        "montant feder", "contribution feder", "efre", "efre-mittel", "efre-forderung", "efro",
        "efro-bijdrage", "bijdrage efro", "eruf", "eakr", "efrr", "fesr", "contributo fesr",
        "eu funding", "eu contribution",
    ),
    "erdf_rate": ("erdf rate", "cofinancing rate", "co-financing rate", "taux feder"),
    "start_date": (
        "start date", "start", "startdato", "startdatum", "beginn", "projektbeginn",
        "date de debut", "debut", "begindatum", "alkamispaiva", "data rozpoczecia",
        "fecha de inicio", "data di inizio",
    ),
    "end_date": (
        "end date", "end", "slutdato", "enddatum", "ende", "projektende", "date de fin", "fin",
        "einddatum", "slutdatum", "paattymispaiva", "data zakonczenia", "fecha de fin",
        "fecha de finalizacion", "data di fine",
    ),
    "partners": (
        "partners", "project partners", "partner organisations", "partnere", "projektpartnere",
        "projektpartner", "partenaires", "partenaires du projet", "projectpartners",
        "kumppanit", "partnerzy", "socios", "partner del progetto",
    ),
    "region": (
        "region", "regions", "region(s)", "partner regions", "région", "régions", "region(en)",
        "regionen", "regio", "regio's", "regione", "regioni", "región", "regiones", "województwo",
        "maakunta", "landsdel", "län",
    ),
    "project": (
        "project", "project name", "project title", "project acronym", "acronym", "projet",
        "nom du projet", "titre du projet", "acronyme", "projekt", "projektname", "projekttitel",
        "projektnavn", "projekttitel", "projectnaam", "projecttitel", "projektnamn", "projekttitel",
        "nazwa projektu", "akronim", "hanke", "hankkeen nimi", "proyecto", "nombre del proyecto",
        "progetto", "titolo del progetto",
    ),
    "programme": (
        "programme", "program", "funding programme", "funded by", "financed by", "programm",
        "forderprogramm", "programma", "programa", "instrument",
    ),
    "evidence": (
        "evidence of success", "results", "resultater", "dokumentation for succes",
        "preuves de reussite", "resultats", "erfolgsnachweis", "ergebnisse", "bewijs van succes",
        "resultaten", "bevis pa framgang", "resultat", "tulokset", "rezultaty",
        "pruebas de exito", "resultados", "prove di successo", "risultati",
    ),
    "resources": (
        "resources needed", "resources", "ressourcer", "nodvendige ressourcer",
        "ressources necessaires", "benotigte ressourcen", "ressourcen", "benodigde middelen",
        "resurser som behovs", "resurser", "tarvittavat resurssit", "potrzebne zasoby",
        "recursos necesarios", "risorse necessarie",
    ),
    "difficulties": (
        "difficulties encountered", "challenges encountered", "difficulties", "challenges",
        "vanskeligheder", "udfordringer", "difficultes rencontrees", "schwierigkeiten",
        "herausforderungen", "moeilijkheden", "uitdagingen", "svarigheter", "utmaningar",
        "vaikeudet", "trudnosci", "dificultades", "difficolta incontrate",
    ),
    "transfer": (
        "potential for learning or transfer", "transfer potential", "transferability",
        "potentiale for overforsel", "overforbarhed", "potentiel de transfert",
        "transferabilite", "ubertragbarkeit", "transferpotenzial", "overdraagbaarheid",
        "overforbarhet", "siirrettavyys", "mozliwosc transferu", "transferibilidad",
        "trasferibilita",
    ),
    "theme": ("theme", "themes", "topic", "tema", "temaer", "thema", "themen", "theme(s)"),
    "type": ("type", "practice type", "typ", "tyyppi", "tipo"),
    "target": (
        "target", "target group", "target groups", "malgruppe", "malgrupper", "zielgruppe",
        "cible", "public cible", "groupe cible", "doelgroep", "malgrupp", "kohderyhma",
        "grupa docelowa", "destinatarios", "destinatari",
    ),
    "other": (
        "priority axis", "specific objective", "priority", "objective", "you are here",
        "url / download", "location", "sted", "ort", "lieu", "plaats",
    ),
}

_LABEL_TO_ROLE: dict[str, str] = {
    label: role for role, labels in FIELD_LABELS.items() for label in labels
}

#: roles whose labels may stand alone on a line, with the value on the next line
_BLOCK_ROLES = set(FIELD_LABELS) - {"theme", "type", "target"}
_INLINE = re.compile(r"^\s*([^\W\d][^:\n]{0,40}?)\s*:\s*(\S.*)$")


@dataclass(frozen=True)
class Field:
    """One labelled value: its role, the label as written, the value, and where it was."""

    role: str
    label: str
    value: str
    position: int  # passage position of the value


def field_role(label: str) -> str | None:
    """The role of a field label in any supported language, or None."""
    return _LABEL_TO_ROLE.get(fold(label).rstrip(":").strip())


def _lines(passages: Sequence[Passage]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for passage in passages:
        for line in passage.text.splitlines():
            if line.strip():
                out.append((line.strip(), passage.position))
    return out


def find_fields(passages: Sequence[Passage]) -> list[Field]:
    """Fields found as ``Label: value`` lines or as a label line followed by a value line."""
    lines = _lines(passages)
    fields: list[Field] = []
    i = 0
    while i < len(lines):
        text, position = lines[i]
        role = field_role(text)
        if role is not None and role in _BLOCK_ROLES and len(text) <= 45:
            values: list[tuple[str, int]] = []
            j = i + 1
            # a partner list runs over several lines; other fields take one line
            while j < len(lines) and field_role(lines[j][0]) is None and not _INLINE.match(lines[j][0]):
                values.append(lines[j])
                j += 1
                if role != "partners" or len(values) >= 30:
                    break
            if role == "partners":
                for value, pos in values:
                    fields.append(Field(role, text, value, pos))
            elif values and len(values[0][0]) <= 200:
                fields.append(Field(role, text, values[0][0], values[0][1]))
            i = j if values else i + 1
            continue
        match = _INLINE.match(text)
        if match:
            inline_role = field_role(match.group(1))
            if inline_role is not None:
                fields.append(Field(inline_role, match.group(1), match.group(2).strip(), position))
        i += 1
    return fields


_MULTIPLIERS: tuple[tuple[str, int], ...] = (
    (r"billions?|bn|mia\.?|mrd\.?|milliarder?|miljarder?|milliards?|miljard|mld", 10**9),
    (r"millions?|mill?\.?|mio\.?|mn|m|millioner?|miljoner?|miljoen|miljoonaa|milion(?:y|ów)?|"
     r"millones|milioni|meur", 10**6),
)
_OTHER_CURRENCY = re.compile(
    r"\b(?:DKK|SEK|NOK|GBP|PLN|CHF|USD|ISK|MDKK|MSEK|MNOK|kr\.?|kroner|kronor|zł)(?!\w)|[£$]"
)
_NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0.,’']\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d+)?")


def parse_amount(text: str) -> Decimal | None:
    """An amount in EUR read from text ("2 855 597", "€1.2 million", "EUR 6 mill").

    Returns None when no number is found or the text names another currency.
    """
    if _OTHER_CURRENCY.search(text):
        return None
    match = _NUMBER.search(text)
    if match is None:
        return None
    raw = match.group(0)
    value = _number_value(raw)
    if value is None:
        return None
    tail = text[match.end():match.end() + 14].strip().lower()
    for pattern, factor in _MULTIPLIERS:
        if re.match(rf"(?:{pattern})(?![a-zæøåäöü])", tail):
            value *= factor
            break
    return value.normalize() if value == value.to_integral() else value


def _number_value(raw: str) -> Decimal | None:
    groups = re.split(r"[ \u00a0.,’']", raw)
    seps = re.findall(r"[ \u00a0.,’']", raw)
    try:
        if not seps:
            return Decimal(raw)
        if len(groups[-1]) != 3:  # a decimal part: "1.2", "2,5", "1.713.358,50"
            whole = "".join(groups[:-1])
            return Decimal(f"{whole}.{groups[-1]}")
        if len(seps) == 1 and seps[0] in ".," and len(groups[0]) <= 3 and raw.count(seps[0]) == 1:
            # "1.210" or "1,5": ambiguous; three digits after one separator means thousands
            return Decimal("".join(groups))
        return Decimal("".join(groups))
    except InvalidOperation:
        return None


_MONTHS = {
    fold(name): number
    for number, names in enumerate(
        [
            ("january", "januar", "janvier", "januari", "enero", "gennaio", "jan"),
            ("february", "februar", "fevrier", "februari", "febrero", "febbraio", "feb"),
            ("march", "marts", "marz", "mars", "maart", "marzo", "mar"),
            ("april", "avril", "abril", "aprile", "apr"),
            ("may", "maj", "mai", "mei", "mayo", "maggio"),
            ("june", "juni", "juin", "junio", "giugno", "jun"),
            ("july", "juli", "juillet", "julio", "luglio", "jul"),
            ("august", "aout", "augustus", "augusti", "agosto", "aug"),
            ("september", "septembre", "septiembre", "settembre", "sep", "sept"),
            ("october", "oktober", "octobre", "octubre", "ottobre", "oct", "okt"),
            ("november", "novembre", "noviembre", "nov"),
            ("december", "dezember", "decembre", "diciembre", "dicembre", "dec", "dez"),
        ],
        start=1,
    )
    for name in names
}


def parse_date(text: str) -> date | None:
    """A date from "2017-04-01", "01/04/2017", "1.4.2017" or "1 April 2017"."""
    iso = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        dmy = re.search(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b", text)
        if dmy:
            return date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
        words = re.search(r"\b(\d{1,2})\.?\s+([^\W\d]+)\.?\s+(\d{4})\b", text)
        if words and fold(words.group(2)) in _MONTHS:
            return date(int(words.group(3)), _MONTHS[fold(words.group(2))], int(words.group(1)))
    except ValueError:
        return None
    return None
