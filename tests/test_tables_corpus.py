"""The eleven published lists of ../shared/corpus/eu-operations (skipped when absent)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingest.tables import OperationsTable, read_operations

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "eu-operations"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus of lists of operations not present")

#: file -> (records per SOURCE.md, currency)
EXPECTED = {
    "dk/ERDF_Denmark_2014-2020.csv": (107, "DKK"),
    "dk/ERDF_Denmark_2007-2013.csv": (598, "DKK"),
    "nl/StructuralFundsNL2007NOW.csv": (1808, "EUR"),
    "se/Sweden_all_funds_2014-2020.json": (374, "SEK"),
    "uk/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv": (394, "GBP"),
    "uk/ERDF_Northern_Ireland_2014-2020.csv": (196, "GBP"),
    "de/ERDF_Bayern_2014_2020.csv": (77, "EUR"),
    "at/Vorhabensliste_IWB_EFRE_AT2014-2020_Download.csv": (49, "EUR"),
    "fi/projektilista-csv-final.csv": (2881, "EUR"),
    "pl/Poland_ERDF_2014_2020.csv": (749, "PLN"),
    "ie/ireland_raw_rescrape.csv": (3626, "EUR"),
}
#: measured: every file parses 100% of its non-empty amount cells (bench/tables_bench.py)
AMOUNTS_PARSED_FLOOR = 95.0


@pytest.fixture(scope="module")
def tables() -> dict[str, OperationsTable]:
    return {name: read_operations(CORPUS / name) for name in EXPECTED}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_counts_and_currency(tables: dict[str, OperationsTable], name: str) -> None:
    rows, currency = EXPECTED[name]
    s = tables[name].summary
    assert s.rows_read == rows
    assert rows * 0.97 <= s.projects <= rows
    assert s.currency == currency
    assert s.amounts_parsed_pct is not None and s.amounts_parsed_pct >= AMOUNTS_PARSED_FLOOR
    assert all(r.currency == currency for r in tables[name].records)


def test_danish_amounts_are_dkk_and_assumed_where_unstated(tables: dict[str, OperationsTable]) -> None:
    rec = tables["dk/ERDF_Denmark_2014-2020.csv"].records[0]
    assert rec.total_original == Decimal(15414794) and rec.eu_original == Decimal(7707397)
    assert rec.total_eur is not None and rec.total_eur < Decimal(2_500_000)
    old = tables["dk/ERDF_Denmark_2007-2013.csv"].records[0]
    assert old.total_original == Decimal("32467.02") and old.amount_note and "assumed DKK" in old.amount_note


def test_sweden_uses_sek_not_the_zero_eur_column(tables: dict[str, OperationsTable]) -> None:
    rec = tables["se/Sweden_all_funds_2014-2020.json"].records[0]
    assert rec.eu_original == Decimal(3929285) and rec.eu_eur and rec.eu_eur > 0


def test_england_millions_header_checked_against_values(tables: dict[str, OperationsTable]) -> None:
    # the header says £m, but its values are whole pounds (1434364): read as published, and noted
    rec = tables["uk/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv"].records[0]
    assert rec.eu_original == Decimal(1434364) and rec.amount_note and "states millions" in rec.amount_note


def test_northern_ireland_rate_column_holds_amounts(tables: dict[str, OperationsTable]) -> None:
    rec = tables["uk/ERDF_Northern_Ireland_2014-2020.csv"].records[0]
    assert rec.total_original == Decimal("2888913.33") and rec.eu_original == Decimal("1733348.00")


def test_polish_cp1250_text(tables: dict[str, OperationsTable]) -> None:
    titles = [r.title for r in tables["pl/Poland_ERDF_2014_2020.csv"].records]
    assert "Międzynarodowe Agendy Badawcze" in titles
