"""Ingest: idempotent, replaces changed files, survives bad files and being killed."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from rdflib import Literal

from ingest.pipeline import ingest, remove
from kg.queries import stats
from kg.store import DataDir, GraphStore
from regiograph.settings import Settings, load_settings
from tests.conftest import REPO, require_seeds


def _quads(settings: Settings) -> set[str]:
    import io

    import pyoxigraph as ox

    buf = io.BytesIO()
    DataDir(settings.data_dir).open_reader().oxigraph.dump(buf, ox.RdfFormat.N_QUADS)
    return set(buf.getvalue().decode("utf-8").splitlines())


def test_reingesting_the_seeds_changes_nothing(empty_settings: Settings) -> None:
    seeds = require_seeds()
    first = ingest([seeds], empty_settings, build_index=False)
    assert first.count("added") == 5 and not first.failed
    before = _quads(empty_settings)
    generation = DataDir(empty_settings.data_dir).current_generation()
    second = ingest([seeds], empty_settings, build_index=False)
    assert second.count("unchanged") == 5 and not second.changed
    assert DataDir(empty_settings.data_dir).current_generation() == generation
    assert _quads(empty_settings) == before


def test_reread_reads_unchanged_files_again_without_duplicating_them(empty_settings: Settings) -> None:
    """After an upgrade that splits documents differently, ``reread`` replaces each file's graph
    with a fresh reading of the same bytes: the same documents, nothing twice."""
    seeds = require_seeds()
    ingest([seeds], empty_settings, build_index=False)
    before = _quads(empty_settings)
    report = ingest([seeds], empty_settings, build_index=False, reread=True)
    assert [f.status for f in report.files] == ["replaced"] * 5 and report.changed
    assert _quads(empty_settings) == before  # the same code reads the same bytes the same way
    store = DataDir(empty_settings.data_dir).open_reader()
    assert stats(store).documents == 5
    store.close()


def test_changed_file_replaces_its_old_graph(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "note.txt"
    doc.write_text("Hampshire County Council runs export workshops for SMEs. " * 10, encoding="utf-8")
    ingest([folder], empty_settings, build_index=False)
    doc.write_text("Region Midtjylland hosts study visits for growth companies. " * 10, encoding="utf-8")
    report = ingest([folder], empty_settings, build_index=False)
    assert [f.status for f in report.files] == ["replaced"]
    store = DataDir(empty_settings.data_dir).open_reader()
    texts = [str(r["t"]) for r in store.select("SELECT ?t WHERE { ?p a rg:Passage ; rg:text ?t }")]
    assert texts and all("Midtjylland" in t for t in texts)
    assert stats(store).documents == 1


def test_bad_files_are_reported_and_the_batch_goes_on(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "mixed"
    (folder / "deep" / "deeper").mkdir(parents=True)
    (folder / "good.txt").write_text("Kent County Council leads the Innovative Sector Exchange project. " * 8)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.pdf").write_bytes(b"\x00\x01\x02 definitely not a pdf" * 50)
    (folder / "deep" / "deeper" / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "deep" / "loop").symlink_to(folder, target_is_directory=True)
    report = ingest([folder], empty_settings, build_index=False)
    by_name = {f.name: f for f in report.files}
    assert by_name["good.txt"].status == "added"
    for name, reason in [("empty.txt", "empty"), ("junk.pdf", "not a PDF"), ("binary.txt", "binary")]:
        assert by_name[name].status == "failed"
        assert name in by_name[name].reason and reason in by_name[name].reason
    assert stats(DataDir(empty_settings.data_dir).open_reader()).documents == 1


def test_remove_drops_a_document_and_its_passages(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "a.txt").write_text("Skåne supports cluster matchmaking events for small firms. " * 8)
    (folder / "b.txt").write_text("Donegal runs trade missions for food exporters every year. " * 8)
    ingest([folder], empty_settings, build_index=False)
    report = remove([folder / "a.txt"], empty_settings)
    assert [f.status for f in report.files] == ["removed"]
    store = DataDir(empty_settings.data_dir).open_reader()
    texts = [str(r["t"]) for r in store.select("SELECT ?t WHERE { ?p a rg:Passage ; rg:text ?t }")]
    assert texts and all("Donegal" in t for t in texts)


def test_killed_ingest_leaves_previous_generation_usable(tmp_path: Path) -> None:
    seeds = require_seeds()
    settings = load_settings(environ={}, data_dir=tmp_path / "data")
    ingest([seeds], settings, build_index=False)
    before = stats(DataDir(settings.data_dir).open_reader())
    bulk = tmp_path / "bulk"
    bulk.mkdir()
    small = [p for p in sorted(seeds.iterdir()) if p.stat().st_size < 10_000]
    for i in range(150):
        shutil.copy(small[i % len(small)], bulk / f"copy-{i:03d}.txt")
        with (bulk / f"copy-{i:03d}.txt").open("a") as fh:
            fh.write(f"\n\nVariant {i} of the document, so each copy is a new document.\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "regiograph", "--data", str(settings.data_dir), "ingest", "--no-index", str(bulk)],
        cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    seen = b""
    while not re.search(rb"\[read\] [1-9]\d*/150", seen) and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stderr.read1(4096)  # type: ignore[attr-defined]
    assert proc.poll() is None, "the ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = DataDir(settings.data_dir)
    assert stats(data.open_reader()) == before  # readers see the last published generation
    report = ingest([bulk], settings, build_index=False)  # the next ingest completes the work
    assert not report.failed
    assert stats(data.open_reader()).documents == before.documents + 150


def _pairs_from_partner_regions(store: GraphStore) -> dict[tuple[str, str], set[str]]:
    """Region pairs computed at query time from the projects' partner regions (the definition)."""
    rows = store.select(
        """SELECT DISTINCT ?a ?b ?p WHERE { ?p a rg:Project ; rg:partnerRegion ?a, ?b . FILTER(STR(?a) < STR(?b)) }"""
    )
    pairs: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        pairs.setdefault((str(r["a"]), str(r["b"])), set()).add(str(r["p"]))
    return pairs


