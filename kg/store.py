"""The graph store: an rdflib ``Dataset`` over Oxigraph, with safe writes and read-only readers.

A data directory holds a primary Oxigraph store, written only by the process that holds
``write.lock``, and numbered *generations*: immutable RocksDB checkpoints of the primary store
plus the search index built from them. Readers open the generation named in ``current``
read-only, so they keep working while a writer writes, and a killed writer leaves the last
published generation untouched. Queries go straight to Oxigraph (never through rdflib's Python
SPARQL engine), with the union of named graphs as the default graph.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.term import Node

from kg.namespaces import sparql_prologue
from kg.ordering import MAX_ROWS, FinalOrder, order_in_memory, split_final_order
from kg.sparql_text import masked
from regiograph.errors import LockedError, QueryError, StoreError

if TYPE_CHECKING:
    from regiograph.settings import Settings

KEEP_GENERATIONS = 3
_T = TypeVar("_T")

_UPDATE_WORDS = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b", re.I)
_SERVICE_WORD = re.compile(r"\bSERVICE\b", re.I)
_PREFIX_DECL = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:", re.I | re.M)


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def check_read_only(query: str) -> None:
    """Refuse SPARQL Update, LOAD and SERVICE with a clear message (raises QueryError).

    Code-point escapes (``\\u0053ERVICE``) are expanded first, as a SPARQL parser does.
    """
    expanded = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)
    body = masked(expanded)
    if _SERVICE_WORD.search(body):
        raise QueryError("SERVICE is not allowed: this endpoint never makes outbound requests")
    match = _UPDATE_WORDS.search(body)
    if match:
        raise QueryError(f"{match.group(1).upper()} is not allowed: the graph is read-only (SPARQL Update is refused)")


_WHERE = re.compile(r"\bWHERE\s*\{", re.I)


def bind_values(query: str, bindings: Mapping[str, Node]) -> str:
    """Bind variables by a ``VALUES`` block at the start of the WHERE group.

    Terms are serialised by pyoxigraph (N-Triples escaping), so a value can never change the
    query's structure; an IRI that is not a valid IRI is refused.
    """
    if not bindings:
        return query
    names = " ".join(f"?{name}" for name in bindings)
    try:
        terms = " ".join(str(to_ox(value)) for value in bindings.values())
    except ValueError as exc:
        raise QueryError(f"invalid value for a query parameter: {exc}") from exc
    block = f" VALUES ({names}) {{ ({terms}) }} "
    text = masked(query)
    match = _WHERE.search(text)
    brace = match.end() if match else text.find("{") + 1
    if brace <= 0:
        raise QueryError("cannot bind parameters: the query has no WHERE group")
    return query[:brace] + block + query[brace:]


def with_prologue(query: str) -> str:
    """Add PREFIX lines for contract prefixes the query uses but does not declare."""
    declared = {m.group(1) or "" for m in _PREFIX_DECL.finditer(query)}
    lines = [line for line in sparql_prologue().splitlines() if line.split()[1][:-1] not in declared]
    return "\n".join(lines) + "\n" + query


# --- rdflib <-> pyoxigraph terms ---------------------------------------------------------

def to_ox(term: Node) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    """An rdflib term as a pyoxigraph term (for bound query parameters)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    return ox.Literal(str(term))


