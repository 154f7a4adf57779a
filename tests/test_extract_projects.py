"""Projects: names with acronyms in several languages, project pages, amounts and dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingest.document import Passage
from ingest.extract.fields import find_fields, parse_amount, parse_date
from ingest.extract.projects import acronym_matches, find_projects, initials
from kg.namespaces import RG

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"


def passages(*texts: str, lang: str = "en") -> list[Passage]:
    out, start = [], 0
    for i, text in enumerate(texts):
        out.append(Passage("doc", i, start, start + len(text), text, lang=lang))
        start += len(text) + 2
    return out


def projects(*texts: str, lang: str = "en") -> dict[str, object]:
    return {e.ref.key: e for e in find_projects(passages(*texts, lang=lang), lang)
            if e.ref.kind == "Project"}


def test_acronyms_are_read_from_word_initials() -> None:
    assert acronym_matches("EIS", "Everywhere International SMEs")
    assert acronym_matches("ABEIS", "Accelerating Bio-Economy Innovation for SMEs")
    assert not acronym_matches("EIS", "Kent County Council")
    assert initials("Innovative Sector Exchange") == "ISE"


def test_english_and_danish_mentions_give_one_project_key() -> None:
    en = projects("This event is part of the Interreg Europe funded project "
                  "Everywhere International SMEs (EIS), which will run until 2020.")
    da = projects('Workshoppen var et led i projektet "Everywhere International SMEs" (EIS), '
                  "hvor ni partnere fra syv regioner er gået sammen.", lang="da")
    assert set(en) == set(da) == {"eis"}
    assert en["eis"].label == "Everywhere International SMEs"  # type: ignore[attr-defined]
    assert ("EIS", None) in da["eis"].alt_labels  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "lang", "key"),
    [
        ("Das Projekt Grenzüberschreitende Innovations-Offensive (GIO) startet im Mai.", "de", "gio"),
        ("Le projet « Croissance Export Nord » accompagne 40 PME.", "fr", "croissance-export-nord"),
        ("Het project Slimme Maakindustrie Vlaanderen (SMV) helpt kmo's.", "nl", "smv"),
        ("Projektet Grön Export Norr (GEN) har hjälpt 30 företag.", "sv", "gen"),
        ("The SoundCare project connected Danish and German clusters.", "en", "soundcare"),
        ("The ABEIS project (Accelerating Bio-Economy Innovation for SMEs) focused on waste.",
         "en", "abeis"),
    ],
)
def test_names_next_to_the_word_project(text: str, lang: str, key: str) -> None:
    assert key in projects(text, lang=lang)


def test_organisations_with_acronyms_are_not_projects() -> None:
    found = projects("Region Midtjylland og Central Denmark EU Office (CDEU) var værter for "
                     "projektets workshop.", lang="da")
    assert "cdeu" not in found


def test_field_value_project_page() -> None:
    page = passages(
        "Green Harbour Transition | Interreg North Sea",
        "Lead partner\n\nPort of Esbjerg",
        "Project budget\n\n3 120 400",
        "ERDF amount\n\n1 560 200",
        "Start Date\n\n01/09/2019",
        "GHT is an Interreg project which supports ports from 4 regions.",
    )
    found = {e.ref.key: e for e in find_projects(page, "en")}
    project = found["ght"]
    values: dict[str, Any] = {str(p): v for p, v in project.attributes}
    assert project.label == "Green Harbour Transition"
    assert values[str(RG.budgetEUR)].toPython() == Decimal("3120400")
    assert values[str(RG.erdfEUR)].toPython() == Decimal("1560200")
    assert values[str(RG.startDate)].toPython() == date(2019, 9, 1)
    lead = values[str(RG.leadPartner)]
    assert lead.kind == "Organisation"
    assert any(e.ref == lead and e.label == "Port of Esbjerg" for e in found.values())


def test_fields_inline_and_block() -> None:
    fields = find_fields(passages("Theme: Innovation\nType: Service", "Chef de file\nCCI Nord"))
    assert [(f.role, f.value) for f in fields] == [
        ("theme", "Innovation"), ("type", "Service"), ("lead_partner", "CCI Nord")]


@pytest.mark.parametrize(
    ("text", "amount"),
    [("2 855 597", Decimal("2855597")), ("1.713.358", Decimal("1713358")),
     ("EUR 1,713,358.50", Decimal("1713358.50")), ("€1.2 million", Decimal("1200000")),
     ("EUR 6 mill", Decimal("6000000")), ("DKK 5 mio", None), ("n/a", None)],
)
def test_parse_amount(text: str, amount: Decimal | None) -> None:
    assert parse_amount(text) == amount


def test_parse_date() -> None:
    assert parse_date("2018-06-27") == date(2018, 6, 27)
    assert parse_date("27. juni 2017") == date(2017, 6, 27)
    assert parse_date("soon") is None


def test_empty_and_odd_text() -> None:
    assert find_projects([], "en") == []
    assert find_projects(passages("((( ))) -- : :", "\n\n\n"), "en") == []


def test_seed_project_page() -> None:
    page = SEEDS / "003_d0ed662208008e57.txt"
    if not page.exists():
        pytest.skip("seeds not present")
    text = page.read_text(encoding="utf-8")
    parts = [p for p in text.split("\n\n") if p.strip()]
    found = {e.ref.key: e for e in find_projects(passages(*parts), "en")}
    project = found["ise"]
    preds = {str(p) for p, _ in project.attributes}
    assert str(RG.budgetEUR) in preds and str(RG.erdfEUR) in preds
    assert str(RG.leadPartner) in preds
