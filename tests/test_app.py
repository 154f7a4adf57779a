"""The explorer, page by page, with Streamlit's AppTest on the seed data (and one small list of operations)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from regiograph.settings import Settings, load_settings

APP = str(Path(__file__).resolve().parent.parent / "app.py")
OPERATIONS_FILE = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "eu-operations" / "de" / "ERDF_Bayern_2014_2020.csv"
TIMEOUT = 90


def open_page(monkeypatch: pytest.MonkeyPatch, settings: Settings, page: str, **params: str) -> AppTest:
    monkeypatch.setenv("REGIOGRAPH_DATA", str(settings.data_dir))
    monkeypatch.setenv("REGIOGRAPH_EMBEDDER", settings.embedder)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["page"] = page
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def qp(at: AppTest, key: str) -> list[str]:
    """A query parameter of the app's URL as a list of values."""
    value = at.query_params.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [c.value for c in at.caption]
    parts += [h.value for h in at.header] + [h.value for h in at.subheader]
    parts += [str(x.value) for x in at.info] + [str(x.value) for x in at.warning] + [str(x.value) for x in at.error]
    return "\n".join(parts)


def first_of(seed_store, sparql: str) -> str:  # type: ignore[no-untyped-def]
    rows = seed_store.select(sparql)
    if not rows:
        pytest.skip(f"the seed data has nothing for: {sparql}")
    return str(next(iter(rows[0].values())))