def from_ox(term: Any) -> Node | None:
    """A pyoxigraph term as an rdflib term."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        return _literal_from_ox(term)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    return Literal(str(term))


@functools.lru_cache(maxsize=1 << 16)
def _literal_from_ox(term: ox.Literal) -> Literal:
    """A pyoxigraph literal as an rdflib one, cached: rdflib parses a typed literal's lexical form
    on construction (≈ 17 µs for an ``xsd:integer``), and result rows repeat the same counts,
    years and codes; rdflib literals are immutable, so sharing them is safe."""
    if term.language:
        return Literal(term.value, lang=term.language)
    dt = term.datatype.value
    if dt == "http://www.w3.org/2001/XMLSchema#string":
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(dt))


@dataclass
class QueryResult:
    """Rows of a SELECT (rdflib terms), or triples of a CONSTRUCT/DESCRIBE, or an ASK answer."""

    kind: str  # select | ask | graph
    variables: list[str]
    rows: list[dict[str, Node | None]]
    boolean: bool | None = None
    triples: list[tuple[Node, Node, Node]] | None = None
    truncated: bool = False
    elapsed_ms: float = 0.0


class GraphStore:
    """An Oxigraph store with an rdflib ``Dataset`` view and guarded, bound queries."""

    def __init__(self, store: ox.Store, read_only: bool, path: Path | None = None) -> None:
        self._store = store
        self.read_only = read_only
        self.path = path
        self._dataset: Dataset | None = None

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store (for bulk loads and fast queries)."""
        return self._store

    @property
    def dataset(self) -> Dataset:
        """rdflib ``Dataset`` over the same store (oxrdflib plugin), default graph = union."""
        if self._dataset is None:
            from oxrdflib import OxigraphStore

            self._dataset = Dataset(store=OxigraphStore(store=self._store), default_union=True)
        return self._dataset

    # --- reading ---------------------------------------------------------------------------
    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        row_limit: int | None = None,
        timeout_s: float | None = None,
        user_query: bool = False,
        custom_functions: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a read-only query on Oxigraph with bound parameters, a row cap and a deadline.

        ``bindings`` are bound through an escaped ``VALUES`` block (see :func:`bind_values`). The deadline is checked while rows stream; a query that computes everything
        before its first row (ORDER BY, GROUP BY) is cut by the endpoint's worker process.
        """
        check_read_only(sparql)
        text = with_prologue(bind_values(sparql, bindings or {}))
        started = time.perf_counter()
        deadline = started + timeout_s if timeout_s else None
        functions = {ox.NamedNode(k): f for k, f in (custom_functions or {}).items()} or None
        final = split_final_order(text)
        ordered = self._ordered_in_memory(final, functions, deadline, timeout_s) if final is not None else None
        if ordered is not None:
            variables, ordered_rows = ordered
            return QueryResult(
                "select",
                variables,
                [dict(zip(variables, map(from_ox, row), strict=True)) for row in ordered_rows[:row_limit]],
                truncated=row_limit is not None and len(ordered_rows) > row_limit,
                elapsed_ms=_ms(started),
            )
        result = self._run(text, functions)
        if isinstance(result, ox.QueryBoolean):
            return QueryResult("ask", [], [], boolean=bool(result), elapsed_ms=_ms(started))
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows: list[dict[str, Node | None]] = []
            truncated = False
            for i, solution in enumerate(_until(deadline, timeout_s, result)):
                if row_limit is not None and i >= row_limit:
                    truncated = True
                    break
                rows.append({v: from_ox(solution[v]) for v in variables})
            return QueryResult("select", variables, rows, truncated=truncated, elapsed_ms=_ms(started))
        triples: list[tuple[Node, Node, Node]] = []
        truncated = False
        for i, triple in enumerate(_until(deadline, timeout_s, result)):
            if row_limit is not None and i >= row_limit:
                truncated = True
                break
            s, p, o = from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object)
            triples.append((s, p, o))  # type: ignore[arg-type]
        return QueryResult("graph", ["subject", "predicate", "object"], [], triples=triples, truncated=truncated, elapsed_ms=_ms(started))

    def _run(self, text: str, functions: dict[ox.NamedNode, Any] | None) -> Any:
        """Oxigraph's answer to a query, with its errors as regiograph's."""
        try:
            return self._store.query(text, use_default_graph_as_union=True, custom_functions=functions)
        except SyntaxError as exc:
            raise QueryError(f"invalid SPARQL: {exc}") from exc
        except RuntimeError as exc:
            raise QueryError(f"query failed: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"store error while querying: {exc}") from exc

    def _ordered_in_memory(
        self, final: FinalOrder, functions: dict[ox.NamedNode, Any] | None, deadline: float | None, timeout_s: float | None
    ) -> tuple[list[str], list[tuple[object, ...]]] | None:
        """The query's variables and rows, ordered and sliced in memory (see kg.ordering); None to let the store order them."""
        try:
            result = self._run(final.unordered, functions)
        except QueryError:
            return None  # the query as written gives the error, or an answer
        if not isinstance(result, ox.QuerySolutions):
            return None
        variables = [v.value for v in result.variables]
        rows: list[tuple[object, ...]] = []
        for i, solution in enumerate(_until(deadline, timeout_s, result)):
            if i >= MAX_ROWS:
                return None
            rows.append(tuple(solution))  # the terms in the order of `variables`
        ordered = order_in_memory(variables, rows, final)
        return None if ordered is None else (variables, ordered)

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> list[dict[str, Node | None]]:
        """Rows of a trusted, named SELECT query (no limits)."""
        return self.query(sparql, bindings).rows

    def named_graphs(self) -> list[str]:
        return [g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def triple_count(self) -> int:
        return len(self._store)

    def dump(self, out: IO[bytes], fmt: str) -> None:
        """Serialise the whole dataset (trig, nquads) or the union graph (turtle, ntriples)."""
        formats = {"trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS}
        if fmt in formats:
            self._store.dump(out, formats[fmt])
            return
        raise StoreError(f"dump format {fmt} is handled by kg.export")

    # --- writing (primary store only) -----------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("this store is opened read-only")

    def replace_graph(self, graph: URIRef, ntriples: str) -> None:
        """Replace a named graph's content with the given N-Triples; a parse error leaves the graph as it was.

        A new graph is loaded straight into place (one transactional load: 100k triples 1.9 s);
        an existing one is loaded into a staging graph, then dropped and replaced by it in one
        SPARQL update (8.5 s for the same triples: MOVE copies quad by quad), so that whatever
        fails, the old content is either kept whole or replaced whole."""
        self._writable()
        name = ox.NamedNode(str(graph))
        if not self._store.contains_named_graph(name):
            try:
                self._store.load(ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=name)
            except (SyntaxError, ValueError) as exc:
                raise StoreError(f"could not load graph {graph}: {exc}") from exc
            self._store.add_graph(name)  # also when empty, as after a replacement
            return
        staging = ox.NamedNode(str(graph) + "#staging")
        self._store.clear_graph(staging) if self._store.contains_named_graph(staging) else None
        try:
            self._store.load(ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=staging)
        except (SyntaxError, ValueError) as exc:
            self._store.remove_graph(staging)
            raise StoreError(f"could not load graph {graph}: {exc}") from exc
        self._store.update(f"DROP SILENT GRAPH <{graph}> ; MOVE SILENT GRAPH <{staging.value}> TO <{graph}>")
        if not self._store.contains_named_graph(name):
            self._store.add_graph(name)

    def remove_graph(self, graph: URIRef) -> None:
        self._writable()
        name = ox.NamedNode(str(graph))
        if self._store.contains_named_graph(name):
            self._store.remove_graph(name)

    def close(self) -> None:
        self._dataset = None
        try:
            if not self.read_only:
                self._store.flush()
        except OSError:
            pass


def _until(deadline: float | None, timeout_s: float | None, items: Iterable[_T]) -> Iterator[_T]:
    """The items as they stream, with an explicit timeout error once the deadline has passed (checked every 256)."""
    for i, item in enumerate(items):
        if deadline and (i & 255) == 0 and time.perf_counter() > deadline:
            raise QueryError(f"query timed out after {timeout_s:g} s (partial results discarded)")
        yield item


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


# --- the data directory --------------------------------------------------------------------

class DataDir:
    """Paths and life cycle of a regiograph data directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def primary(self) -> Path:
        return self.root / "store"

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    @property
    def texts(self) -> Path:
        return self.root / "texts"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def lock_path(self) -> Path:
        return self.root / "write.lock"

    def current_generation(self) -> int | None:
        """Number of the published generation readers use, or None before the first ingest."""
        try:
            return int((self.root / "current").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def generation_dir(self, number: int) -> Path:
        return self.generations / f"{number:06d}"

    def index_dir(self, number: int | None = None) -> Path | None:
        number = self.current_generation() if number is None else number
        return None if number is None else self.generation_dir(number) / "index"

    def text_path(self, doc_id: str) -> Path:
        return self.texts / f"{doc_id}.txt"

    def read_text(self, doc_id: str) -> str:
        """The full text of a document (what passage offsets point into)."""
        path = self.text_path(doc_id)
        if not path.exists():
            raise StoreError(f"no text stored for document {doc_id}; re-ingest it")
        return path.read_text(encoding="utf-8")

    def write_text(self, doc_id: str, text: str) -> None:
        self.texts.mkdir(parents=True, exist_ok=True)
        atomic_write(self.text_path(doc_id), text.encode("utf-8"))

    @contextmanager
    def write_lock(self, timeout_s: float = 600.0) -> Iterator[None]:
        """Hold the writer lock; wait for another writer, saying so, up to ``timeout_s``."""
        self.root.mkdir(parents=True, exist_ok=True)
        fh = self.lock_path.open("a+")
        waited = False
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waited:
                        import sys

                        print(
                            f"another regiograph process is writing to {self.root}; waiting for it to finish…",
                            file=sys.stderr,
                        )
                        waited = True
                    if time.monotonic() > deadline:
                        raise LockedError(
                            f"{self.root} is locked by another writer (ingest/remove/reindex) for over "
                            f"{timeout_s:g} s; try again when it has finished"
                        ) from None
                    time.sleep(0.2)
            yield
        finally:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            finally:
                fh.close()

    def open_primary(self) -> GraphStore:
        """Open the primary store read-write (call inside :meth:`write_lock`)."""
        try:
            return GraphStore(ox.Store(str(self.primary)), read_only=False, path=self.primary)
        except OSError as exc:
            raise StoreError(f"cannot open the graph store in {self.primary}: {exc}") from exc

    def open_reader(self, number: int | None = None) -> GraphStore:
        """Open the current (or given) published generation read-only."""
        number = self.current_generation() if number is None else number
        if number is None:
            raise StoreError(f"no data in {self.root} yet: run `regiograph ingest PATH` first")
        path = self.generation_dir(number) / "store"
        try:
            return GraphStore(ox.Store.read_only(str(path)), read_only=True, path=path)
        except OSError as exc:
            raise StoreError(f"cannot open generation {number} in {self.root}: {exc}") from exc

    def next_generation(self) -> int:
        existing = [int(p.name) for p in self.generations.glob("[0-9]*") if p.name.isdigit()]
        return max([*existing, self.current_generation() or 0]) + 1

    def snapshot(self, primary: GraphStore) -> int:
        """Checkpoint the primary store into a new, not yet published generation.

        A remote store has no checkpoint: its generation folder holds only the search index.
        """
        number = self.next_generation()
        target = self.generation_dir(number)
        target.mkdir(parents=True, exist_ok=True)
        if not isinstance(primary, GraphStore):
            return number
        primary.oxigraph.flush()
        primary.oxigraph.backup(str(target / "store"))
        return number

    def publish(self, number: int) -> None:
        """Make generation ``number`` the one readers open, then prune old generations."""
        atomic_write(self.root / "current", f"{number}\n".encode())
        self.prune(keep=KEEP_GENERATIONS)

    def prune(self, keep: int) -> None:
        current = self.current_generation() or 0
        numbers = sorted(int(p.name) for p in self.generations.glob("[0-9]*") if p.name.isdigit())
        published = [n for n in numbers if n <= current]
        for n in published[:-keep]:
            shutil.rmtree(self.generation_dir(n), ignore_errors=True)
        for n in numbers:  # abandoned generations of killed writers
            if n > current:
                shutil.rmtree(self.generation_dir(n), ignore_errors=True)


def open_store(settings: Settings, write: bool, generation: int | None = None) -> GraphStore:
    """The graph store the settings name: embedded (primary or published generation) or remote.

    ``write=True`` opens the primary store (call inside :meth:`DataDir.write_lock`); otherwise
    the current (or given) generation read-only. With ``settings.store_url`` set it is a
    :class:`kg.remote.RemoteGraphStore` with the same methods (generations are not snapshots then).
    """
    if settings.store_url:
        from kg.remote import RemoteGraphStore

        return RemoteGraphStore(settings.store_url, read_only=not write, timeout_s=max(60.0, settings.query_timeout_s))  # type: ignore[return-value]
    data = DataDir(settings.data_dir)
    return data.open_primary() if write else data.open_reader(generation)


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
