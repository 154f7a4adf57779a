"""The explorer in a real browser: Streamlit served on loopback, driven by Playwright on Debian's Chromium.

Takes one screenshot per page into docs/screenshots/. Skipped when /usr/bin/chromium is absent
(`make browser-deps` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from regiograph.settings import Settings, load_settings

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic",
]
# Hostile markup, worded away from the demo query so that the search screenshot shows the seeds.
SCRIPT_DOC = (
    "Hampshire <script>window.__pwned = 1; document.title = 'pwned'</script> business support for harbour firms.\n\n"
    "A second paragraph about <b>bold claims</b> & cheese exports in Midtjylland."
)

if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (make browser-deps)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_streamlit(data_dir: Path, port: int, embedder: str = "") -> subprocess.Popen[bytes]:
    """`streamlit run app.py` on loopback with the given data directory (what `regiograph app` runs)."""
    env = dict(os.environ, REGIOGRAPH_DATA=str(data_dir))
    if embedder:
        env["REGIOGRAPH_EMBEDDER"] = embedder
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start within 60 s")


@pytest.fixture(scope="module")
def browser_data(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seed data plus a document that contains a <script> tag (copied, then ingested)."""
    from ingest.pipeline import ingest

    data = tmp_path_factory.mktemp("browser-data")
    shutil.copytree(seed_settings.data_dir, data, dirs_exist_ok=True)
    settings = load_settings(environ={}, data_dir=data, embedder=seed_settings.embedder)
    doc = tmp_path_factory.mktemp("script-doc") / "script-test.txt"
    doc.write_text(SCRIPT_DOC, encoding="utf-8")
    operations = REPO.parent / "shared" / "corpus" / "eu-operations" / "de" / "ERDF_Bayern_2014_2020.csv"
    report = ingest([doc, *([operations] if operations.exists() else [])], settings)
    assert not report.failed, [f.reason for f in report.failed]
    return settings


@pytest.fixture(scope="module")
def server(browser_data: Settings) -> Iterator[str]:
    port = free_port()
    proc = start_streamlit(browser_data.data_dir, port, browser_data.embedder)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.set_default_timeout(90_000)
        # A first visit loads the page list (and, with a stray empty pages/ folder, shows a one-off notice).
        pg.goto(server)
        settle(pg)
        yield pg
        context.close()
        browser.close()


def settle(pg: object) -> None:
    """Wait until Streamlit has finished running the script."""
    pg.wait_for_selector('[data-testid="stApp"]')  # type: ignore[attr-defined]
    time.sleep(0.5)
    pg.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid^=\"stSkeleton\"], .stSkeleton')",
        timeout=90_000,
    )
    time.sleep(0.8)


def shot(pg: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / name), full_page=True)  # type: ignore[attr-defined]


def url(server: str, path: str, **params: str) -> str:
    return f"{server}/{path}" + (("?" + urllib.parse.urlencode(params)) if params else "")


def test_search_open_result_and_context(page: object, server: str) -> None:
    pg = page
    pg.goto(url(server, "", q="study visits for SME internationalisation"))  # type: ignore[attr-defined]
    settle(pg)
    pg.wait_for_selector("mark")  # type: ignore[attr-defined]
    pg.wait_for_selector(".rg-answer")  # type: ignore[attr-defined]  # each passage's sentence closest to the query
    assert pg.locator(".rg-passage").count() >= 1  # type: ignore[attr-defined]
    # the practice type the query names is among the results, not only "the study" of the report
    shown = " ".join(" ".join(pg.locator(".rg-passage").all_inner_texts()).casefold().split())  # type: ignore[attr-defined]
    assert "study visit" in shown
    pg.wait_for_selector('[data-testid="stMultiSelect"] input')  # type: ignore[attr-defined]
    pg.wait_for_selector('[data-testid="stPageLink"] a')  # type: ignore[attr-defined]
    pg.wait_for_selector('[data-testid="stDownloadButton"] button')  # type: ignore[attr-defined]
    # how the query was read: its language, and the practice type it names (a badge, no page)
    pg.get_by_text("Read as English").first.wait_for()  # type: ignore[attr-defined]
    pg.get_by_text("study visit (practice type)").first.wait_for()  # type: ignore[attr-defined]
    # the good practices that match, linked to their pages
    pg.get_by_text("Good practices:").first.wait_for()  # type: ignore[attr-defined]
    assert pg.locator('[data-testid="stPageLink"] a[href*="practice?iri="]').count() >= 1  # type: ignore[attr-defined]
    settle(pg)
    shot(pg, "search.png")
    pg.get_by_text("Show in context").first.click()  # type: ignore[attr-defined]
    pg.wait_for_selector(".rg-target")  # type: ignore[attr-defined]
    settle(pg)
    assert "/document" in pg.url  # type: ignore[attr-defined]


