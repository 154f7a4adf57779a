"""Lists of operations in the search: a query finds an operation written in another language,
even with operations in the query's own language on other topics beside it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ingest.pipeline import ingest
from regiograph.cli import app
from regiograph.settings import Settings, load_settings

DANISH = """Projekttitel;Projektbeskrivelse;Støttemodtager;CVR;Samlet budget;Startdato;Slutdato;Region
Testcenter for vindmøller;Projektet etablerer et testcenter, hvor små og mellemstore virksomheder kan afprøve komponenter til vindmøller under realistiske vindforhold.;Vindtest ApS;12345678;15.414.794;01-03-2016;31-12-2019;Region Midtjylland
Fødevareeksport til Asien;Små fødevareproducenter får hjælp til at eksportere deres produkter til markeder i Kina og Japan.;Food Export A/S;23456789;2.500.000;01-01-2017;31-12-2018;Region Nordjylland
Velfærdsteknologi på sygehuse;Udvikling af ny velfærdsteknologi, der aflaster personalet på sygehusene.;Sundhedsinnovation;34567890;4.100.000;01-06-2016;31-05-2019;Region Hovedstaden
Turisme ved Vestkysten;Nye oplevelser for turister langs den jyske vestkyst uden for højsæsonen.;Vestkyst Turisme;45678901;1.900.000;01-04-2017;31-03-2020;Region Syddanmark
"""
GERMAN = """Vorhabensbezeichnung / Name of operation;Kurzbeschreibung / Summary;Begünstigter / Beneficiary;Gesamtkosten in EUR;Beginn;Ende;Standort
Wasserstoffbusse im Nahverkehr;Die Stadtwerke beschaffen Busse mit Brennstoffzellen und bauen eine Wasserstofftankstelle für den öffentlichen Nahverkehr.;Stadtwerke Augsburg;3.200.000,00;01.01.2017;31.12.2020;Augsburg
Digitales Handwerk;Handwerksbetriebe werden bei der Einführung digitaler Werkzeuge für Planung und Abrechnung beraten.;Handwerkskammer für München;850.000,00;01.03.2016;28.02.2019;München
Breitband im ländlichen Raum;Ausbau schneller Internetverbindungen für Gemeinden im ländlichen Raum.;Landkreis Passau;5.600.000,00;01.07.2016;30.06.2021;Passau
Ausgründungen aus Hochschulen;Gründerinnen und Gründer aus der Universität erhalten Coaching und Räume für ihr Start-up.;Universität Regensburg;1.200.000,00;01.10.2016;30.09.2019;Regensburg
"""
ENGLISH = """Operation name,Operation summary,Beneficiary,Total eligible cost (£),Start date,End date,Postcode,LEP area
Coastal flood defence scheme,New sea walls and flood barriers protect homes and businesses along the coast from storm surges.,Environment Agency,2456000,01/04/2016,31/03/2020,NR30 1AA,New Anglia
Creative industries hub,A workspace and support programme for designers and digital media start-ups.,Creative Hub Ltd,1345000,01/09/2016,31/08/2019,M1 1AA,Greater Manchester
Apprenticeships for manufacturing,Employers are helped to recruit and train apprentices in engineering trades.,Skills Partnership,980000,01/01/2017,31/12/2019,S1 2AA,Sheffield City Region
Electric vehicle charging network,Public charging points for electric cars in towns and at workplaces.,EV Charge Ltd,1750000,01/06/2017,31/05/2020,BS1 4AA,West of England
"""

CASES = [
    ("en", "test facility for wind turbine components for small firms", "Testcenter for vindmøller"),
    ("da", "brintbusser og tankstation til den offentlige transport", "Wasserstoffbusse im Nahverkehr"),
    ("de", "Hochwasserschutz an der Küste gegen Sturmfluten", "Coastal flood defence scheme"),
]


@pytest.fixture(scope="module")
def operations_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("lists")
    (folder / "dk_operations.csv").write_text(DANISH, encoding="utf-8")
    (folder / "bayern_operations.csv").write_text(GERMAN, encoding="cp1252")
    (folder / "england_operations.csv").write_text(ENGLISH, encoding="utf-8")
    settings = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("ops-data"))
    report = ingest([folder], settings)
    assert [f.kind for f in report.files] == ["operations"] * 3, [(f.name, f.reason) for f in report.files]
    return settings


@pytest.mark.parametrize(("lang", "query", "expected"), CASES)
def test_query_finds_an_operation_in_another_language(operations_settings: Settings, lang: str, query: str, expected: str) -> None:
    result = CliRunner().invoke(app, ["--data", str(operations_settings.data_dir), "search", query, "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["text"].startswith(expected), [h["text"][:60] for h in hits]
    assert hits[0]["lang"] != lang
    assert hits[0]["project"] and hits[0]["source"].endswith(".csv")


def test_operation_hits_carry_money_and_year(operations_settings: Settings) -> None:
    from search.api import search

    hit = search(operations_settings, "Testcenter for vindmøller", k=1)[0]
    assert hit.year == 2016
    assert hit.budget is not None and 2_000_000 < hit.budget < 2_200_000  # 15.4M DKK in EUR, not DKK