@pytest.fixture(scope="module")
def operations_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A data directory with one small list of operations (no search index: not needed here)."""
    from ingest.pipeline import ingest

    if not OPERATIONS_FILE.exists():
        pytest.skip("../shared/corpus/eu-operations is not present")
    settings = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("ops-data"))
    report = ingest([OPERATIONS_FILE], settings, build_index=False)
    if report.failed:
        pytest.skip(f"the list of operations could not be read: {report.failed[0].reason}")
    return settings


def test_search_shows_highlighted_results_facets_and_exports(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    at = open_page(monkeypatch, seed_settings, "search", q="study visits for SMEs")
    body = texts(at)
    assert "passages" in body and "<mark>" in body, body[:2000]
    assert any(m.label in {"Region", "Language", "Project", "Instrument"} for m in at.multiselect)
    assert {getattr(b, "label", "") for b in at.get("download_button")} >= {"CSV", "JSON-LD"}
    assert qp(at, "q") == ["study visits for SMEs"]
    # how the query was read, and the good practices that match it
    assert "Read as English" in body and "Good practices:" in body, body[:2000]


def test_search_names_many_places_and_shows_the_first_eight(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    query = "cooperation of Kent, Hauts-de-France, West-Vlaanderen, Midtjylland, Sweden, Denmark, Norway, China and Hungary"
    at = open_page(monkeypatch, seed_settings, "search", q=query)
    body = texts(at)
    # nine regions and countries named: eight shown, then a count of the rest
    assert "names in it:" in body and "and 1 more" in body, body[:2000]


def test_search_language_facet_filters_and_lands_in_the_url(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    at = open_page(monkeypatch, seed_settings, "search", q="internationalisation", lang="en")
    assert qp(at, "lang") == ["en"]
    badges = [m.value for m in at.markdown if m.value.startswith(":blue-badge[")]
    assert badges and all(b.startswith(":blue-badge[en]") for b in badges)


def test_document_context_shows_the_passage_escaped(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, seed_store) -> None:  # type: ignore[no-untyped-def]
    passage = first_of(seed_store, "SELECT ?p WHERE { ?p a rg:Passage ; rg:position 1 } LIMIT 1")
    at = open_page(monkeypatch, seed_settings, "document", passage=passage)
    assert any('class="rg-passage rg-target"' in m.value for m in at.markdown)


def test_practice_page(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, seed_store) -> None:  # type: ignore[no-untyped-def]
    iri = first_of(seed_store, "SELECT ?x WHERE { ?x a rg:Practice ; rg:mentionedIn ?p } LIMIT 1")
    at = open_page(monkeypatch, seed_settings, "practice", iri=iri)
    body = texts(at)
    assert "Source passages" in body and "Similar practices in other regions" in body


def test_practice_picker_sets_the_permalink(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    at = open_page(monkeypatch, seed_settings, "practice")
    box = at.selectbox[0]
    if not box.options:
        pytest.skip("no practices in the seed data")
    box.select_index(0).run()
    assert qp(at, "iri")
    assert "Source passages" in texts(at)


def test_project_page(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, seed_store) -> None:  # type: ignore[no-untyped-def]
    iri = first_of(seed_store, "SELECT ?x WHERE { ?x a rg:Project ; rg:partnerRegion ?r } LIMIT 1")
    at = open_page(monkeypatch, seed_settings, "project", iri=iri)
    body = texts(at)
    assert "Partner regions" in body and "Documents" in body
    assert at.get("plotly_chart"), "partner regions are drawn on a map"


def test_region_page_lists_partner_regions(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, seed_store) -> None:  # type: ignore[no-untyped-def]
    iri = first_of(
        seed_store,
        "SELECT ?r WHERE { ?p rg:partnerRegion ?r, ?o FILTER(?r != ?o) } GROUP BY ?r ORDER BY DESC(COUNT(?o)) LIMIT 1",
    )
    at = open_page(monkeypatch, seed_settings, "region", iri=iri)
    body = texts(at)
    assert "Partner regions" in body and "Funded operations" in body
    assert at.dataframe, "the ranked list of partner regions"


def test_network_page_and_shortest_path(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    at = open_page(monkeypatch, seed_settings, "network")
    if "No region network yet" in texts(at):
        pytest.skip("no region network in the seed data")
    assert "communities" in texts(at)
    nodes = at.selectbox(key="net_from").options
    assert len(nodes) >= 2
    at.selectbox(key="net_from").select_index(0).run()
    at.selectbox(key="net_to").select_index(len(nodes) - 1).run()
    assert not at.exception
    assert qp(at, "from") and qp(at, "to")
    body = texts(at)
    assert "step(s)" in body or "not connected" in body


def test_sparql_example_runs_and_bad_query_says_where(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    at = open_page(monkeypatch, seed_settings, "sparql", example="documents_by_language", run="1")
    assert at.dataframe and len(at.dataframe[0].value) >= 1
    at = open_page(monkeypatch, seed_settings, "sparql")
    assert "PREFIX rg:" in str(at.text_area(key="sparql_text").value)
    at.text_area(key="sparql_text").set_value("SELECT ?s WHERE { ?s ?p }").run()
    at.button(key="sparql_run").click().run()
    assert at.error and "line 1" in texts(at)
    at.text_area(key="sparql_text").set_value("DELETE WHERE { ?s ?p ?o }").run()
    at.button(key="sparql_run").click().run()
    assert at.error and "not allowed" in str(at.error[0].value)


def test_operations_table_filters_and_downloads(monkeypatch: pytest.MonkeyPatch, operations_settings: Settings) -> None:
    at = open_page(monkeypatch, operations_settings, "operations")
    assert at.dataframe, texts(at)
    total = len(at.dataframe[0].value)
    assert total > 10
    at.text_input(key="ops_text").set_value("zzzz-no-such-operation").run()
    assert len(at.dataframe[0].value) == 0
    assert qp(at, "text") == ["zzzz-no-such-operation"]
    assert at.get("download_button")


def test_operation_detail_shows_money_and_source_row(monkeypatch: pytest.MonkeyPatch, operations_settings: Settings) -> None:
    from kg.store import DataDir

    store = DataDir(operations_settings.data_dir).open_reader()
    try:
        iri = first_of(store, 'SELECT ?x WHERE { ?x a rg:Project ; dcterms:source ?s FILTER(CONTAINS(?s, "#row=")) } LIMIT 1')
    finally:
        store.close()
    at = open_page(monkeypatch, operations_settings, "project", iri=iri)
    body = texts(at)
    assert "operation from a list of operations" in body
    assert "#row=" in str([t.value for t in at.table])


def test_add_documents_page_without_uploads(monkeypatch: pytest.MonkeyPatch, seed_settings: Settings) -> None:
    at = open_page(monkeypatch, seed_settings, "add-documents")
    assert "Add documents" in texts(at)


def test_empty_data_dir_says_what_to_do(monkeypatch: pytest.MonkeyPatch, empty_settings: Settings) -> None:
    at = open_page(monkeypatch, empty_settings, "search")
    assert "no data" in texts(at).lower()


def test_helpers_escape_and_sanitise() -> None:
    from views.add_documents_page import safe_name
    from views.common import highlight

    marked = highlight("<script>alert('x')</script> study visits", "study <script>")
    assert "<script>" not in marked and "&lt;" in marked and "<mark>study</mark>" in marked
    assert safe_name("../../etc/passwd") == "passwd"
    from views.common import plain_markdown

    # a practice's description (document text) shown as a tooltip: no image, link or emphasis
    shown = plain_markdown("![x](http://tracker.example/p.png) **bold** [link](javascript:alert(1))")
    assert "![" not in shown and "](" not in shown and "**" not in shown and "\\!\\[x\\]" in shown
    assert safe_name("a b<c>.PDF") == "a_b_c.pdf"
    assert "/" not in safe_name("..\\..\\x.txt")


def test_hard_wrapped_pdf_lines_are_joined_for_reading() -> None:
    from views.common import highlight, reflow

    wrapped = (
        "To this end, the study conducted case studies of SMEs and compared policy measures at EU Level \n\n"
        "seeking to enhance such internationalisation and identified good practices in Member States. As in \n\n"
        "a globalised economy, much of the potential for SME innovation cooperation resulting in increased \n\n"
        "competitiveness is outside the EU; products or services tailor-\n\nmade to target markets."
    )
    assert reflow(wrapped).splitlines() == [
        "To this end, the study conducted case studies of SMEs and compared policy measures at EU Level seeking to enhance such "
        "internationalisation and identified good practices in Member States. As in a globalised economy, much of the potential "
        "for SME innovation cooperation resulting in increased competitiveness is outside the EU; products or services "
        "tailor-made to target markets."
    ]
    agenda = (
        "13:15 Initiatives of the European Commission to promote the internationalisation of \n\nSMEs – an overview \n\n"
        "• Samuel Maenhout, European Commission, DG Research & Innovation \n\n"
        "A comparative analysis of policy measures to support SMEs: good practice"
    )
    assert reflow(agenda).splitlines() == [
        "13:15 Initiatives of the European Commission to promote the internationalisation of SMEs – an overview",
        "• Samuel Maenhout, European Commission, DG Research & Innovation",
        "A comparative analysis of policy measures to support SMEs: good practice",
    ]
    listed = "Blockers\n\n- ✗ Language can be a barrier.\n- ✗ Not having a concrete offering to targeted companies"
    assert reflow(listed).splitlines() == ["Blockers", "- ✗ Language can be a barrier.", "- ✗ Not having a concrete offering to targeted companies"]
    assert "<mark>study</mark>" in highlight(wrapped, "study") and "\n\n" not in highlight(wrapped, "study")


def test_highlight_marks_words_of_the_same_stem_only() -> None:
    from views.common import highlight

    marked = highlight("Interreg funds International SMEs to internationalise; studies of exports", "internationalisation study")
    assert "<mark>International</mark>" in marked and "<mark>internationalise</mark>" in marked
    assert "<mark>Interreg</mark>" not in marked


def test_the_closest_sentence_is_marked_and_escaped() -> None:
    from views.common import passage_html

    text = "Workshop results\n\nThe visits were short. Four <script>x</script> organisations also took part.\nThanks."
    start = text.index("Four")
    end = text.index("part.") + len("part.")
    marked = passage_html(text, "organisations", focus=(start, end))
    assert '<span class="rg-answer">Four &lt;script&gt;x&lt;/script&gt; <mark>organisations</mark> also took part.</span>' in marked
    assert "<script>" not in marked and "short. <span" in marked and "</span>\nThanks." in marked
    # a long passage is cut around the sentence, not around the first query word
    long = "Intro sentence about organisations. " * 40 + text
    cut = passage_html(long, "organisations", max_chars=200, focus=(start + len(long) - len(text), end + len(long) - len(text)))
    assert cut.startswith("… ") and "rg-answer" in cut
    assert passage_html(text, "organisations", focus=(5, 500)) == passage_html(text, "organisations")  # a span outside the text is ignored
