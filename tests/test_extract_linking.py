"""Behaviours of document-level linking (extract_document): partner regions by evidence,
regions inside organisation names, projects that are not instruments, the unseen-text gold."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.document import Passage
from ingest.extract import extract_document
from ingest.extract.model import EntityRef, Extraction
from kg.namespaces import RG

UNSEEN = Path(__file__).parent / "fixtures" / "unseen"


def _extract(*paragraphs: str, lang: str = "en") -> Extraction:
    passages, start = [], 0
    for i, text in enumerate(paragraphs):
        passages.append(Passage("doc", i, start, start + len(text), text, lang))
        start += len(text) + 2
    return extract_document(passages, lang)


def _partner_regions(ext: Extraction, label: str) -> set[str]:
    project = next(e for e in ext.entities.values() if e.ref.kind == "Project" and label in
                   (e.label, *(a for a, _ in e.alt_labels)))
    return {v.key for p, v in project.attributes if p == RG.partnerRegion and isinstance(v, EntityRef)}


def test_partner_list_counts_and_target_market_does_not() -> None:
    ext = _extract(
        "ISE is an Interreg project which supports businesses from 5 regions (Kent, Hauts-de-France, "
        "East & West Flanders, and the SW of the Netherlands) with becoming more innovative.",
        "The ISE project also helped companies enter the Chinese market and export to China.",
    )
    regions = _partner_regions(ext, "ISE")
    assert {"UKJ4", "FRE", "BE23", "BE25", "south-west-netherlands"} <= regions
    assert "country-cn" not in regions


def test_event_host_region_counts_and_qualifier_country_does_not() -> None:
    ext = _extract(
        "The partners of the Everywhere International SMEs (EIS) project gathered in Aarhus, Denmark, "
        "for their second workshop."
    )
    regions = _partner_regions(ext, "EIS")
    assert "DK04" in regions and "DK" not in regions


def test_funded_projects_are_not_the_funding_initiative() -> None:
    ext = _extract(
        "The name of the joint initiative is BSR Stars Innovation Express.",
        "A second Innovation Express project in 2015 added a new partner in Latvia.",
    )
    assert "LV" not in _partner_regions(ext, "BSR Stars Innovation Express")
    kinds = {e.ref.kind for e in ext.entities.values() if e.label == "BSR Stars Innovation Express"}
    assert kinds == {"Project"}


def test_region_only_inside_an_organisation_name_is_not_a_place() -> None:
    ext = _extract("The Oslo Medtech cluster and the University of Pavia met in Brussels.")
    keys = {e.ref.key for e in ext.entities.values() if e.ref.kind == "Region"}
    assert "BE10" in keys
    assert "NO081" not in keys and "ITC48" not in keys


def test_participant_table_gives_organisations() -> None:
    rows = ["Golding, David Innovate UK UK", "Goncalves, Gil Inovamais Portugal",
            "Korlaar, Leonique Dialogic The Netherlands", "Obreja, Simona Eurochambres EU",
            "Sorac, Alberto Innova BIC S.r.l. Italy"]
    ext = _extract(*rows)
    orgs = {e.label for e in ext.entities.values() if e.ref.kind == "Organisation"}
    assert {"Innovate UK", "Inovamais", "Dialogic", "Eurochambres"} <= orgs
    regions = {e.ref.key for e in ext.entities.values() if e.ref.kind == "Region"}
    assert {"UK", "PT", "NL", "IT"} <= regions


def test_unseen_gold_is_well_formed() -> None:
    gold = json.loads((UNSEEN / "gold.json").read_text(encoding="utf-8"))["documents"]
    assert len(gold) >= 6
    for name, doc in gold.items():
        assert (UNSEEN / name).exists()
        assert {"Region", "Instrument", "Organisation", "Project", "Practice"} <= set(doc)
