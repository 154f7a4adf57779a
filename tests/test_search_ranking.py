"""Fusion and entity matching: pure functions."""

from __future__ import annotations

from search import ranking


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    fused = ranking.rrf({"a": [1, 2, 3], "b": [3, 1]}, {"a": 1.0, "b": 0.5}, k=60)
    assert fused[1] == 1 / 61 + 0.5 / 62
    assert fused[3] == 1 / 63 + 0.5 / 61
    assert fused[2] == 1 / 62
    assert [i for i, _ in ranking.ranked(fused)] == [1, 3, 2]


def test_rrf_zero_weight_ignores_channel() -> None:
    assert ranking.rrf({"a": [1], "b": [2]}, {"a": 1.0, "b": 0.0}) == {1: 1 / 61}


def test_item_in_both_channels_beats_item_in_one() -> None:
    fused = ranking.rrf({"dense": [7, 8], "lexical": [8, 9]})
    assert ranking.ranked(fused)[0][0] == 8


def test_entity_bonus_and_add_bonus() -> None:
    bonus = ranking.entity_bonus([1, 2, 3], lambda i: {"x"} if i != 2 else set(), {"x": 1.0}, 0.01)
    assert bonus == {1: 0.01, 3: 0.01}
    assert ranking.add_bonus({1: 0.1, 2: 0.2}, bonus) == {1: 0.11, 2: 0.2}


def test_dedup_keeps_best_of_group() -> None:
    items = [(5, 0.9), (6, 0.8), (7, 0.7)]
    assert ranking.dedup(items, lambda i: 5 if i in (5, 7) else i) == [(5, 0.9), (6, 0.8)]


def test_ranked_is_stable_on_ties() -> None:
    assert ranking.ranked({3: 0.5, 1: 0.5, 2: 0.9}) == [(2, 0.9), (1, 0.5), (3, 0.5)]


def test_match_entities_longest_first_and_acronyms() -> None:
    aliases = {"region midtjylland": ["R1"], "midtjylland": ["R2"], "eis": ["P1"], "for": ["X"]}
    query = "EIS workshop in Region Midtjylland for SMEs"
    words = query.casefold().split()
    matched = ranking.match_entities(query, words, aliases, common_words={"for"})
    assert ("R1", "region midtjylland") in matched
    assert all(iri != "R2" for iri, _ in matched)  # covered by the longer match
    assert ("P1", "eis") in matched
    assert all(iri != "X" for iri, _ in matched)  # a common word never matches alone


def test_short_alias_needs_acronym_spelling() -> None:
    aliases = {"eis": ["P1"]}
    assert ranking.match_entities("eis tool", ["eis", "tool"], aliases, set()) == []


def test_stemmed_pass_matches_inflected_labels_on_the_words_left() -> None:
    aliases = {"visite d etude": ["PT"], "cluster": ["C"]}
    words = ["visites", "d", "etude", "entre", "clusters"]
    # stems as a French stemmer gives them; the stemmed aliases hold the labels' stems
    stems = ["visit", "d", "etud", "entre", "cluster"]
    stemmed_aliases = {"visit d etud": ["PT"], "cluster": ["C"]}
    assert ranking.match_entities("visites d'étude entre clusters", words, aliases, set()) == []
    matched = ranking.match_entities("visites d'étude entre clusters", words, aliases, set(), (stems, stemmed_aliases))
    assert matched == [("PT", "visites d etude"), ("C", "clusters")]
    # a span matched as written is never matched again on its stems
    exact = ranking.match_entities("cluster visits", ["cluster", "visits"], aliases, set(), (["cluster", "visit"], stemmed_aliases))
    assert exact == [("C", "cluster")]
