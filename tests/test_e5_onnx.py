"""The ONNX Runtime engine's graph cache (search/e5_onnx.py): built once, reused without ``onnx``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

ENGINE = (
    "import sys, numpy as np; from search.e5_onnx import E5OnnxEngine; from search.embedders import e5_file_path; "
    "engine = E5OnnxEngine(e5_file_path(), layers=2); "
    "np.save(sys.argv[1], engine.hidden([[0, 581, 2]])[0]); "
    "print('onnx' in sys.modules)"
)


def _run(cache: Path, out: Path) -> bool:
    """Start an engine in a fresh process with ``cache`` as XDG_CACHE_HOME; whether it imported onnx."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run([sys.executable, "-c", ENGINE, str(out)], cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=120)
    return done.stdout.strip().splitlines()[-1] == "True"


def test_graph_is_built_once_then_read_from_the_cache(tmp_path: Path) -> None:
    assert _run(tmp_path, tmp_path / "first.npy") is True  # built: onnx imported
    cached = list((tmp_path / "regiograph" / "onnx").glob("e5-small-q4-*-l2-g*.onnx"))
    assert len(cached) == 1 and cached[0].stat().st_size > 100_000
    assert _run(tmp_path, tmp_path / "second.npy") is False  # read back: no onnx import
    np.testing.assert_array_equal(np.load(tmp_path / "first.npy"), np.load(tmp_path / "second.npy"))


def test_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    _run(tmp_path, tmp_path / "good.npy")
    (cached,) = (tmp_path / "regiograph" / "onnx").glob("*.onnx")
    size = cached.stat().st_size
    cached.write_bytes(cached.read_bytes()[: size // 3])  # a truncated file
    assert _run(tmp_path, tmp_path / "again.npy") is True
    assert cached.stat().st_size == size
    np.testing.assert_array_equal(np.load(tmp_path / "good.npy"), np.load(tmp_path / "again.npy"))


def test_unwritable_cache_only_costs_a_rebuild(tmp_path: Path) -> None:
    """A cache location that cannot be created (here: a file where the folder should be) is not an error."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file, not a folder")
    assert _run(blocked, tmp_path / "a.npy") is True
    assert _run(blocked, tmp_path / "b.npy") is True  # built again: nothing could be kept
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_onnx_runtime_keeps_no_telemetry(tmp_path: Path) -> None:
    """ONNX Runtime's telemetry is off: no device id in the cache, no debug log, no file in the
    working directory (it wrote ``:memory:.ses`` there when its cache could not be written)."""
    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    before = set(Path("/tmp").glob("mat-debug-*.log"))
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(XDG_CACHE_HOME=str(cache), PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", ENGINE, str(tmp_path / "out.npy")], cwd=work, env=env, check=True, capture_output=True, timeout=120)
    assert sorted(p.name for p in cache.iterdir()) == ["regiograph"]
    assert list(work.iterdir()) == []
    assert set(Path("/tmp").glob("mat-debug-*.log")) == before


def test_a_query_run_gives_its_vector_and_the_tapped_layer() -> None:
    """``E5OnnxEngine.query``: one run for a query's vector (as ``encode``) and the states after
    ``tap`` layers (as an engine of that many layers), which the re-ranker uses."""
    from search.e5_file import query_tokenizer
    from search.e5_onnx import E5OnnxEngine, shared_engine
    from search.embedders import E5OnnxEmbedder, e5_file_path
    from search.late import LAYER

    assert E5OnnxEmbedder.TAP == LAYER
    path = e5_file_path()
    engine = E5OnnxEngine(path, tap=LAYER)
    short = shared_engine(path, LAYER)
    for query in ("Hvordan hjælper regioner SMV'er med eksport?", "study visits", "x"):
        vector, states = engine.query(query)
        np.testing.assert_allclose(vector, engine.encode([query], True)[0], atol=1e-6)
        ids = query_tokenizer(str(path)).content_ids([query], "query: ")[0]
        expected, _ = short.hidden([[engine.bos, *ids, engine.eos]])
        assert states is not None and states.shape == (len(ids) + 2, engine.dim)
        np.testing.assert_allclose(states, expected[0], atol=1e-4)
        assert engine.query(query)[0] is vector  # kept: asked again, not run again
    long = "regional support for exporting firms " * 120  # more than one 512-token window
    vector, states = engine.query(long)
    assert states is None
    np.testing.assert_allclose(vector, engine.encode([long], True)[0], atol=1e-6)
