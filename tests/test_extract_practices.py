"""Practices: the practice-type scheme, records, running text in several languages, evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.document import Passage
from ingest.extract.model import Entity, EntityRef
from ingest.extract.practices import find_practices, practice_types, type_of
from kg.namespaces import RG

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"
LANGS = ("en", "da", "de", "fr", "nl", "sv", "fi", "pl", "es", "it")


def passages(*texts: str, lang: str = "en") -> list[Passage]:
    out, start = [], 0
    for i, text in enumerate(texts):
        out.append(Passage("doc", i, start, start + len(text), text, lang=lang))
        start += len(text) + 2
    return out


def types_of(entity: Entity) -> set[str]:
    return {str(v).rsplit("/", 1)[-1] for p, v in entity.attributes if p == RG.practiceType}


def test_scheme_has_multilingual_types() -> None:
    types = practice_types()
    assert len(types) >= 16
    for ptype in types:
        assert set(LANGS) <= set(ptype.labels), ptype.slug
        assert ptype.definition
        assert str(ptype.iri).startswith("https://w3id.org/regiograph/id/practice-type/")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("two study visits to Skåne", "study-visit"),
        ("to virksomhedsbesøg i Aarhus", "study-visit"),
        ("eine Kooperationsbörse in Kiel", "matchmaking-event"),
        ("une mission commerciale au Québec", "trade-mission"),
        ("drie workshops voor kmo's", "workshop"),
        ("ett mentorprogram för unga företag", "coaching-mentoring"),
        ("a peer review of the region's business support", "peer-review"),
        ("31 taster sessions", "taster-session"),
    ],
)
def test_type_of_in_several_languages(text: str, slug: str) -> None:
    found = type_of(text)
    assert found is not None and found.slug == slug


def test_records_with_theme_type_target() -> None:
    text = ("Programme of export taster sessions delivered to SMEs\n\n"
            "Theme: Internationalisation\nType: Service\nTarget: SMEs /enterprises - Innovation agencies")
    (practice,) = find_practices(passages(*text.split("\n\n")), "en")
    assert practice.label == "Programme of export taster sessions delivered to SMEs"
    assert types_of(practice) == {"taster-session"}
    targets = {str(v).rsplit("/", 1)[-1] for p, v in practice.attributes if p == RG.targetGroup}
    assert targets == {"smes", "innovation-agencies"}


def test_evidence_of_success_and_project_link() -> None:
    project = Entity(EntityRef("Project", "gen"), "Grön Export Norr", passages={0})
    project.alt_labels.append(("GEN", None))
    text = ("GEN organised a diagnostic tool for export readiness. "
            "45 companies have benefited from the tool so far.")
    (practice,) = find_practices(passages(text), "en", projects=[project])
    assert types_of(practice) == {"diagnostic-tool"}
    evidence = [str(v) for p, v in practice.attributes if p == RG.evidenceOfSuccess]
    assert evidence and "45 companies" in evidence[0]
    assert (RG.hasPractice, practice.ref) in project.attributes
    assert practice.ref.key == "gen--diagnostic-tool"


def test_bullet_list_of_activities() -> None:
    text = ("The partners delivered:\n- study visits to Danish clusters\n"
            "- matchmaking events with Swedish SMEs\n- a peer review of each region's support")
    found = find_practices(passages(text), "en")
    assert {s for p in found for s in types_of(p)} >= {"study-visit", "matchmaking-event",
                                                       "peer-review"}


def test_danish_and_german_running_text() -> None:
    da = find_practices(passages("Regionen afholdt to studiebesøg og en workshop for 20 "
                                 "virksomheder.", lang="da"), "da")
    de = find_practices(passages("Das Projekt organisierte eine Handelsmission nach Polen "
                                 "mit 12 Unternehmen.", lang="de"), "de")
    assert {s for p in da for s in types_of(p)} == {"study-visit", "workshop"}
    assert {s for p in de for s in types_of(p)} == {"trade-mission"}


def test_recommendations_are_not_practices() -> None:
    text = "Policy makers should consider trade missions for innovative SMEs."
    assert find_practices(passages(text), "en") == []


def test_seed_project_page_practices() -> None:
    page = SEEDS / "003_d0ed662208008e57.txt"
    if not page.exists():
        pytest.skip("seeds not present")
    parts = [p for p in page.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    found = find_practices(passages(*parts), "en")
    by_type = {s: p for p in found for s in types_of(p)}
    assert {"taster-session", "workshop", "diagnostic-tool"} <= set(by_type)
    evidence = " ".join(str(v) for p, v in by_type["diagnostic-tool"].attributes
                        if p == RG.evidenceOfSuccess)
    assert "88" in evidence


def labels_of(found: list[Entity]) -> set[str]:
    return {p.label for p in found} | {a for p in found for a, _ in p.alt_labels}


@pytest.mark.parametrize(
    ("text", "lang", "label", "slug"),
    [
        ("Im Mai fand in Kiel ein Auftakt-Workshop mit 30 Betrieben statt.", "de",
         "Auftakt-Workshop", "workshop"),
        ("Projektet har tagit fram en exportguide för småföretag.", "sv", "exportguide",
         "guide-toolkit"),
        ("Ein Export-Check für Handwerksbetriebe wurde entwickelt und von 25 Unternehmen genutzt.",
         "de", "Export-Check", "diagnostic-tool"),
        ("Regionen har udviklet et eksportværktøj, som 30 virksomheder har brugt.", "da",
         "eksportværktøj", "guide-toolkit"),
    ],
)
def test_compound_heads(text: str, lang: str, label: str, slug: str) -> None:
    found = find_practices(passages(text, lang=lang), lang)
    assert label in labels_of(found)
    assert {s for p in found for s in types_of(p)} == {slug}


def test_closed_compounds_only_in_compounding_languages() -> None:
    # "exportguide" would be a compound in Swedish; in English text it is no practice
    assert find_practices(passages("We used the exportguide in 2020.", lang="en"), "en") == []


def test_vague_words_need_a_report_of_activity() -> None:
    reported = find_practices(passages("I maj holdt klyngen en konference i Odense, hvor 80 "
                                       "virksomheder deltog.", lang="da"), "da")
    assert "konference" in labels_of(reported)
    assert find_practices(passages("En konference om emnet ville være nyttig for mange.",
                                   lang="da"), "da") == []
    # an evidence figure far from the vague word does not make it an activity
    assert find_practices(passages("The network is old; its members say that in the last "
                                   "survey of the whole sector, which was run by the ministry "
                                   "of trade in the autumn, many things had changed for 40 "
                                   "companies.", lang="en"), "en") == []


def test_vague_words_as_names_or_modifiers_are_not_practices() -> None:
    text = ("The Danish Sound Innovation Network hosted 40 companies. Groups of 8-10 small "
            "companies made new network contacts.")
    assert find_practices(passages(text), "en") == []


def test_polish_case_endings() -> None:
    text = ("W 2021 roku przeprowadzono cykl szkoleń dla 40 przedsiębiorców, a w Toruniu "
            "odbyła się konferencja z udziałem 90 uczestników.")
    found = find_practices(passages(text, lang="pl"), "pl")
    assert {s for p in found for s in types_of(p)} == {"training-programme", "conference-event"}
    # the stems are for Polish text only: "targeted" is not "targi" (fairs)
    assert find_practices(passages("We targeted 40 companies.", lang="en"), "en") == []


def test_quoted_name_and_head_noun() -> None:
    text = ('Partners published the “Check list on Export Readiness - an easy-to-use tool for '
            'advisers”. 30 companies joined the export coaching programme.')
    found = find_practices(passages(text), "en")
    assert {"Check list on Export Readiness", "export coaching programme"} <= labels_of(found)


def test_support_verb_after_a_vague_subject() -> None:
    text = "This network of test labs provides SMEs with access to equipment."
    (practice,) = find_practices(passages(text), "en")
    assert practice.label == "network of test labs"


def test_label_inside_a_project_name_is_no_practice() -> None:
    project = Entity(EntityRef("Project", "rcn"), "Red Canaria de Negocios", passages={0})
    text = 'El proyecto "Red Canaria de Negocios" reunió a 50 empresas en Tenerife.'
    assert find_practices(passages(text, lang="es"), "es", projects=[project]) == []


def test_good_practice_title_carries_the_record_fields() -> None:
    text = ("Good practice: Export Starter Vouchers\n\n"
            "The agency runs a mentoring scheme for 20 exporters and publishes a handbook.\n\n"
            "Evidence of success: 140 companies used a voucher in 2022.\n\n"
            "Resources needed: two advisers.")
    found = find_practices(passages(*text.split("\n\n")), "en")
    titled = next(p for p in found if p.label == "Export Starter Vouchers")
    evidence = [str(v) for p, v in titled.attributes if p == RG.evidenceOfSuccess]
    assert evidence == ["140 companies used a voucher in 2022."]
    assert any(p == RG.resourcesNeeded for p, _ in titled.attributes)
    assert len(found) >= 2
