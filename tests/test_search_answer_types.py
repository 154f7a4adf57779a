"""Answer types (search/answer_types.py): what a question asks for, what a passage holds, and
the bonus that brings the contact block to the top."""

from __future__ import annotations

import numpy as np
import pytest

from regiograph.settings import Settings
from search import answer_types
from search.answer_types import asked, held
from search.api import Searcher, load_searcher
from search.late import DEPTH, rerank

DANISH_SEED = "001_7db98c1f235aae13.txt"


@pytest.mark.parametrize(
    ("question", "types"),
    [
        ("What is the phone number of the project manager?", {"phone"}),
        ("Welche Telefonnummer hat die Projektleiterin?", {"phone"}),
        ("Wat is het telefoonnummer van de coördinator?", {"phone"}),
        ("Quel est le numéro de téléphone du chef de projet ?", {"phone"}),
        ("Hvad er hans tlf.?", {"phone"}),
        ("Jaki jest numer telefonu koordynatora?", {"phone"}),
        ("Vilken e-postadress har koordinatorn?", {"email"}),
        ("Quelle est l'adresse e-mail de la responsable ?", {"email"}),
        ("Hvad er hendes mailadresse?", {"email"}),
        ("Qual è l'indirizzo e-mail di Sarah?", {"email"}),
        ("Op welke website staat het rapport?", {"web"}),
        ("Hvor på nettet kan jeg læse mere?", {"web"}),
        ("Var på nätet finns programmet?", {"web"}),
        ("Auf welcher Webseite steht das?", {"web"}),
        ("¿Cuál es la página web del proyecto?", {"web"}),
        ("Where online can I read about the project?", {"web"}),
        ("Wie is de contactpersoon bij de provincie?", {"contact"}),
        ("Vem kan man kontakta på WSX Enterprise?", {"contact"}),
        ("Who should I contact about the call?", {"contact"}),
    ],
)
def test_a_question_asks_for_an_answer_type_in_many_languages(question: str, types: set[str]) -> None:
    assert asked(question) == types


@pytest.mark.parametrize(
    "question",
    [
        "How do regions help SMEs find international contacts?",
        "Which smartphone apps did the cluster develop?",
        "What online tools support SME internationalisation?",  # online, but not "where"
        "Welche Webinare hat das Projekt organisiert?",
        "Wie hoch ist das Budget des Projekts?",
        "Comment les clusters aident-ils les PME à exporter ?",
    ],
)
def test_most_questions_ask_for_none(question: str) -> None:
    assert asked(question) == frozenset()


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("Malou Munkholm, tlf. + 45 2946 8880, mail: Malou.munkholm@ru.rm.dk", {"phone", "email", "contact"}),
        ("Call us on +44 (0)1622 696 444.", {"phone", "contact"}),
        ("Tel: 01962 845 778", {"phone", "contact"}),
        ("Read more: https://www.interregeurope.eu/eis/", {"web"}),
        ("see www.bsr-stars.eu for the evaluation", {"web"}),
        ("write to info@example.org", {"email", "contact"}),
        ("Total budget (EUR)\t1.210.000\t1.526.500\t1.355.000", set()),  # table cells, not a number to call
        ("a budget of 6 000 000 EUR over 2014-2020", set()),
        ("ISBN 978-92-79-12345-6, published in 2014", set()),
        ("SMEs grew by + 9.3% in 2016", set()),
    ],
)
def test_a_passage_holds_what_its_text_shows(text: str, types: set[str]) -> None:
    assert held(text) == types


def test_rerank_adds_the_bonus_as_it_is() -> None:
    """The bonus is added in standard units, not z-scored: one holder among tied candidates
    rises to the top, a small bonus does not overturn a clear lead, and no bonus moves nothing."""
    items = [(i, 1.0 - i / 100) for i in range(DEPTH)]

    def sentences(rows: list[int]) -> np.ndarray:  # tied sentence evidence
        return np.full(len(rows), 0.5)

    def bonus_for(row: int, size: float):  # type: ignore[no-untyped-def]
        return lambda rows: np.array([size if r == row else 0.0 for r in rows])

    assert rerank(items, None, None, sentences=sentences, bonus=bonus_for(5, 3.0))[0][0] == 5
    assert rerank(items, None, None, sentences=sentences, bonus=bonus_for(19, 0.1))[0][0] == 0
    assert rerank(items, None, None, sentences=sentences, bonus=bonus_for(5, 0.0)) == items


@pytest.fixture(scope="module")
def searcher(seed_settings: Settings) -> Searcher:
    return load_searcher(seed_settings)


def test_a_phone_question_finds_the_contact_block_in_another_language(searcher: Searcher) -> None:
    """Asked in German for the communication manager's phone number, the Danish news item's
    contact block (with the number) comes first; without the bonus the press release's
    closing paragraph, which names her but gives no number, is ahead of it."""
    question = "Welche Telefonnummer hat die Kommunikationsmanagerin des EIS-Projekts?"
    hits = searcher.search(question, k=5)
    assert hits[0].source == DANISH_SEED and "+32 488 32 62 27" in hits[0].text
    searcher.answer_bonus = 0.0
    try:
        without = searcher.search(question, k=5)
    finally:
        searcher.answer_bonus = answer_types.BONUS
    assert "+32 488 32 62 27" not in without[0].text


def test_a_web_address_below_the_head_joins_the_reranking(searcher: Searcher) -> None:
    """A passage that holds a web address, below the re-ranker's first 20, joins them when the
    question asks where to read more; a question that asks for nothing takes none."""
    question = "Var på nätet kan jag läsa mer om företaget som ordnar inspirationsresor för aktörer i turistbranschen?"
    items = searcher.rank(question, k=100)
    joined = searcher._answer_holders(answer_types.asked(question), items, set())
    assert joined and len(joined) <= answer_types.JOIN
    assert all("web" in held(searcher._passage_text(r)) for r in joined)
    assert searcher._answer_holders(answer_types.asked("Hvordan hjælper klynger små virksomheder med at eksportere?"), items, set()) == []


def test_the_reading_says_what_the_question_asks_for(searcher: Searcher, seed_settings: Settings) -> None:
    """The search says what it took the question to ask for, in the reading and on the CLI's
    first line; a question that asks for nothing says nothing of it."""
    from typer.testing import CliRunner

    from regiograph.cli import app

    question = "Hvad er telefonnummeret og mailadressen på EIS-projektets kontaktperson?"
    assert searcher.read_query(question).asks == ["a phone number", "an e-mail address", "a contact"]
    assert searcher.read_query("Hvordan hjælper klynger små virksomheder?").asks == []
    result = CliRunner().invoke(app, ["--data", str(seed_settings.data_dir), "search", question, "--k", "2"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("read as Danish") and first.endswith("asks for a phone number or an e-mail address or a contact")
