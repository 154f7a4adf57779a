"""Language-aware tokenisation: stopwords, stemmers and decompounding per language."""

from __future__ import annotations

from search.lexical import Analyzer, learn_known_words, stem, stopwords


def test_stopwords_follow_the_passage_language() -> None:
    analyzer = Analyzer()
    assert "og" not in analyzer.tokens("virksomheder og klynger", "da")
    assert "und" not in analyzer.tokens("Unternehmen und Cluster", "de")
    assert "the" not in analyzer.tokens("the clusters", "en")


def test_stemming_per_language() -> None:
    analyzer = Analyzer()
    assert analyzer.tokens("clusters", "en") == analyzer.tokens("cluster", "en")
    assert analyzer.tokens("virksomheder", "da") == analyzer.tokens("virksomhed", "da")
    assert analyzer.tokens("Unternehmen", "de") == analyzer.tokens("unternehmen", "de")
    assert analyzer.tokens("företagen", "sv") == analyzer.tokens("företag", "sv")
    assert analyzer.tokens("bedrijven", "nl") == analyzer.tokens("bedrijf", "nl")
    assert analyzer.tokens("entreprises", "fr") == analyzer.tokens("entreprise", "fr")
    assert stem(["internationalisation"], "xx") == ["internationalisation"]  # no stemmer: unchanged


def test_compounds_split_into_known_words() -> None:
    known = learn_known_words(["eksport eksport rådgivning rådgivning"])
    analyzer = Analyzer(known)
    tokens = analyzer.tokens("eksportrådgivning", "da")
    assert set(stem(["eksport", "rådgivning"], "da")) <= set(tokens)
    assert analyzer.split_compound("wirtschaftsförderung") == ()  # parts unknown: no split
    assert analyzer.tokens("exportadvice", "en") == stem(["exportadvice"], "en")  # English is not split


def test_linking_s_is_removed() -> None:
    analyzer = Analyzer(["wirtschaft", "förderung"])
    assert analyzer.split_compound("wirtschaftsförderung") == ("wirtschaft", "förderung")


def test_query_tokens_include_english_analysis() -> None:
    analyzer = Analyzer()
    tokens = analyzer.query_tokens("Innovation Express klynger", "da")
    assert "express" in tokens
    assert len(tokens) == len(set(tokens))
    assert "og" in stopwords("da")


def test_a_footnote_marker_glued_to_a_word_still_lets_the_word_match() -> None:
    # PDF text extraction glues footnote numbers to words: "44 valid responses4 (35 fully …"
    analyzer = Analyzer()
    passage = analyzer.tokens("By 30th June 2016, 44 valid responses4 had been received", "en")
    assert set(analyzer.query_tokens("valid responses", "en")) <= set(passage)
    # names and codes that carry digits keep their own token and add no short fragments
    assert analyzer.tokens("H2020 and CO2", "en") == ["h2020", "co2"]
    assert "30th" in passage and "2016" in passage
