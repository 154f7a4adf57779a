from __future__ import annotations

from ingest.document import Passage
from ingest.extract.instruments import find_instruments


def keys(text: str) -> set[str]:
    return {e.ref.key for e in find_instruments([Passage("d", 0, 0, len(text), text)])}


def test_funds_in_many_languages() -> None:
    assert keys("Projektet er støttet af Den Europæiske Fond for Regionaludvikling.") == {"erdf"}
    assert keys("Gefördert aus dem Europäischen Fonds für regionale Entwicklung (EFRE).") == {"erdf"}
    assert keys("Met steun van het EFRO en het ESF.") == {"erdf", "esf"}


def test_specific_interreg_wins_and_acronym_case() -> None:
    assert keys("ISE is an Interreg project funded by Interreg 2 Seas.") == {"interreg-2-seas"}
    assert keys("Support from Horizon 2020 (H2020) and the Enterprise Europe Network.") == {"horizon-2020", "een"}
    assert keys("the cosme of life: een ander verhaal, r and s") == set()


def test_new_instrument_from_funding_phrase() -> None:
    got = keys("Projects supported by BSR Stars Innovation Express tested new methods.")
    assert "bsr-stars-innovation-express" in got


def test_generic_parent_kept_in_a_sentence_of_its_own_and_new_concepts() -> None:
    text = ("Partners applied to various Interreg programmes. One project runs in the Interreg Central Baltic "
            "programme. Loans came from InnovFin and the ENI CBC programme; Projektet er støttet af "
            "Interreg Nordsøprogrammet.")
    labels = {e.label for e in find_instruments([Passage("d", 0, 0, len(text), text)])}
    assert {"Interreg", "InnovFin", "European Neighbourhood Instrument", "Interreg North Sea"} <= labels
