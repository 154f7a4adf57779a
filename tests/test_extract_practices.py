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