def test_a_question_in_another_language_marks_the_answering_sentence(page: object, server: str) -> None:
    """A Danish question about the English cluster booklet: none of its words are in the
    answer, so nothing is highlighted as a word, but the sentence that answers is marked."""
    pg = page
    pg.goto(url(server, "", q="Hvor mange klynger fra hvor mange lande deltog i de tre workshops?"))  # type: ignore[attr-defined]
    settle(pg)
    pg.wait_for_selector(".rg-answer")  # type: ignore[attr-defined]
    first = pg.locator(".rg-passage").first  # type: ignore[attr-defined]
    assert "More than 70 clusters from 10 countries" in first.locator(".rg-answer").inner_text()
    shot(pg, "search-answer.png")


def test_a_question_for_a_phone_number_says_so_and_finds_the_number(page: object, server: str) -> None:
    """Asked in German for a phone number, the page says what it read the question to ask for,
    and the first passage, in Danish, holds the number."""
    pg = page
    pg.goto(url(server, "", q="Welche Telefonnummer hat die Kommunikationsmanagerin des EIS-Projekts?"))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_text("asks for a phone number").first.wait_for()  # type: ignore[attr-defined]
    first = pg.locator(".rg-passage").first  # type: ignore[attr-defined]
    assert "+32 488 32 62 27" in first.inner_text()
    shot(pg, "search-phone.png")


def test_script_in_a_document_shows_as_text(page: object, server: str) -> None:
    pg = page
    pg.goto(url(server, "", q="Hampshire script business support"))  # type: ignore[attr-defined]
    settle(pg)
    target = pg.locator(".rg-passage", has_text="window.__pwned")  # type: ignore[attr-defined]
    target.first.wait_for()
    assert "<script>" in target.first.inner_text()
    assert pg.evaluate("() => window.__pwned === undefined")  # type: ignore[attr-defined]
    assert pg.title() != "pwned"  # type: ignore[attr-defined]
    assert pg.locator(".rg-passage b").count() == 0  # type: ignore[attr-defined]


def test_practice_page(page: object, server: str, seed_store) -> None:  # type: ignore[no-untyped-def]
    rows = seed_store.select(
        "SELECT ?x (COUNT(?f) AS ?n) WHERE { ?x a rg:Practice ; rg:mentionedIn ?p ."
        " OPTIONAL { ?x rg:evidenceOfSuccess|rg:resourcesNeeded|rg:difficulties|rg:transferPotential|dcterms:description ?f } }"
        " GROUP BY ?x ORDER BY DESC(?n) LIMIT 1"
    )
    if not rows:
        pytest.skip("no practice in the seed data")
    pg = page
    pg.goto(url(server, "practice", iri=str(rows[0]["x"])))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_text("Similar practices in other regions").wait_for()  # type: ignore[attr-defined]
    shot(pg, "practice.png")


def test_similar_practices_of_the_same_type_come_first(page: object, server: str) -> None:
    """The Danish company visit (practice type "study visit") lists the English study visits
    first among similar practices, its type named in the card (before: a workshop and a trade
    mission came first, by text alone)."""
    pg = page
    pg.goto(url(server, "practice", iri="https://w3id.org/regiograph/id/practice/eis-study-visit"))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_text("Similar practices in other regions").wait_for()  # type: ignore[attr-defined]
    first = pg.get_by_text(re.compile(r"similarity \d\.\d\d")).first  # type: ignore[attr-defined]
    first.wait_for()
    assert first.inner_text().startswith("study visit · similarity"), first.inner_text()
    first.scroll_into_view_if_needed()
    shot(pg, "practice-similar.png")


