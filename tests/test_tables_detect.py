"""Detection of lists of operations: encodings, dialects, header rows, column roles, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.tables import inspect_table, is_operations_table, read_operations
from ingest.tables.detect import assign_roles, header_scores, read_raw_table
from regiograph.errors import InputError

PL_CSV = (
    "Tytuł projektu;Nazwa beneficjenta;Wartość projektu;Dofinansowanie z EU\n"
    "Budowa drogi ekspresowej S51;GENERALNA DYREKCJA DRÓG KRAJOWYCH I AUTOSTRAD;1568930487.38;867306201.54\n"
    "Międzynarodowe Agendy Badawcze;FUNDACJA NA RZECZ NAUKI POLSKIEJ;532029620.00;532029620.00\n"
)


def roles_of(path: Path) -> dict[str, str]:
    raw = read_raw_table(path)
    cols = [[r[i] if i < len(r) else None for r in raw.rows] for i in range(len(raw.headers))]
    return {" ".join(c.header.split()): c.role for c in assign_roles(raw.headers, cols)}


def test_cp1250_semicolon(tmp_path: Path) -> None:
    f = tmp_path / "list.csv"
    f.write_bytes(PL_CSV.encode("cp1250"))
    raw = read_raw_table(f)
    assert raw.delimiter == ";" and raw.encoding is not None
    assert raw.headers[0] == "Tytuł projektu"
    assert roles_of(f)["Wartość projektu"] == "total_cost"
    assert roles_of(f)["Dofinansowanie z EU"] == "eu_amount"
    assert is_operations_table(f)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_bom_encodings(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "list.csv"
    f.write_bytes(PL_CSV.encode(encoding))
    assert read_raw_table(f).headers[1] == "Nazwa beneficjenta"


def test_tab_separated(tmp_path: Path) -> None:
    f = tmp_path / "list.tsv"
    f.write_text("project name\tbeneficiary\ttotal cost\nA\tB\t100\nC\tD\t200\n", encoding="utf-8")
    assert read_raw_table(f).delimiter == "\t"
    assert roles_of(f) == {"project name": "title", "beneficiary": "beneficiary", "total cost": "total_cost"}


def test_quoted_multiline_fields_do_not_fool_the_dialect(tmp_path: Path) -> None:
    desc = '"Formålet er; at skabe vækst.\nLinje to; med semikolon.\n- punkt\n- punkt"'
    rows = [f'Projekt {i},24.04.2014,"15.414.794",{desc},Nordjylland' for i in range(5)]
    f = tmp_path / "dk.csv"
    f.write_text("Projektitel / Operation name,Startdato / Operation start date,Budget / Budget,"
                 "Projektbeskrivelse,Region / Region\n" + "\n".join(rows) + "\n", encoding="utf-8")
    raw = read_raw_table(f)
    assert raw.delimiter == "," and len(raw.rows) == 5


def test_bilingual_padded_misspelt_headers() -> None:
    assert max(header_scores("Projektitel / Operation name"), key=header_scores("Projektitel / Operation name").get) == "title"
    scores = header_scores("Beneificary Name                                               ")
    assert max(scores, key=scores.get) == "beneficiary"
    scores = header_scores("EU-medfinansieringssats / Union co-financing rate")
    assert max(scores, key=scores.get) == "cofinancing_rate"
    scores = header_scores("EU-medfinansiering / Union co-financing")
    assert max(scores, key=scores.get) == "eu_amount"


def test_header_broken_over_two_lines(tmp_path: Path) -> None:
    f = tmp_path / "at.csv"
    f.write_text("Bezeichnung des Vorhabens,Name des,Gesamtbetrag der förderfähigen\n"
                 "operation name,Begünstigten,Ausgaben des Vorhabens\n"
                 "Ankauf,TR GmbH,\"403514,06\"\nNeubau,XY AG,\"1000,00\"\n", encoding="utf-8")
    raw = read_raw_table(f)
    assert raw.header_lines == 2 and len(raw.rows) == 2
    assert roles_of(f)["Name des Begünstigten"] == "beneficiary"


def test_quoted_header_with_newlines(tmp_path: Path) -> None:
    f = tmp_path / "at.csv"
    f.write_text('"Bezeichnung des Vorhabens/\noperation name","Name des Begünstigten/\nname of beneficiary",'
                 '"Datum des Beginns des Vorhabens/\noperation start date"\nAnkauf,TR GmbH,27.06.2016\n',
                 encoding="utf-8")
    assert set(roles_of(f).values()) == {"title", "beneficiary", "start_date"}


def test_value_evidence_corrects_headers(tmp_path: Path) -> None:
    f = tmp_path / "ni.csv"
    f.write_text("Operation Name,Total eligible expenditure allocated to the operation,"
                 '"Union co-financing rate, as per priority axis",Land / country\n'
                 'A,"2.888.913,33","1.733.348,00",Nürnberg\nB,"139.701,67","83.821,00",Würzburg\n'
                 'C,"1.403.943,33","842.366,00",Bayreuth\n', encoding="utf-8")
    roles = roles_of(f)
    assert roles['Union co-financing rate, as per priority axis'] == "eu_amount"
    assert roles["Land / country"] in ("municipality", "region")


def test_json_array_of_records(tmp_path: Path) -> None:
    f = tmp_path / "se.json"
    f.write_text(json.dumps([
        {"ärende-id": "1", "projektnamn": "Bredband", "stödmottagare": "Arjeplogs kommun",
         "beviljat_belopp_sek": 3929285, "beviljat_belopp_eur": 0, "projekt_starttid": "2017-01-02"},
        {"ärende-id": "2", "projektnamn": "SWElife", "stödmottagare": "Vinnova",
         "beviljat_belopp_sek": 30318084, "beviljat_belopp_eur": 0, "projekt_starttid": "2016-11-01"},
    ], ensure_ascii=False), encoding="utf-8")
    roles = roles_of(f)
    assert roles["beviljat_belopp_sek"] == "eu_amount" and roles["beviljat_belopp_eur"] != "eu_amount"
    assert read_raw_table(f).format == "json"


def test_xlsx_written_with_openpyxl(tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Liste der Vorhaben"])
    ws.append(["Name des Begünstigten", "Bezeichnung des Vorhabens", "Datum des Beginns", "Gesamtkosten (EUR)"])
    ws.append(["APM GmbH", "Neuansiedlung", dt.datetime(2014, 5, 27), 459000])
    ws.append(["WeButex GmbH", "Erweiterung", 42005, 2072725.5])
    f = tmp_path / "bayern.xlsx"
    wb.save(f)
    table = read_operations(f, detector=lambda _t: "de")
    assert [r.title for r in table.records] == ["Neuansiedlung", "Erweiterung"]
    assert table.records[0].start == dt.date(2014, 5, 27)
    assert table.records[1].start == dt.date(2015, 1, 1)  # an Excel serial number
    assert table.records[1].total_original == 2072725.5 and table.records[1].currency == "EUR"


def test_not_a_table(tmp_path: Path) -> None:
    f = tmp_path / "notes.csv"
    f.write_text("hello world\nthis is prose, not a table\n", encoding="utf-8")
    assert not is_operations_table(f)
    with pytest.raises(InputError):
        read_operations(f)
    g = tmp_path / "people.csv"
    g.write_text("name,age\nAnna,3\n", encoding="utf-8")
    assert not is_operations_table(g)


def test_inspection_renders(tmp_path: Path) -> None:
    f = tmp_path / "list.csv"
    f.write_bytes(PL_CSV.encode("cp1250"))
    text = inspect_table(f).render()
    assert "total_cost" in text and "PLN" in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "random.csv"
    f.write_bytes(data)
    assert is_operations_table(f) in (True, False)
    try:
        read_operations(f, detector=lambda _t: "und")
    except InputError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=5), min_size=1, max_size=6))
def test_random_tables_raise_only_input_errors(tmp_path: Path, rows: list[list[str]]) -> None:
    f = tmp_path / "random.csv"
    f.write_text("Project name,Beneficiary,Total cost\n" + "\n".join(",".join(r) for r in rows), encoding="utf-8")
    try:
        read_operations(f, detector=lambda _t: "und")
    except InputError:
        pass
