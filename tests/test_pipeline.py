"""Ingest: idempotent, replaces changed files, survives bad files and being killed."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ingest.pipeline import ingest, remove
from kg.queries import stats
from kg.store import DataDir
from regiograph.settings import Settings, load_settings
from tests.conftest import REPO, require_seeds


def _quads(settings: Settings) -> set[str]:
    import io

    import pyoxigraph as ox

    buf = io.BytesIO()
    DataDir(settings.data_dir).open_reader().oxigraph.dump(buf, ox.RdfFormat.N_QUADS)
    return set(buf.getvalue().decode("utf-8").splitlines())


def test_reingesting_the_seeds_changes_nothing(empty_settings: Settings) -> None:
    seeds = require_seeds()
    first = ingest([seeds], empty_settings, build_index=False)
    assert first.count("added") == 5 and not first.failed
    before = _quads(empty_settings)
    generation = DataDir(empty_settings.data_dir).current_generation()
    second = ingest([seeds], empty_settings, build_index=False)
    assert second.count("unchanged") == 5 and not second.changed
    assert DataDir(empty_settings.data_dir).current_generation() == generation
    assert _quads(empty_settings) == before


def test_changed_file_replaces_its_old_graph(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "note.txt"
    doc.write_text("Hampshire County Council runs export workshops for SMEs. " * 10, encoding="utf-8")
    ingest([folder], empty_settings, build_index=False)
    doc.write_text("Region Midtjylland hosts study visits for growth companies. " * 10, encoding="utf-8")
    report = ingest([folder], empty_settings, build_index=False)
    assert [f.status for f in report.files] == ["replaced"]
    store = DataDir(empty_settings.data_dir).open_reader()
    texts = [str(r["t"]) for r in store.select("SELECT ?t WHERE { ?p a rg:Passage ; rg:text ?t }")]
    assert texts and all("Midtjylland" in t for t in texts)
    assert stats(store).documents == 1


def test_bad_files_are_reported_and_the_batch_goes_on(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "mixed"
    (folder / "deep" / "deeper").mkdir(parents=True)
    (folder / "good.txt").write_text("Kent County Council leads the Innovative Sector Exchange project. " * 8)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.pdf").write_bytes(b"\x00\x01\x02 definitely not a pdf" * 50)
    (folder / "deep" / "deeper" / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "deep" / "loop").symlink_to(folder, target_is_directory=True)
    report = ingest([folder], empty_settings, build_index=False)
    by_name = {f.name: f for f in report.files}
    assert by_name["good.txt"].status == "added"
    for name, reason in [("empty.txt", "empty"), ("junk.pdf", "not a PDF"), ("binary.txt", "binary")]:
        assert by_name[name].status == "failed"
        assert name in by_name[name].reason and reason in by_name[name].reason
    assert stats(DataDir(empty_settings.data_dir).open_reader()).documents == 1


def test_remove_drops_a_document_and_its_passages(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "a.txt").write_text("Skåne supports cluster matchmaking events for small firms. " * 8)
    (folder / "b.txt").write_text("Donegal runs trade missions for food exporters every year. " * 8)
    ingest([folder], empty_settings, build_index=False)
    report = remove([folder / "a.txt"], empty_settings)
    assert [f.status for f in report.files] == ["removed"]
    store = DataDir(empty_settings.data_dir).open_reader()
    texts = [str(r["t"]) for r in store.select("SELECT ?t WHERE { ?p a rg:Passage ; rg:text ?t }")]
    assert texts and all("Donegal" in t for t in texts)


def test_killed_ingest_leaves_previous_generation_usable(tmp_path: Path) -> None:
    seeds = require_seeds()
    settings = load_settings(environ={}, data_dir=tmp_path / "data")
    ingest([seeds], settings, build_index=False)
    before = stats(DataDir(settings.data_dir).open_reader())
    bulk = tmp_path / "bulk"
    bulk.mkdir()
    small = [p for p in sorted(seeds.iterdir()) if p.stat().st_size < 10_000]
    for i in range(150):
        shutil.copy(small[i % len(small)], bulk / f"copy-{i:03d}.txt")
        with (bulk / f"copy-{i:03d}.txt").open("a") as fh:
            fh.write(f"\n\nVariant {i} of the document, so each copy is a new document.\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "regiograph", "--data", str(settings.data_dir), "ingest", "--no-index", str(bulk)],
        cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    seen = b""
    while not re.search(rb"\[read\] [1-9]\d*/150", seen) and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stderr.read1(4096)  # type: ignore[attr-defined]
    assert proc.poll() is None, "the ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = DataDir(settings.data_dir)
    assert stats(data.open_reader()) == before  # readers see the last published generation
    report = ingest([bulk], settings, build_index=False)  # the next ingest completes the work
    assert not report.failed
    assert stats(data.open_reader()).documents == before.documents + 150
