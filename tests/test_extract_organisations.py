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


def test_partner_sentence_lists_in_other_languages() -> None:
    found = orgs("Projectpartners zijn de Limburgse Ontwikkelingsmaatschappij (LOM), Fontys Hogeschool en VITO.",
                 "Die Projektpartner sind Wirtschaftsförderung Lübeck und Region Sjælland.")
    assert {"Limburgse Ontwikkelingsmaatschappij", "Fontys Hogeschool", "VITO", "Wirtschaftsförderung Lübeck",
            "Region Sjælland"} <= set(found)
    assert ("LOM", None) in found["Limburgse Ontwikkelingsmaatschappij"].alt_labels  # type: ignore[attr-defined]


def test_agent_contact_and_sme_cues() -> None:
    found = orgs("Le programme est géré par Normandie Attractivité depuis 2020.",
                 "Kontakt: Søren Holm, projektleder, Business Lolland-Falster",
                 "The Finnish SME Arctic Drones teamed up with Kvarken Marine to test the service.")
    assert {"Normandie Attractivité", "Business Lolland-Falster", "Arctic Drones", "Kvarken Marine"} <= set(found)


def test_known_bodies_dg_and_web_addresses() -> None:
    found = orgs("Die Europäische Kommission und die OECD veröffentlichten Daten von Eurostat.",
                 "Officials of DG Regional and Urban Policy attended.",
                 "Read more about Baltic Bites: https://balticbites.eu/")
    assert {"European Commission", "OECD", "Eurostat", "DG Regional and Urban Policy", "Baltic Bites"} <= set(found)


def test_lists_with_countries_and_former_names() -> None:
    found = orgs("Case companies were Nordvik (Norway), eMotion (Latvia) and Open Road Partner (Estonia).",
                 "It started at LSV (today Lantmännen Labs), a research unit.",
                 "Two clusters from Finland (Arctic Steel and Kemi Digital Hub) joined.")
    assert {"Nordvik", "eMotion", "Open Road Partner", "LSV", "Lantmännen Labs", "Arctic Steel",
            "Kemi Digital Hub"} <= set(found)


def test_negatives_abbreviations_and_markets() -> None:
    found = orgs("Små og mellemstore virksomheder (SMV'er) deltog.", "Cooperation with Chinese partners grew.",
                 "The Cluster-facilitated projects call and the Complex Cleantech Solutions methodology.")
    assert found == {}