def test_project_page(page: object, server: str, seed_store) -> None:  # type: ignore[no-untyped-def]
    rows = seed_store.select(
        "SELECT ?x (COUNT(?r) AS ?n) WHERE { ?x a rg:Project ; rg:partnerRegion ?r } GROUP BY ?x ORDER BY DESC(?n) LIMIT 1"
    )
    if not rows:
        pytest.skip("no project with partner regions in the seed data")
    pg = page
    pg.goto(url(server, "project", iri=str(rows[0]["x"])))  # type: ignore[attr-defined]
    settle(pg)
    pg.wait_for_selector(".js-plotly-plot")  # type: ignore[attr-defined]
    shot(pg, "project.png")


def test_open_a_region(page: object, server: str, seed_store) -> None:  # type: ignore[no-untyped-def]
    rows = seed_store.select(
        "SELECT ?r WHERE { ?p rg:partnerRegion ?r, ?o FILTER(?r != ?o) ?r rg:nutsCode ?n } GROUP BY ?r ORDER BY DESC(COUNT(DISTINCT ?o)) LIMIT 1"
    )
    if not rows:
        pytest.skip("no region with partners in the seed data")
    pg = page
    pg.goto(url(server, "region", iri=str(rows[0]["r"])))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_text("Partner regions").first.wait_for()  # type: ignore[attr-defined]
    pg.wait_for_selector(".js-plotly-plot")  # type: ignore[attr-defined]
    shot(pg, "region.png")


def test_network_page(page: object, server: str) -> None:
    pg = page
    pg.goto(url(server, "network"))  # type: ignore[attr-defined]
    settle(pg)
    shot(pg, "network.png")


def test_operations_page(page: object, server: str) -> None:
    pg = page
    pg.goto(url(server, "operations"))  # type: ignore[attr-defined]
    settle(pg)
    shot(pg, "operations.png")


def test_run_an_example_sparql_query(page: object, server: str) -> None:
    pg = page
    pg.goto(url(server, "sparql", example="documents_by_language"))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_role("button", name="Run query").click()  # type: ignore[attr-defined]
    pg.wait_for_selector('[data-testid="stDataFrame"]')  # type: ignore[attr-defined]
    settle(pg)
    shot(pg, "sparql.png")


def test_a_sparql_query_ranks_passages_with_rg_similar(page: object, server: str) -> None:
    pg = page
    query = (
        "SELECT ?source ?score ?t WHERE {\n  ?p a rg:Passage ; rg:text ?t ; dcterms:isPartOf ?d . ?d dcterms:source ?source .\n"
        '  BIND(rg:similar(?t, "Hvordan hjælper klynger SMV\'er med at komme ind på nye markeder?") AS ?score)\n'
        "} ORDER BY DESC(?score) LIMIT 5"
    )
    pg.goto(url(server, "sparql", query=query))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_role("button", name="Run query").click()  # type: ignore[attr-defined]
    pg.wait_for_selector('[data-testid="stDataFrame"]')  # type: ignore[attr-defined]
    settle(pg)
    body = pg.inner_text("body")  # type: ignore[attr-defined]
    assert "5 rows" in body and "query failed" not in body and "search index" not in body, body[:2000]
    shot(pg, "sparql-similar.png")


def test_add_documents_page(page: object, server: str) -> None:
    pg = page
    pg.goto(url(server, "add-documents"))  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_text("Files").first.wait_for()  # type: ignore[attr-defined]
    shot(pg, "add-documents.png")


def test_legacy_page_parameter_opens_the_page(page: object, server: str) -> None:
    pg = page
    pg.goto(f"{server}/?page=sparql")  # type: ignore[attr-defined]
    settle(pg)
    pg.get_by_role("button", name="Run query").wait_for()  # type: ignore[attr-defined]
