"""A batch ingest: discover files → read → split → extract → write → derive → index → publish.

One file failing (corrupt, empty, binary, too large…) is reported with its name and reason
and the batch goes on. All writes happen in the primary store under the writer lock; readers
only see the result once a new generation (store checkpoint + search index) is published.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef

from ingest.document import Passage, ReadDocument
from ingest.extract.model import Extraction
from ingest.readers import DOCUMENT_SUFFIXES, content_hash, read_bytes_limited, read_document
from kg.namespaces import ONTOLOGY_GRAPH
from kg.store import DataDir, GraphStore, open_store
from regiograph.errors import InputError, RegiographError
from regiograph.settings import Settings

log = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xls", ".ods", ".json"}
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | TABLE_SUFFIXES


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    status: str  # added | replaced | unchanged | failed | skipped
    reason: str = ""
    kind: str = "document"  # document | operations
    passages: int = 0
    entities: int = 0
    lang: str = ""
    summary: Any = None  # a TableSummary for lists of operations

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    generation: int | None = None
    indexed: bool = False

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def changed(self) -> bool:
        return any(f.status in {"added", "replaced"} for f in self.files)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)


@dataclass(frozen=True)
class Progress:
    """A progress event: ``stage`` is read | index | publish."""

    stage: str
    done: int
    total: int
    passages: int
    elapsed_s: float
    current: str = ""


ProgressFn = Callable[[Progress], None]


def discover(paths: list[Path], report: IngestReport) -> list[Path]:
    """Supported files under the given paths: no hidden files, no symlink loops, sorted."""
    found: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()

    def walk(directory: Path) -> Iterator[Path]:
        try:
            st = directory.stat()
        except OSError as exc:
            report.files.append(FileReport(str(directory), "failed", f"cannot open folder: {exc.strerror or exc}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            return  # a symlink loop or a folder reached twice
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            report.files.append(FileReport(str(directory), "failed", f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=True):
                    yield from walk(path)
                elif entry.is_file(follow_symlinks=True):
                    yield path
            except OSError as exc:
                report.files.append(FileReport(str(path), "failed", f"cannot stat: {exc.strerror or exc}"))

    for root in paths:
        if root.is_dir():
            candidates = list(walk(root))
            found.extend(p for p in candidates if p.suffix.lower() in SUPPORTED_SUFFIXES)
        elif root.exists():
            if root.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(root)
            else:
                report.files.append(FileReport(str(root), "skipped", f"unsupported file type {root.suffix or '(none)'}"))
        else:
            report.files.append(FileReport(str(root), "failed", "no such file or folder"))
    unique: dict[str, Path] = {}
    for p in found:
        unique.setdefault(str(p.resolve()), p)
    return list(unique.values())


def _is_table(path: Path) -> bool:
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    try:
        from ingest.tables import is_operations_table
    except ImportError:  # pragma: no cover - tables package missing
        return False
    return bool(is_operations_table(path))


def prepare_document(doc: ReadDocument) -> tuple[list[Passage], Extraction, str]:
    """Detect languages, split into passages and extract entities from a read document."""
    from ingest.language import detect, detect_many
    from ingest.passages import split_passages

    doc_lang = detect(doc.text[:20000])
    passages = split_passages(doc, doc_lang)
    langs = detect_many([p.text for p in passages])
    passages = [
        Passage(p.doc_id, p.position, p.start, p.end, p.text, lang if lang != "und" else doc_lang, p.page, p.heading, p.extra)
        for p, lang in zip(passages, langs, strict=True)
    ]
    return passages, extract(passages, doc_lang), doc_lang


def extract(passages: list[Passage], doc_lang: str) -> Extraction:
    """Run the extractors (an empty extraction if they are not installed)."""
    try:
        from ingest.extract import extract_document
    except ImportError:
        return Extraction()
    return extract_document(passages, doc_lang)


def _existing_documents(store: GraphStore) -> dict[str, list[tuple[str, str]]]:
    """sourcePath → [(document IRI, content hash)] of what the store holds."""
    from kg.queries import documents_by_source_path

    return documents_by_source_path(store)


def read_file(path: Path, settings: Settings, mapping: Path | None = None) -> tuple[ReadDocument, list[Passage], Extraction, str, str, Any]:
    """Read one file of any supported kind: (doc, passages, extraction, doc lang, kind, summary)."""
    max_bytes = int(settings.max_file_mb * 1e6)
    if _is_table(path):
        from ingest.language import detect
        from ingest.tables import read_operations

        table = read_operations(path, mapping=mapping)
        doc, passages, extraction = table.to_document(detect)
        langs = [p.lang for p in passages if p.lang != "und"]
        doc_lang = max(set(langs), key=langs.count) if langs else "und"
        return doc, passages, extraction, doc_lang, "operations", table.summary
    if path.suffix.lower() in TABLE_SUFFIXES:
        raise InputError(f"{path.name}: not recognised as a list of operations (see `regiograph inspect {path.name}`)")
    doc = read_document(path, max_bytes=max_bytes)
    passages, extraction, doc_lang = prepare_document(doc)
    return doc, passages, extraction, doc_lang, "document", None


def ingest(
    paths: list[Path],
    settings: Settings,
    progress: ProgressFn | None = None,
    build_index: bool = True,
    mapping: Path | None = None,
    reread: bool = False,
) -> IngestReport:
    """Ingest files and folders into the data directory; returns a per-file report.

    A file whose content is already in the graph is skipped ("unchanged"), unless ``reread``:
    then it is read, split and extracted again and its graph replaced (after an upgrade that
    reads documents differently, e.g. splits their passages another way)."""
    from kg.queries import derive_cooperation

    started = time.perf_counter()
    report = IngestReport()
    files = discover(paths, report)
    data = DataDir(settings.data_dir)
    with data.write_lock(settings.lock_timeout_s):
        store = open_store(settings, write=True)
        try:
            ontology_changed = _ensure_ontology(store)
            existing = _existing_documents(store)
            known_hashes = {h for docs in existing.values() for _, h in docs}
            total_passages = 0
            for i, path in enumerate(files):
                if progress:
                    progress(Progress("read", i, len(files), total_passages, time.perf_counter() - started, path.name))
                file_report = _ingest_one(path, settings, store, data, existing, known_hashes, mapping, reread)
                total_passages += file_report.passages
                report.files.append(file_report)
            if progress:
                progress(Progress("read", len(files), len(files), total_passages, time.perf_counter() - started))
            need_publish = report.changed or ontology_changed or data.current_generation() is None
            if need_publish:
                derive_cooperation(store)
                report.generation = publish(data, store, settings, progress, build_index)
                report.indexed = build_index
        finally:
            store.close()
    report.seconds = time.perf_counter() - started
    return report


def publish(data: DataDir, store: GraphStore, settings: Settings, progress: ProgressFn | None, build_index: bool) -> int:
    """Checkpoint the primary store, build the search index for it, and switch readers over."""
    number = data.snapshot(store)
    if build_index:
        build = _index_builder()
        if build is not None:
            reader = open_store(settings, write=False, generation=number)
            try:
                build(reader, data, settings, number, progress)
            finally:
                reader.close()
    data.publish(number)
    return number


def _index_builder() -> Callable[..., None] | None:
    try:
        from search.index import build_index
    except ImportError:
        return None
    return build_index  # type: ignore[no-any-return]


def _ingest_one(
    path: Path,
    settings: Settings,
    store: GraphStore,
    data: DataDir,
    existing: dict[str, list[tuple[str, str]]],
    known_hashes: set[str],
    mapping: Path | None,
    reread: bool = False,
) -> FileReport:
    from kg import writer

    source_path = str(path.resolve())
    try:
        raw = read_bytes_limited(path, int(settings.max_file_mb * 1e6))
        digest = content_hash(raw)
        del raw
        previous = existing.get(source_path, [])
        if not reread and digest in known_hashes and any(h == digest for _, h in previous):
            return FileReport(str(path), "unchanged")
        doc, passages, extraction, doc_lang, kind, summary = read_file(path, settings, mapping)
        if not passages:
            raise InputError(f"{path.name}: no passages (the file has no usable text)")
        gname, graph = writer.document_graph(doc, passages, extraction, doc_lang, settings.base_iri)
        data.write_text(doc.doc_id, doc.text)
        store.replace_graph(gname, writer.to_ntriples(graph))
        status = "replaced" if any(h == digest for _, h in previous) else "added"
        for _doc_iri, h in previous:
            if h != digest:
                store.remove_graph(writer.graph_iri(h[:16], settings.base_iri))
                status = "replaced"
        known_hashes.add(digest)
        existing[source_path] = [(str(writer.document_iri(doc.doc_id, settings.base_iri)), digest)]
        return FileReport(str(path), status, kind=kind, passages=len(passages), entities=len(extraction.entities), lang=doc_lang, summary=summary)
    except RegiographError as exc:
        return FileReport(str(path), "failed", str(exc))
    except MemoryError:
        return FileReport(str(path), "failed", f"{path.name}: too large to process in memory")
    except Exception as exc:
        log.exception("unexpected error reading %s", path)
        return FileReport(str(path), "failed", f"{path.name}: unexpected {type(exc).__name__}: {str(exc)[:200]}")


def _ensure_ontology(store: GraphStore) -> bool:
    """Load ontology/ into its named graph when it changed; True if it did."""
    import hashlib

    from kg.namespaces import OWL
    from kg.writer import ontology_files, ontology_graph, to_ntriples

    digest = hashlib.sha256(b"".join(p.read_bytes() for p in ontology_files())).hexdigest()
    rows = store.select(
        "SELECT ?h WHERE { GRAPH ?g { ?g owl:versionInfo ?h } }",
        {"g": ONTOLOGY_GRAPH},
    )
    if rows and str(rows[0]["h"]) == digest:
        return False
    graph = ontology_graph()
    graph.add((ONTOLOGY_GRAPH, OWL.versionInfo, Literal(digest)))
    store.replace_graph(URIRef(str(ONTOLOGY_GRAPH)), to_ntriples(graph))
    return True


def remove(paths: list[Path], settings: Settings, progress: ProgressFn | None = None) -> IngestReport:
    """Remove documents (by the path or file name they were ingested from) and re-publish."""
    from kg import writer
    from kg.queries import derive_cooperation, documents_by_source_path

    started = time.perf_counter()
    report = IngestReport()
    data = DataDir(settings.data_dir)
    with data.write_lock(settings.lock_timeout_s):
        store = open_store(settings, write=True)
        try:
            existing = documents_by_source_path(store)
            for path in paths:
                key = str(path.resolve())
                matches = existing.get(key) or [
                    d for sp, docs in existing.items() if Path(sp).name == path.name for d in docs
                ]
                if not matches:
                    report.files.append(FileReport(str(path), "failed", f"{path.name}: not in the graph"))
                    continue
                for _, h in matches:
                    store.remove_graph(writer.graph_iri(h[:16], settings.base_iri))
                    data.text_path(h[:16]).unlink(missing_ok=True)
                report.files.append(FileReport(str(path), "removed"))
            if any(f.status == "removed" for f in report.files):
                derive_cooperation(store)
                report.generation = publish(data, store, settings, progress, True)
        finally:
            store.close()
    report.seconds = time.perf_counter() - started
    return report


def reindex(settings: Settings, progress: ProgressFn | None = None) -> IngestReport:
    """Rebuild the search index (e.g. with another embedding model) as a new generation."""
    started = time.perf_counter()
    report = IngestReport()
    data = DataDir(settings.data_dir)
    with data.write_lock(settings.lock_timeout_s):
        store = open_store(settings, write=True)
        try:
            report.generation = publish(data, store, settings, progress, True)
            report.indexed = True
        finally:
            store.close()
    report.seconds = time.perf_counter() - started
    return report
