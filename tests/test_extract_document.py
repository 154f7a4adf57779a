"""The orchestrator: every extractor run, linked and merged; one failing extractor loses nothing else."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import ingest.extract.projects as projects_module
from ingest.document import Passage
from ingest.extract import extract_document
from ingest.extract.model import Extraction
from kg.namespaces import RG

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"

TEXTS = {
    "en": ("The Interreg Europe project Export Ready Regions (ERR) brings together partners from "
           "five regions.\n\nERR organised two study visits and a matchmaking event; 60 SMEs "
           "have benefited from the matchmaking event."),
    "da": ('Workshoppen var et led i projektet "Everywhere International SMEs" (EIS), hvor ni '
           "partnere er gået sammen.\n\nDertil kom to virksomhedsbesøg hos 12 virksomheder."),
    "de": ("Das Projekt Grenzüberschreitende Innovations-Offensive (GIO) organisierte eine "
           "Handelsmission nach Polen mit 12 Unternehmen."),
    "fr": ("Le projet « Croissance Export Nord » a organisé des rencontres d'affaires pour "
           "40 PME."),
    "nl": ("Het project Slimme Maakindustrie Vlaanderen (SMV) organiseerde drie workshops; "
           "120 bedrijven hebben deelgenomen."),
    "sv": ("Projektet Grön Export Norr (GEN) har genomfört studiebesök och en workshop för "
           "30 företag."),
}


def passages(text: str, lang: str) -> list[Passage]:
    out, start = [], 0
    for i, part in enumerate(text.split("\n\n")):
        out.append(Passage("doc", i, start, start + len(part), part, lang=lang))
        start += len(part) + 2
    return out


def kinds(extraction: Extraction, kind: str) -> list[str]:
    return [e.ref.key for e in extraction.entities.values() if e.ref.kind == kind]


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_projects_and_practices_in_every_language(lang: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        extraction = extract_document(passages(TEXTS[lang], lang), lang)
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    (project_key,) = kinds(extraction, "Project")
    practices = kinds(extraction, "Practice")
    assert practices, lang
    project = extraction.entities[next(r for r in extraction.entities if r.key == project_key)]
    linked = {v for p, v in project.attributes if p == RG.hasPractice}
    assert {r.key for r in linked} == set(practices)  # type: ignore[union-attr]
    for entity in extraction.entities.values():
        assert entity.passages and 0 < entity.confidence <= 1


def test_failing_extractor_is_logged_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise ValueError("odd text")

    monkeypatch.setattr(projects_module, "find_projects", broken)
    with caplog.at_level(logging.WARNING):
        extraction = extract_document(passages(TEXTS["en"], "en"), "en")
    assert "projects" in caplog.text and "failed" in caplog.text
    assert kinds(extraction, "Project") == []
    assert kinds(extraction, "Practice")  # the practice extractor still ran


def test_empty_document() -> None:
    assert extract_document([], "en").entities == {}


def _seed(name: str) -> list[Passage]:
    path = SEEDS / name
    if not path.exists():
        pytest.skip("seeds not present")
    from ingest.passages import split_passages
    from ingest.readers import read_document

    return split_passages(read_document(path))


def test_english_and_danish_seed_articles_share_the_project() -> None:
    en = extract_document(_seed("000_32b61af0d91e9bab.txt"), "en")
    da = extract_document(_seed("001_7db98c1f235aae13.txt"), "da")
    assert "eis" in kinds(en, "Project") and "eis" in kinds(da, "Project")


def test_seeds_raise_nothing(caplog: pytest.LogCaptureFixture) -> None:
    if not SEEDS.is_dir():
        pytest.skip("seeds not present")
    with caplog.at_level(logging.WARNING):
        for path in sorted(SEEDS.glob("*.txt")):
            extract_document(_seed(path.name), "en")
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


UNSEEN = Path(__file__).parent / "fixtures" / "unseen"


def _unseen(name: str, lang: str) -> Extraction:
    text = (UNSEEN / name).read_text(encoding="utf-8")
    passages = [Passage(name, i, 0, len(t), t) for i, t in enumerate(p for p in text.split("\n\n") if p.strip())]
    return extract_document(passages, lang)


def _labels(ext: Extraction, kind: str) -> set[str]:
    return {e.label for e in ext.entities.values() if e.ref.kind == kind}


def test_unseen_spanish_news_partner_sentence_and_programme() -> None:
    ext = _unseen("u9_es_noticia.txt", "es")
    assert {"Agencia Gallega de Innovación", "Universidade do Minho",
            "Confederación de Empresarios de Galicia"} <= _labels(ext, "Organisation")
    project = next(e for e in ext.entities.values() if e.ref.kind == "Project")
    assert project.ref.key == "retin"
    funders = {v.key for p, v in project.attributes if p == RG.fundedBy}  # type: ignore[union-attr]
    assert "interreg-poctep" in funders


def test_unseen_italian_project_page_partner_list() -> None:
    ext = _unseen("u8_it_progetto.txt", "it")
    assert {"Camera di Commercio di Bolzano", "Libera Università di Bolzano", "Wirtschaftskammer Tirol",
            "Agenzia per lo sviluppo del Friuli Venezia Giulia"} <= _labels(ext, "Organisation")
    assert "AGRI-LINK" in _labels(ext, "Project")


def test_unseen_project_named_after_definite_noun_and_field() -> None:
    sv = _unseen("u5_sv_rapport.txt", "sv")
    assert "ExportLyft" in _labels(sv, "Project")
    fr = _unseen("u3_fr_bonne_pratique.txt", "fr")
    project = next(e for e in fr.entities.values() if e.ref.kind == "Project")
    assert project.label == "INTERNAT-PME"
    assert any(p == RG.partnerRegion and v.key == "FRH0" for p, v in project.attributes)  # type: ignore[union-attr]


def _partner_regions(ext: Extraction, key: str) -> set[str]:
    project = ext.entities[next(r for r in ext.entities if r.kind == "Project" and r.key == key)]
    return {v.key for p, v in project.attributes if p == RG.partnerRegion}  # type: ignore[union-attr]


def test_unseen_polish_inflected_places_and_fund() -> None:
    pl = _unseen("u7_pl_projekt.txt", "pl")  # "z Pomorza, Skåne i Litwy", "w Gdańsku"
    assert _partner_regions(pl, "digibalt") == {"PL63", "SE224", "LT"}
    assert "Cyfrowe MŚP Bałtyku" in _labels(pl, "Project") and len(_labels(pl, "Project")) == 1
    pl13 = _unseen("u13_pl_aktualnosci.txt", "pl")  # "z Europejskiego Funduszu Rozwoju Regionalnego"
    project = pl13.entities[next(r for r in pl13.entities if r.kind == "Project")]
    assert any(p == RG.fundedBy and v.key == "erdf" for p, v in project.attributes)  # type: ignore[union-attr]


def test_unseen_danish_quoted_name_with_apostrophe_and_firms_from_regions() -> None:
    da = _unseen("u12_da_nyhed.txt", "da")
    assert _labels(da, "Project") == {"Grøn Omstilling i SMV'er"}
    assert _partner_regions(da, "gosmv") == {"DK02", "SE232"}
    assert "Region Sjælland" not in _labels(da, "Organisation")  # "virksomheder fra Region Sjælland"


def test_unseen_ambiguous_name_settled_by_places_outside_names() -> None:
    nl = _unseen("u4_nl_nieuws.txt", "nl")  # Limburg beside Noord-Brabant, Eindhoven, Antwerpen, "POM Antwerpen"
    assert _partner_regions(nl, "crosstech") == {"NL41", "NL42", "BE21"}
    es = _unseen("u9_es_noticia.txt", "es")  # "Galicia y del Norte de Portugal", "en Vigo"
    assert _partner_regions(es, "retin") == {"ES11", "PT11"}


def test_unseen_case_stories_partners_by_nationality() -> None:
    en = _unseen("u14_en_case_stories.txt", "en")  # projects named only in a closing quotation
    assert _partner_regions(en, "coldtrace") == {"FI", "SE", "EE"}
    assert _partner_regions(en, "silverform") == {"DK", "NL"}
    assert {"Sweden", "Estonia", "Netherlands"} <= _labels(en, "Region")
    de = _unseen("u15_de_kurzmeldung.txt", "de")  # "ein dänisches und ein polnisches Unternehmen"
    assert {"DK", "PL"} <= _partner_regions(de, "blueport")
