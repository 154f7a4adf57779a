"""Bad input never crashes a run: every reader fails with InputError naming the file, or reads."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.pipeline import ingest
from ingest.readers import read_document
from kg.queries import stats
from kg.store import DataDir
from regiograph.errors import InputError
from regiograph.settings import Settings

SUFFIXES = [".txt", ".md", ".html", ".pdf", ".docx"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_through_every_reader(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    try:
        doc = read_document(path)
    except InputError as exc:
        assert path.name in str(exc)
    else:
        assert doc.text.strip() and doc.blocks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_random_unicode_through_text_readers(tmp_path: Path, text: str, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass" if False else "strict") if not any(
        0xD800 <= ord(c) <= 0xDFFF for c in text
    ) else path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        doc = read_document(path)
    except InputError as exc:
        assert path.name in str(exc)
    else:
        for b in doc.blocks:
            assert 0 <= b.start <= b.end <= len(doc.text)


def test_200_mb_file_is_refused_without_being_loaded(tmp_path: Path, empty_settings: Settings) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:  # sparse: 200 MB on paper, nothing on disk
        fh.seek(200_000_000 - 1)
        fh.write(b"\n")
    tracemalloc.start()
    report = ingest([big], empty_settings, build_index=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [f.status for f in report.files] == ["failed"]
    assert "huge.txt" in report.files[0].reason and "limit" in report.files[0].reason
    assert peak < 50_000_000  # the file was never read into memory


def test_html_with_scripts_iframes_and_10_mb_of_markup(tmp_path: Path) -> None:
    filler = "<div class='x'><span></span></div>" * 300_000  # ~10 MB of markup
    html = (
        "<html><head><script>document.write('evil')</script></head><body>"
        "<iframe src='http://example.org'></iframe>"
        f"{filler}<article><p>{'The region supports export vouchers for small firms. ' * 20}</p></article>"
        "<script>alert(1)</script></body></html>"
    )
    path = tmp_path / "heavy.html"
    path.write_text(html, encoding="utf-8")
    assert path.stat().st_size > 10_000_000
    doc = read_document(path)
    assert "export vouchers" in doc.text
    assert "alert(" not in doc.text and "document.write" not in doc.text


@pytest.mark.parametrize(
    "text",
    [
        "これは日本語の文書です。地域の中小企業の輸出を支援します。" * 10,
        "Huu ni waraka wa Kiswahili kuhusu biashara ndogo na za kati katika mikoa. " * 10,
        "12345 67890 !!! ??? ... --- 2017 2018 2019" * 10,
    ],
)
def test_unknown_languages_are_ingested_as_such(tmp_path: Path, empty_settings: Settings, text: str) -> None:
    path = tmp_path / "other.txt"
    path.write_text(text, encoding="utf-8")
    report = ingest([path], empty_settings, build_index=False)
    assert report.files[0].status == "added", report.files[0].reason


def test_dangling_links_and_folders_named_like_files(tmp_path: Path, empty_settings: Settings) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "gone.txt").symlink_to(tmp_path / "does-not-exist.txt")
    (folder / "folder.txt").mkdir()
    (folder / "real one; $HOME `x` é.txt").write_text("Trade missions for food exporters in Donegal. " * 10)
    report = ingest([folder], empty_settings, build_index=False)
    added = [f.name for f in report.files if f.status == "added"]
    assert added == ["real one; $HOME `x` é.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported(tmp_path: Path, empty_settings: Settings) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("Some text about cluster policy. " * 10)
    path.chmod(0)
    report = ingest([path], empty_settings, build_index=False)
    assert report.files[0].status == "failed" and "secret.txt" in report.files[0].reason


def test_failed_batch_keeps_existing_graph(tmp_path: Path, empty_settings: Settings) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Skåne hosts matchmaking events for cleantech clusters. " * 10)
    ingest([good], empty_settings, build_index=False)
    before = stats(DataDir(empty_settings.data_dir).open_reader())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    (bad / "broken.docx").write_bytes(b"PK\x03\x04" + os.urandom(500))
    report = ingest([bad], empty_settings, build_index=False)
    assert all(f.status == "failed" and f.name in f.reason for f in report.files)
    assert stats(DataDir(empty_settings.data_dir).open_reader()) == before
