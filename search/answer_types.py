"""What a question asks for when it asks how to reach someone, and which passages hold it.

"Welche Telefonnummer hat …?", "Hvor på nettet kan jeg finde …?", "Quelle est l'adresse e-mail
de …?": such a question names the project and the person, and so does every passage around the
contact block that answers it, so the topical evidence (the passage vector, MaxSim, the best
sentence) ranks the document's lead or closing paragraph as high as the block itself. What
tells them apart is what the question asks for — a phone number, an e-mail address, a web
address — and those are written the same way in every language. A question's asked types are
read from cue words in the European languages of the corpora (:data:`TYPES`); a passage's held
types from the shape of the text itself (``+45 2946 8880``, ``name@host.eu``, ``https://…``).
The re-ranker (search/late.py) gives the candidates that hold an asked type a fixed bonus in
standard units (``BONUS``; measured in docs/benchmarks.md).

Cues are kept narrow on purpose: "contact" alone (as in "international contacts") or "online"
asks for nothing, and a phone-shaped number needs a ``+``/``00`` country code or a phone word
before it, so a budget (``6 000 000``) or a project code never reads as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: Standard units added to a re-ranking candidate that holds what the question asks for.
BONUS = 3.0
#: Passages holding an asked type that join the re-ranking from below its head (the first
#: ``late.HEAD_MAX`` fused results), at most.
JOIN = 5


#: How each type is named where the search says how it read a question.
NAMES = {"phone": "a phone number", "email": "an e-mail address", "web": "a web address", "contact": "a contact"}


@dataclass(frozen=True)
class AnswerType:
    """One kind of answer: the cues that ask for it (casefolded query) and the text that holds it."""

    name: str
    asks: re.Pattern[str]
    holds: re.Pattern[str]


_PHONE_WORD = r"(?:tel|tlf|ph|phone|telephone|t[ée]l[ée]phone|telef[oó]n|telefoon|puh|puhelin|mob|mobil|mobile|gsm)"
_GAP = r"[ \u00a0.-]"  # what separates a phone number's groups (never a tab or a line break: table cells)
_PHONE = re.compile(
    rf"(?:(?<![\w+.,/-])(?:\+|00) ?\d{{1,3}}(?:{_GAP}?\(0\))?(?:{_GAP}?\d{{2,4}}){{2,5}}(?![\d]))"
    rf"|(?:\b{_PHONE_WORD}\.?{_GAP}*(?:nr\.?|no\.?|n°)?{_GAP}*:?{_GAP}*\+? ?\(?\d(?:[\d()/]|{_GAP}){{6,}}\d)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
_WEB = re.compile(r"https?://\S+|\bwww\.[\w-]+\.\w+", re.IGNORECASE)

TYPES: tuple[AnswerType, ...] = (
    AnswerType(
        "phone",
        re.compile(
            # telephone/Telefon/telefoon/téléphone/teléfono/telefono, phone (not smartphone), tlf/tel, puhelin (fi)
            r"t[eé]l[eé]f[oóô]+n|t[eé]l[eé]phon|\bphone|\btlf\b|\btel\b|\bpuhelin|\bnumer\w* (?:de )?tel"
        ),
        _PHONE,
    ),
    AnswerType(
        "email",
        re.compile(
            r"e-?mail|\bmail(?:adres\w*)?\b|courriel|adresse [ée]lectronique|correo electr|posta elettronica"
            r"|s[aä]hk[oö]posti|\be-?post|\bmejl"
        ),
        _EMAIL,
    ),
    AnswerType(
        "web",
        re.compile(
            r"web ?site|web ?page|webpagina|webstek|webseite|internetseite|internetside|homepage|hjemmeside"
            r"|hemsida|webside|websted|webbplats|webbsida|nettside|nettsted|verkkosivu|kotisivu"
            r"|site (?:web|internet)|sitio web|sito (?:web|internet)|p[aá]gina web|strona (?:internetowa|www)"
            r"|\burl\b|web ?address|webadres\w*|webbadress\w*"
            r"|\b(?:på|im|on|sur|op|auf|en|su|via|i|w)\s+(?:the\s+|het\s+|dem\s+)?"
            r"(?:internet\w*|nett(?:et)?|net|netz|nätet|webben|web)\b"
            # "online" only in a question that asks where: "Where online can I read …", "Où trouver en ligne …"
            r"|^(?=.*\b(?:where|wo|où|waar|var|hvor|dove|dónde|gdzie|missä|mistä)\b)"
            r"(?=.*\b(?:online|en ligne|in linea|en l[ií]nea|w sieci|verkossa)\b)"
        ),
        _WEB,
    ),
    AnswerType(
        "contact",
        re.compile(
            r"contact ?pers|kontakt ?pers|personne (?:de )?contact|persona de contacto|persona di contatto"
            r"|contact (?:details|information|info)|kontaktdaten|kontaktinformation|kontaktoplysning"
            r"|kontaktuppgift|coordonn[ée]es|contactgegevens|yhteystie|yhteyshenkil"
            r"|\bkontakt(?:a|e|er|ieren)\b|\bcontact(?:er|eren)\b|\bwho (?:should|can|do|could) (?:i|we|you|one) contact"
            r"|\bwhom to contact|\bwho to contact"
        ),
        re.compile(f"{_PHONE.pattern}|{_EMAIL.pattern}", re.IGNORECASE),
    ),
)


def asked(query: str) -> frozenset[str]:
    """The answer types the question asks for (none for most questions)."""
    text = " ".join(query.casefold().split())
    return frozenset(t.name for t in TYPES if t.asks.search(text))


@lru_cache(maxsize=4096)
def held(text: str) -> frozenset[str]:
    """The answer types a passage's text holds."""
    return frozenset(t.name for t in TYPES if t.holds.search(text))


def described(types: frozenset[str]) -> list[str]:
    """The asked types as the search page and the CLI name them, in :data:`TYPES` order."""
    return [NAMES[t.name] for t in TYPES if t.name in types]
