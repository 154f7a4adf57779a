from __future__ import annotations

from ingest.document import Passage
from ingest.extract.regions import find_regions


def keys(text: str, lang: str = "en") -> set[str]:
    return {e.ref.key for e in find_regions([Passage("d", 0, 0, len(text), text, lang)])}


def test_multilingual_and_slash_forms() -> None:
    assert keys("Partners from West-Vlaanderen / West Flanders and Kent.") == {"BE25", "UKJ4"}
    assert keys("Region Midtjylland og Donegal mødtes i Aarhus.", "da") == {"DK04", "IE041"}
    assert keys("Die Partner aus Oberbayern und Skåne trafen sich in München.", "de") == {"DE21", "SE224"}


def test_ellipsis_and_macro_regions() -> None:
    got = keys("Businesses from Kent, Hauts-de-France, East & West Flanders and the SW of the Netherlands in the 2 Seas area.")
    assert got == {"UKJ4", "FRE", "BE23", "BE25", "south-west-netherlands", "2-seas-area"}


def test_country_qualifier_and_negatives() -> None:
    # a qualifying country is a place the text names; partner attribution keeps the finer region
    assert keys("The workshop was held in Aarhus, Denmark.") == {"DK04", "DK"}
    assert keys("David Golding, Innovate UK, said so.") == set()
    assert keys("In May the region and the council met Peter Grant.") == set()
    assert keys("Rathckegården in Sweden") == {"SE"}


def test_inflected_names_in_polish_text_only() -> None:
    assert keys("Partnerzy pochodzą z Pomorza, Litwy i Danii; warsztaty w Gdańsku.", "pl") == {"PL63", "LT", "DK"}
    assert keys("Partners from Litwy.", "en") == set()


def test_nationality_adjectives_only_for_participants() -> None:
    from ingest.extract.regions import demonym_mentions

    def isos(text: str) -> list[str]:
        return [iso for iso, _ in demonym_mentions(text)]

    assert isos("joined forces with a Swedish and an Estonian company") == ["SE", "EE"]
    assert isos("the German Medical Valley cluster") == ["DE"]
    assert isos("ein dänisches und ein polnisches Unternehmen") == ["DK", "PL"]
    assert isos("agencies – two Danish and one Dutch – developed") == ["DK", "NL"]
    assert isos("the Danish and Swedish markets") == [] and isos("the Polish market") == []
