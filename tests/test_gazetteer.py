from __future__ import annotations

import pytest

from ingest.extract.gazetteer import (
    instrument_ancestors,
    instrument_concepts,
    region_info,
    resolve_instrument,
    resolve_region,
)

NUTS = "http://data.europa.eu/nuts/code/"


@pytest.mark.parametrize("name", ["Midtjylland", "Central Denmark", "Region Midtjylland", "Aarhus", "8000"])
def test_central_denmark_names_resolve_to_dk04(name: str) -> None:
    ref = resolve_region(name, country="DK" if name.isdigit() else None)
    assert ref is not None and ref.iri == NUTS + "DK04"


@pytest.mark.parametrize(("name", "code"), [("West-Vlaanderen", "BE25"), ("West Flanders", "BE25"), ("East Flanders", "BE23"),
                                            ("Oost-Vlaanderen", "BE23"), ("Kent", "UKJ4"), ("Donegal", "IE041"),
                                            ("Hauts-de-France", "FRE"), ("Skåne", "SE224"), ("Tallinn", "EE001"),
                                            ("Munich", "DE21"), ("Denmark", "DK"), ("Solent", "UKJ3")])
def test_names_resolve(name: str, code: str) -> None:
    ref = resolve_region(name)
    assert ref is not None and ref.key == code
    assert region_info(ref).nuts_code == code


def test_non_nuts_and_ambiguous() -> None:
    bsr = resolve_region("the Baltic Sea Region")
    assert bsr is not None and bsr.iri is None and bsr.key == "baltic-sea-region"
    assert resolve_region("Limburg") is None
    assert resolve_region("Limburg", country="NL").key == "NL42"  # type: ignore[union-attr]
    assert resolve_region("the region") is None


def test_region_info_parents_and_labels() -> None:
    info = region_info(resolve_region("Aarhus"))  # type: ignore[arg-type]
    assert info.country_code == "DK" and info.level == 2 and "DK0" in info.parent_codes
    assert any(text == "Central Denmark" for text, _ in info.labels)


@pytest.mark.parametrize("name", ["EFRO", "EFRE", "EAKR", "FEDER", "ERUF", "Den Europæiske Fond for Regionaludvikling",
                                  "Europäischer Fonds für regionale Entwicklung", "Europeiska regionala utvecklingsfonden",
                                  "ERDF", "European Regional Development Fund"])
def test_erdf_in_every_language(name: str) -> None:
    assert resolve_instrument(name).key == "erdf"  # type: ignore[union-attr]


def test_esf_and_codes() -> None:
    for name in ("ESF", "ESR", "EFS", "Den Europæiske Socialfond", "Europäischer Sozialfonds", "ESF (inc YEI)"):
        assert resolve_instrument(name).key == "esf"  # type: ignore[union-attr]
    assert resolve_instrument("R") is None and resolve_instrument("S") is None
    assert resolve_instrument("Unknown Thing") is None


def test_broader_chain() -> None:
    iri = "https://w3id.org/regiograph/id/instrument/"
    assert instrument_ancestors(iri + "interreg-2-seas")[:2] == [iri + "interreg", iri + "erdf"]
    assert iri + "horizon-2020" in instrument_ancestors(iri + "sme-instrument")
    assert len(instrument_concepts()) > 40