def _materialised_pairs(store: GraphStore) -> dict[tuple[str, str], set[str]]:
    """The rg:Cooperation nodes of the derived graph; checks each node's count and IRI on the way."""
    from kg.namespaces import DERIVED_GRAPH
    from kg.writer import cooperation_iri

    rows = store.select(
        """SELECT ?c ?a ?b ?n ?p WHERE { GRAPH ?g {
             ?c a rg:Cooperation ; rg:region ?a, ?b ; rg:sharedProjects ?n ; rg:viaProject ?p .
             FILTER(STR(?a) < STR(?b)) } }""",
        {"g": DERIVED_GRAPH},
    )
    pairs: dict[tuple[str, str], set[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (str(r["a"]), str(r["b"]))
        assert str(r["c"]) == str(cooperation_iri(*key)) == str(cooperation_iri(key[1], key[0]))
        pairs.setdefault(key, set()).add(str(r["p"]))
        counts[key] = int(str(r["n"]))
    assert counts == {key: len(projects) for key, projects in pairs.items()}
    nodes = store.select("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a rg:Cooperation }")
    assert int(str(nodes[0]["n"])) == len(pairs)  # no node without its two regions and projects
    links = store.select("SELECT ?a ?b WHERE { ?a rg:cooperatesWith ?b }")
    assert {(str(r["a"]), str(r["b"])) for r in links} == {*pairs, *((b, a) for a, b in pairs)}
    return pairs


def _practice_countries(store: GraphStore, derived: bool) -> set[tuple[str, str]]:
    """(practice, country): as derived (rg:practiceCountry), or joined at query time."""
    if derived:
        rows = store.select("SELECT DISTINCT ?practice ?country WHERE { ?practice rg:practiceCountry ?country }")
    else:
        rows = store.select(
            """SELECT DISTINCT ?practice ?country WHERE {
                 ?practice a rg:Practice .
                 { ?practice rg:locatedIn ?region } UNION { ?project rg:hasPractice ?practice ; rg:partnerRegion ?region }
                 ?region rg:countryCode ?country }"""
        )
    return {(str(r["practice"]), str(r["country"])) for r in rows}


def _practice_tallies(store: GraphStore, derived: bool) -> set[tuple[str, str, int]]:
    """(type, country or "", practices): the derived rg:PracticeTally nodes, or counted at query time."""
    if derived:
        rows = store.select(
            """SELECT ?type ?country ?n WHERE {
                 ?t a rg:PracticeTally ; rg:tallyType ?type ; rg:practiceCount ?n . OPTIONAL { ?t rg:tallyCountry ?country } }"""
        )
    else:
        rows = store.select(
            """SELECT ?type ?country (COUNT(DISTINCT ?practice) AS ?n) WHERE {
                 ?practice a rg:Practice ; rg:practiceType ?type .
                 OPTIONAL { { ?practice rg:locatedIn ?region } UNION { ?project rg:hasPractice ?practice ; rg:partnerRegion ?region }
                            ?region rg:countryCode ?country }
               } GROUP BY ?type ?country"""
        )
    return {(str(r["type"]), str(r["country"] or ""), int(str(r["n"]))) for r in rows}


def test_derived_region_pairs_follow_reingest_and_removal(tmp_path: Path, empty_settings: Settings) -> None:
    from kg.queries import derive_cooperation, documents_by_source_path
    from kg.writer import graph_iri

    seeds = require_seeds()
    folder = tmp_path / "seeds"
    folder.mkdir()
    # Innovative Sector Exchange (five partner regions) and two small seeds with a pair each.
    for name in ("000_32b61af0d91e9bab.txt", "001_7db98c1f235aae13.txt", "003_d0ed662208008e57.txt"):
        shutil.copy(seeds / name, folder / name)
    ingest([folder], empty_settings, build_index=False)
    data = DataDir(empty_settings.data_dir)
    store = data.open_reader()
    before = _materialised_pairs(store)
    assert before == _pairs_from_partner_regions(store)
    assert len(before) >= 10  # ISE's five regions alone make ten pairs
    rows = store.select(
        """SELECT DISTINCT ?p WHERE { GRAPH ?g { ?p rg:partnerRegion ?r } ?g prov:wasDerivedFrom/dcterms:source ?src }""",
        {"src": Literal("003_d0ed662208008e57.txt")},
    )
    ise = {str(r["p"]) for r in rows}
    assert ise and ise <= {p for projects in before.values() for p in projects}
    assert _practice_countries(store, derived=True) == _practice_countries(store, derived=False) != set()
    assert _practice_tallies(store, derived=True) == _practice_tallies(store, derived=False) != set()
    store.close()

    # Re-ingest: the ISE file changed and names no region any more; its pairs go.
    (folder / "003_d0ed662208008e57.txt").write_text("The project supports small firms with advice. " * 10)
    report = ingest([folder], empty_settings, build_index=False)
    assert [f.status for f in report.files if f.status != "unchanged"] == ["replaced"]
    store = data.open_reader()
    replaced = _materialised_pairs(store)
    assert replaced == _pairs_from_partner_regions(store)
    assert len(replaced) < len(before)
    assert not ise & {p for projects in replaced.values() for p in projects}
    assert _practice_countries(store, derived=True) == _practice_countries(store, derived=False)
    assert _practice_tallies(store, derived=True) == _practice_tallies(store, derived=False)
    store.close()

    # Removal: what `ingest.pipeline.remove` does to the graph (drop the document's graph, then
    # derive), without the search index it also rebuilds.
    with data.write_lock():
        primary = data.open_primary()
        for path, docs in documents_by_source_path(primary).items():
            if Path(path).name in {"000_32b61af0d91e9bab.txt", "001_7db98c1f235aae13.txt"}:
                for _, content_hash in docs:
                    primary.remove_graph(graph_iri(content_hash[:16], empty_settings.base_iri))
        derive_cooperation(primary)
        assert _materialised_pairs(primary) == _pairs_from_partner_regions(primary) == {}
        assert _practice_countries(primary, derived=True) == _practice_countries(primary, derived=False)
        assert _practice_tallies(primary, derived=True) == _practice_tallies(primary, derived=False)
        primary.close()


def test_every_seed_pair_is_materialised(empty_settings: Settings) -> None:
    ingest([require_seeds()], empty_settings, build_index=False)
    store = DataDir(empty_settings.data_dir).open_reader()
    pairs = _materialised_pairs(store)
    assert pairs == _pairs_from_partner_regions(store) and len(pairs) >= 20
    assert _practice_countries(store, derived=True) == _practice_countries(store, derived=False)
    tallies = _practice_tallies(store, derived=True)
    assert tallies == _practice_tallies(store, derived=False) and len(tallies) >= 3
    assert stats(store).region_links == len(pairs)
    store.close()


def test_practice_tallies_count_each_type_and_country_once_per_practice() -> None:
    from kg.queries import practice_tallies

    types = [("p1", "T:export"), ("p1", "T:export"), ("p2", "T:export"), ("p2", "T:training"), ("p3", "T:training")]
    countries = {"p1": ["DK", "SE"], "p2": ["DK"]}  # p3: no known country
    assert practice_tallies(types, countries) == {
        ("T:export", "DK"): 2,
        ("T:export", "SE"): 1,
        ("T:training", None): 1,
        ("T:training", "DK"): 1,
    }


def _small_document(folder: Path) -> Path:
    doc = folder / "docs" / "note.txt"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(
        "Regional export support\n\n"
        + "The region runs study visits for small firms that want to sell abroad, with a coach for each firm. " * 6
        + "\n\nResults\n\n"
        + "Forty firms took part in three years and half of them found a first customer in another country. " * 6,
        encoding="utf-8",
    )
    return doc


def test_index_progress_counts_every_step_once(empty_settings: Settings, tmp_path: Path) -> None:
    """The index stage's progress climbs to its total and stops there, on a first ingest (each
    prose passage's vector and states from one run) and on a re-ingest from the cache."""
    from ingest.pipeline import Progress

    doc = _small_document(tmp_path)
    for reread in (False, True):
        events: list[Progress] = []
        report = ingest([doc.parent], empty_settings, progress=events.append, reread=reread)
        assert not report.failed
        index = [(e.done, e.total) for e in events if e.stage == "index"]
        assert index, [e.stage for e in events]
        assert all(a[0] <= b[0] for a, b in itertools.pairwise(index))
        assert all(done <= total for done, total in index) and index[-1][0] == index[-1][1]


def test_the_token_budget_is_a_setting(empty_settings: Settings, tmp_path: Path) -> None:
    """Over ``rerank_tokens_max`` (REGIOGRAPH_RERANK_TOKENS) the index keeps no token states,
    only their basis (searches compute them: REGIOGRAPH_RERANK_ON_DEMAND), and says how to
    raise it; raised, a reindex brings them back."""
    from ingest.pipeline import reindex
    from search.late import TokenStates

    doc = _small_document(tmp_path)
    small = empty_settings.with_overrides(rerank_tokens_max=10)
    report = ingest([doc.parent], small)
    assert not report.failed and report.generation
    folder = DataDir(small.data_dir).index_dir(report.generation)
    assert folder is not None and TokenStates.load(folder) is None
    note = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["token_states_note"]
    assert "REGIOGRAPH_RERANK_TOKENS" in note and "reindex" in note
    from typer.testing import CliRunner

    from regiograph.cli import app

    assert (folder / "token_basis.npy").exists()  # searches compute their candidates' states in it
    shown = CliRunner().invoke(app, ["--data", str(small.data_dir), "stats"], env={"REGIOGRAPH_RERANK_TOKENS": "10"})
    assert shown.exit_code == 0 and "token re-ranking on demand" in shown.output and "REGIOGRAPH_RERANK_TOKENS" in shown.output
    off = CliRunner().invoke(app, ["--data", str(small.data_dir), "stats"], env={"REGIOGRAPH_RERANK_TOKENS": "10", "REGIOGRAPH_RERANK_ON_DEMAND": "0"})
    assert off.exit_code == 0 and "token re-ranking off" in off.output and "REGIOGRAPH_RERANK_TOKENS" in off.output
    assert "language reference" not in off.output  # it serves the token re-ranking alone ("0 of 3 languages" said nothing)
    again = reindex(load_settings(environ={"REGIOGRAPH_RERANK_TOKENS": "100000"}, data_dir=small.data_dir))
    folder = DataDir(small.data_dir).index_dir(again.generation)
    assert folder is not None
    states = TokenStates.load(folder)
    assert states is not None and len(states.tokens) > 0
