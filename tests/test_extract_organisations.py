from __future__ import annotations

from ingest.document import Passage
from ingest.extract.organisations import find_organisations
from kg.namespaces import RG


def orgs(*texts: str) -> dict[str, object]:
    ps = [Passage("d", i, 0, len(t), t) for i, t in enumerate(texts)]
    return {e.label: e for e in find_organisations(ps)}


def test_field_value_and_located_in() -> None:
    found = orgs("Lead partner", "Kent County Council")
    ent = found["Kent County Council"]
    assert any(p == RG.locatedIn and getattr(v, "key", None) == "UKJ4" for p, v in ent.attributes)  # type: ignore[attr-defined]


def test_legal_forms_heads_and_acronyms() -> None:
    found = orgs("Carl Romlin, Project Manager, Drinor AB, met the Region Midtjylland and Central Denmark EU Office (CDEU).",
                 "Erhvervsstyrelsen og Universität Hamburg deltog.")
    assert {"Drinor AB", "Region Midtjylland", "Central Denmark EU Office", "Erhvervsstyrelsen"} <= set(found)
    assert ("CDEU", None) in found["Central Denmark EU Office"].alt_labels  # type: ignore[attr-defined]


def test_negatives() -> None:
    found = orgs("Peter Grant said the Council and the region would meet in March.")
    assert found == {}
