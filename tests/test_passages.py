"""Passages: structure-following, 50–250 words, never cutting a sentence, exact offsets."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.document import Block, ReadDocument
from ingest.passages import MAX_WORDS, sentence_spans, split_passages
from ingest.readers import blocks_from_text, read_document
from tests.conftest import require_seeds

_TERMINAL = (".", "!", "?", ":", ";", "”", '"', ")", "…")


def _doc(text: str) -> ReadDocument:
    return ReadDocument("t.txt", "t.txt", "0" * 64, "text/plain", text, blocks_from_text(text))


def test_seed_passages_have_exact_offsets_and_sizes() -> None:
    seeds = require_seeds()
    for path in sorted(seeds.glob("*.txt")):
        doc = read_document(path)
        passages = split_passages(doc)
        assert passages, path.name
        for p in passages:
            assert doc.text[p.start : p.end] == p.text
            assert len(p.text.split()) <= MAX_WORDS + 60, (path.name, p.position)
        # Passages are in order and never overlap.
        assert all(a.end <= b.start for a, b in itertools.pairwise(passages))
        sizes = sorted(len(p.text.split()) for p in passages)
        assert sizes[len(sizes) // 2] >= 40, path.name  # median passage is a real paragraph


def test_pdf_style_wrapped_lines_are_joined_into_sentences() -> None:
    lines = [
        "This expert workshop dealt with the internationalisation of innovation activities in small and",
        "medium-sized enterprises. It gathered a group of about twenty-five experts from different",
        "backgrounds, from industry, research and policy, who discussed what works for firms.",
    ]
    doc = _doc("\n\n".join(lines) + "\n")
    passages = split_passages(doc)
    assert len(passages) == 1
    assert "small and\n\nmedium-sized" in passages[0].text


def test_long_paragraph_is_split_between_sentences() -> None:
    sentence = "The region funds study visits for SMEs that want to export to new markets in Europe."
    text = " ".join([sentence] * 60)  # ~960 words in one paragraph
    doc = _doc(text)
    passages = split_passages(doc)
    assert len(passages) >= 4
    for p in passages:
        assert p.text.rstrip().endswith("."), p.text[-40:]
        assert len(p.text.split()) <= MAX_WORDS


def test_heading_opens_a_passage_and_is_recorded() -> None:
    para = " ".join(["Clusters help firms find partners abroad and share costs of trade fairs."] * 6)
    text = f"Introduction\n\n{para}\n\nMethods\n\n{para}\n"
    passages = split_passages(_doc(text))
    assert [p.heading for p in passages] == ["Introduction", "Methods"]
    assert passages[1].text.startswith("Methods")


def test_sentence_spans_respect_abbreviations() -> None:
    text = "Funding comes from e.g. the ERDF and Dr. Smith agrees. A second sentence follows."
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Funding comes from e.g. the ERDF and Dr. Smith agrees.",
        "A second sentence follows.",
    ]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000))
def test_random_text_gives_valid_passages(text: str) -> None:
    doc = _doc(text)
    passages = split_passages(doc)
    for p in passages:
        assert 0 <= p.start < p.end <= len(doc.text)
        assert doc.text[p.start : p.end] == p.text
        assert p.text.strip()
    assert all(a.end <= b.start for a, b in itertools.pairwise(passages))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["Word", "word.", "Sentence ends here.", "\n", "\n\n", "- item", "# Head", "\f", "x" * 30]), max_size=400))
def test_structured_random_text(tokens: list[str]) -> None:
    text = " ".join(tokens)
    doc = ReadDocument("t.md", "t.md", "0" * 64, "text/markdown", text, blocks_from_text(text, markdown=True))
    for block in doc.blocks:
        assert isinstance(block, Block) and 0 <= block.start <= block.end <= len(text)
    for p in split_passages(doc):
        assert doc.text[p.start : p.end] == p.text


@pytest.mark.parametrize("lang", ["da", "de"])
def test_language_is_carried(lang: str) -> None:
    passages = split_passages(_doc("Ein kurzer Absatz über Förderung."), lang)
    assert passages[0].lang == lang


def test_a_fact_sheet_of_label_and_value_lines_stays_with_its_title() -> None:
    # a project page's head: every line is short, so each reads as a heading; the sheet is one
    # unit (a question about the project's budget needs the project's name beside the figure)
    sheet = [
        "Green Harbour Logistics | Interreg North Sea", "You are here", "Green Harbour Logistics",
        "Priority Axis", "Thinking Growth: supporting growth in North Sea Region economies",
        "Specific objective", "Enhancing regional innovation capacity and public sector services",
        "Lead partner", "Port Authority of Esbjerg", "Start Date", "01.03.2019", "End Date", "31.12.2022",
        "Project budget", "4 120 000", "ERDF amount", "2 060 000",
    ]
    body = (
        "Ports in the North Sea Region handle more freight every year, and their hinterland roads are "
        "congested. The partners test shared booking of truck slots and rail shuttles, measure the "
        "emissions saved, and write the results into the regions' transport plans."
    )
    doc = _doc("\n\n".join([*sheet, "Common challenge", body]) + "\n")
    passages = split_passages(doc)
    holding = [p for p in passages if "4 120 000" in p.text]
    assert len(holding) == 1 and "Green Harbour Logistics" in holding[0].text, [p.text[:60] for p in passages]
    # headings after prose still open a new passage
    prose = " ".join(["The region funds study visits for SMEs that want to export to new markets."] * 5)
    doc = _doc(f"Export support\n\n{prose}\n\nInnovation vouchers\n\n{prose}\n")
    assert [p.text.split("\n")[0] for p in split_passages(doc)] == ["Export support", "Innovation vouchers"]
