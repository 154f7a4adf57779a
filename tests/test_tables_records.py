"""Rows → operation records: money, notes, grouping, mapping overrides, documents and entities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from rdflib import Literal, URIRef

from ingest.extract.model import EntityRef
from ingest.tables import load_mapping, read_operations
from kg.namespaces import DCTERMS, RG, XSD


def und(_text: str) -> str:
    return "und"


def da(_text: str) -> str:
    return "da"


DK = (
    "projekttitel,start_dato,slut_dato,ordning,budget,eu,tas_projekt_besk,region,cvr,navn,postnr\n"
    'Det Danske Seafood Center,18.07.2007,31.12.2011,ERDFN,"32467,02","16233,51",Projektet vedrører et '
    "klyngesekretariat,Nordjylland,26349303,Den Erhvervsdrivende Fond Dansk Skaldyrcenter,7900\n"
    'Tjek til vækst,01.09.2013,28.02.2014,ERDFS,"74381,85",35020,Region Sjælland har mange små '
    "virksomheder,Sjælland,29189420,Væksthus Sjælland,4700\n"
)


def test_dkk_assumed_from_country_and_noted(tmp_path: Path) -> None:
    f = tmp_path / "dk.csv"
    f.write_text(DK, encoding="utf-8")
    table = read_operations(f, detector=da)
    rec = table.records[0]
    assert rec.currency == "DKK" and rec.total_original == Decimal("32467.02")
    assert rec.total_eur is not None and rec.total_eur < rec.total_original  # DKK is never EUR
    assert rec.amount_note is not None and "assumed DKK" in rec.amount_note and "states no currency" in rec.amount_note
    assert rec.start == dt.date(2007, 7, 18) and rec.national_id == "26349303"
    assert table.summary.amounts_parsed_pct == 100.0


def test_pounds_in_millions(tmp_path: Path) -> None:
    f = tmp_path / "uk.csv"
    f.write_text("Recipient of funds,Name of Project,Type of fund,Start date,ERDF/ESF investment £m,"
                 "Total project costs £m,Percent of project funded by EU,Location (postcode)\n"
                 "Uni,Innovation Clinic,ERDF,01. Nov 15,1.43,2.39,60%,PR1 2HE\n"
                 "Council,Boost,ESF,01. Jan 16,0.5,1.0,50%,LA1 1AA\n", encoding="utf-8")
    table = read_operations(f, detector=und)
    rec = table.records[0]
    assert rec.currency == "GBP" and rec.eu_original == Decimal("1430000") and rec.total_original == Decimal("2390000")
    assert rec.cofinancing_rate == Decimal("0.6") and rec.postcodes == ["PR1 2HE"]
    assert rec.start == dt.date(2015, 11, 1)


def test_millions_header_with_whole_amounts_is_read_as_published(tmp_path: Path) -> None:
    f = tmp_path / "uk.csv"
    f.write_text("Name of Project,Recipient of funds,Total project costs £m\nA,X,2390607\nB,Y,11555523\n",
                 encoding="utf-8")
    table = read_operations(f, detector=und)
    assert table.records[0].total_original == Decimal("2390607")
    assert any("read as published" in n for n in table.summary.notes)


def test_zero_eur_column_prefers_original_currency(tmp_path: Path) -> None:
    import json

    f = tmp_path / "se.json"
    f.write_text(json.dumps([{"projektnamn": "Bredband", "stödmottagare": "Arjeplogs kommun",
                              "beviljat_belopp_eur": 0, "beviljat_belopp_sek": 3929285,
                              "projekt_starttid": "2017-01-02", "län": "Norrbotten, Västerbotten"}]), encoding="utf-8")
    rec = read_operations(f, detector=lambda _t: "sv").records[0]
    assert rec.currency == "SEK" and rec.eu_original == Decimal(3929285)
    assert rec.eu_eur is not None and Decimal(300000) < rec.eu_eur < Decimal(500000)
    assert rec.regions == ["Norrbotten", "Västerbotten"]


def test_repeated_rows_are_one_project_in_several_regions(tmp_path: Path) -> None:
    f = tmp_path / "ie.csv"
    f.write_text("fund,start_year,county,beneficiary_name,project_name,total_amount\n"
                 "ERDF,2014,Cavan,Border CEB,Broadband for all,7750\n"
                 "ERDF,2014,Leitrim,Border CEB,Broadband for all,7750\n"
                 "ERDF,2014,Galway,Galway CEB,Networking,15929.5\n"
                 "ERDF,2014,Galway,Galway CEB,Networking,100\n", encoding="utf-8")
    table = read_operations(f, detector=und)
    assert table.summary.rows_read == 4 and table.summary.projects == 3
    merged = table.records[0]
    assert merged.rows == [1, 2] and merged.counties == ["Cavan", "Leitrim"]
    assert merged.total_original == Decimal(7750) and merged.year == 2014
    _doc, _passages, extraction = table.to_document(und)
    project = next(e for e in extraction.entities.values() if e.ref.kind == "Project" and e.label == "Broadband for all")
    sources = [v for p, v in project.attributes if p == DCTERMS.source]
    assert sources == [Literal("ie.csv#row=1"), Literal("ie.csv#row=2")]
    assert len([v for p, v in project.attributes if p == RG.budgetEUR or p == RG.budgetOriginal]) == 1
    assert 1 <= len([v for p, v in project.attributes if p == RG.locatedIn]) <= 2  # both in NUTS IE041


def test_mapping_overrides(tmp_path: Path) -> None:
    f = tmp_path / "odd.csv"
    f.write_text("junk line\nA|B|C|D\nBroadband|Kommune X|1.000|DK01\nRoads|Kommune Y|2.500|DK02\n",
                 encoding="utf-8")
    m = tmp_path / "map.toml"
    m.write_text('[table]\nheader_row = 2\ndelimiter = "|"\ncurrency = "DKK"\ncountry = "DK"\nunit = 1000\n'
                 'language = "da"\nperiod = "2015-01-01"\n\n[columns]\nA = "title"\nB = "beneficiary"\n'
                 '"3" = "total_cost"\nD = "region"\n', encoding="utf-8")
    assert load_mapping(m).header_row == 1
    table = read_operations(f, mapping=m, detector=und)
    rec = table.records[0]
    assert rec.title == "Broadband" and rec.beneficiary == "Kommune X"
    assert rec.currency == "DKK" and rec.total_original == Decimal(1000000)  # 1.000 (Danish) × 1000
    assert rec.amount_note and "2015-01-01" in rec.amount_note


def test_broken_rows_are_kept_and_counted(tmp_path: Path) -> None:
    f = tmp_path / "nl.csv"
    f.write_text("Begunstigde,Titel van het project,Totale kosten in Euro's,Begindatum\n"
                 "Hanzehogeschool,HIT,2.141.953,19.02.2009\n"
                 "Gemeente,Bugs to the Rescue,veel,31.02.2009,extra cell\n"
                 ",,,\n", encoding="utf-8")
    table = read_operations(f, detector=lambda _t: "nl")
    s = table.summary
    assert s.rows_read == 3 and s.projects == 2
    assert [(k.row, k.reason) for k in s.skipped] == [(3, "empty row")]
    assert s.unparsed == {"total_cost": 1, "start_date": 1}
    bad = table.records[1]
    assert bad.raw["Totale kosten in Euro's"] == "veel" and "_fields" in bad.raw and bad.raw["_extra"] == "extra cell"
    assert table.records[0].total_original == Decimal(2141953) and table.records[0].currency == "EUR"
    assert s.amounts_parsed_pct == 50.0


def test_to_document_passages_and_entities(tmp_path: Path) -> None:
    f = tmp_path / "dk.csv"
    f.write_text(DK, encoding="utf-8")
    doc, passages, extraction = read_operations(f, detector=da).to_document(da)
    assert len(passages) == 2
    for p in passages:
        assert doc.text[p.start:p.end] == p.text and p.lang == "da"
    assert passages[0].text.startswith("Det Danske Seafood Center\n\nProjektet")
    assert passages[1].extra["row"] == "2"
    projects = [e for e in extraction.entities.values() if e.ref.kind == "Project"]
    orgs = [e for e in extraction.entities.values() if e.ref.kind == "Organisation"]
    assert len(projects) == 2 and len(orgs) == 2
    p0 = projects[0]
    preds = {p for p, _ in p0.attributes}
    assert {RG.budgetEUR, RG.euFundingEUR, RG.budgetOriginal, RG.currency, RG.amountNote, RG.startDate,
            RG.endDate, RG.leadPartner, RG.fundedBy, DCTERMS.source, RG.postcode} <= preds
    assert (RG.startDate, Literal("2007-07-18", datatype=XSD.date)) in p0.attributes
    assert (RG.currency, Literal("DKK")) in p0.attributes
    note = next(v for p, v in p0.attributes if p == RG.amountNote)
    assert isinstance(note, Literal) and note.language == "en"
    lead = next(v for p, v in p0.attributes if p == RG.leadPartner)
    assert isinstance(lead, EntityRef) and lead.kind == "Organisation" and "26349303" in lead.key
    fund = next(v for p, v in p0.attributes if p == RG.fundedBy)
    assert isinstance(fund, EntityRef) and fund.kind == "Instrument"
    assert p0.ref.key == read_operations(f, detector=da).to_document(da)[2].entities[p0.ref].ref.key  # stable


def test_intervention_category(tmp_path: Path) -> None:
    f = tmp_path / "at.csv"
    f.write_text("operation name,name of beneficiary,total eligible expenditure,category of intervention\n"
                 'Ankauf,TR GmbH,"403514,06",1 - Allgemeine produktive Investitionen\n', encoding="utf-8")
    rec = read_operations(f, detector=und).records[0]
    assert rec.intervention_code == "001" and rec.intervention_label == "Allgemeine produktive Investitionen"
    _, _, ex = read_operations(f, detector=und).to_document(und)
    project = next(e for e in ex.entities.values() if e.ref.kind == "Project")
    assert (RG.interventionCategory, URIRef("https://w3id.org/regiograph/id/intervention-category/001")) in (
        project.attributes)
