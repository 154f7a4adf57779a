"""Query worker processes: run user SPARQL queries where a deadline can be enforced.

pyoxigraph has no query timeout and a thread cannot be killed, so the endpoint runs each user
query in a worker *process* that opens the published generation read-only. The parent waits
for the answer up to the deadline; a worker that overruns is killed and replaced. Workers
serialise results themselves (with the row cap applied), so the parent only moves bytes.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from kg.namespaces import PREFIXES
from kg.sparql_text import calls_similar

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

#: SPARQL results formats: name → media type.
SELECT_TYPES: dict[str, str] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
#: RDF formats for CONSTRUCT / DESCRIBE: name → media type.
GRAPH_TYPES: dict[str, str] = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
#: Prefixes written in Turtle answers (not rgid:/nuts:, whose local names would need escapes).
_TURTLE_PREFIXES = {k: v for k, v in PREFIXES.items() if k not in ("rgid", "nuts")}
_RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


@dataclass(frozen=True)
class QueryJob:
    """One query for a worker. ``store`` is a generation's store folder (opened read-only)."""

    store: str
    query: str
    row_limit: int
    timeout_s: float
    select_format: str | None  # a key of SELECT_TYPES, or None if the client accepts none
    graph_format: str | None  # a key of GRAPH_TYPES, or None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    data_dir: str = ""  # the data directory whose search index serves rg:similar ("": none)


@dataclass
class QueryAnswer:
    """What a worker sends back: an HTTP-ready body, or an error with its status."""

    status: int
    media_type: str
    body: bytes
    truncated: bool = False
    rows: int = 0
    elapsed_ms: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


# --- serialisation of solutions ---------------------------------------------------------------

def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {"subject": _json_term(term.subject), "predicate": _json_term(term.predicate), "object": _json_term(term.object)},
        }
    return {"type": "literal", "value": str(term)}


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{xml_escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{xml_escape(term.value)}</literal>"
        return f"<literal>{xml_escape(term.value)}</literal>"
    return f"<literal>{xml_escape(str(term))}</literal>"


def _csv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        value = "_:" + term.value
    elif isinstance(term, ox.NamedNode | ox.Literal):
        value = term.value
    else:
        value = str(term)
    if any(c in value for c in ',"\r\n'):
        value = '"' + value.replace('"', '""') + '"'
    return value


def serialize_solutions(variables: list[str], rows: list[list[Any]], fmt: str, truncated: bool, row_limit: int) -> bytes:
    """SPARQL results (JSON, XML, CSV or TSV) from rows of pyoxigraph terms."""
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
        doc: dict[str, Any] = {"head": {"vars": variables}, "results": {"bindings": bindings}, "truncated": truncated}
        if truncated:
            doc["rowLimit"] = row_limit
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "xml":
        parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        if truncated:
            parts.append(f'<link href="urn:regiograph:truncated:{row_limit}"/>')
        parts.append("</head>\n<results>")
        for row in rows:
            parts.append("<result>")
            parts += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row, strict=True) if t is not None]
            parts.append("</result>")
        parts.append("</results>\n</sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":
        lines = [",".join(variables)] + [",".join(_csv_field(t) for t in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)] + ["\t".join("" if t is None else str(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt}")


def serialize_boolean(value: bool, fmt: str) -> bytes:
    if fmt == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{str(value).lower()}</boolean></sparql>\n"
        ).encode()
    if fmt in ("csv", "tsv"):
        return f"{'_askResult' if fmt == 'csv' else '?_askResult'}\n{str(value).lower()}\n".encode()
    return json.dumps({"head": {}, "boolean": value}).encode()


# --- running one job --------------------------------------------------------------------------

_ERROR_POSITION = re.compile(r"error at (\d+):(\d+)")


def error_answer(status: int, message: str, **headers: str) -> QueryAnswer:
    return QueryAnswer(status, "text/plain; charset=utf-8", (message + "\n").encode("utf-8"), headers=dict(headers))


def run_job(store: ox.Store, job: QueryJob) -> QueryAnswer:
    """Run one query on an open store and serialise its answer."""
    started = time.perf_counter()
    deadline = started + job.timeout_s
    kwargs: dict[str, Any] = {"prefixes": PREFIXES}
    if job.default_graphs:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
    else:
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    if calls_similar(job.query):
        functions = _functions(job)
        if isinstance(functions, QueryAnswer):
            return functions
        kwargs["custom_functions"] = functions
    try:
        result = store.query(job.query, **kwargs)
        if isinstance(result, ox.QueryBoolean):
            if job.select_format is None:
                return _not_acceptable(SELECT_TYPES)
            body = serialize_boolean(bool(result), job.select_format)
            return QueryAnswer(200, SELECT_TYPES[job.select_format], body, elapsed_ms=_ms(started))
        if isinstance(result, ox.QuerySolutions):
            if job.select_format is None:
                return _not_acceptable(SELECT_TYPES)
            variables = [v.value for v in result.variables]
            rows: list[list[Any]] = []
            truncated = False
            for i, solution in enumerate(result):
                if i >= job.row_limit:
                    truncated = True
                    break
                if (i & 1023) == 0 and time.perf_counter() > deadline:
                    return timeout_answer(job.timeout_s)
                rows.append([solution[v] for v in variables])
            body = serialize_solutions(variables, rows, job.select_format, truncated, job.row_limit)
            return _answer(SELECT_TYPES[job.select_format], body, truncated, len(rows), started)
        if job.graph_format is None:
            return _not_acceptable(GRAPH_TYPES)
        triples: list[ox.Triple] = []
        truncated = False
        for i, triple in enumerate(result):
            if i >= job.row_limit:
                truncated = True
                break
            if (i & 1023) == 0 and time.perf_counter() > deadline:
                return timeout_answer(job.timeout_s)
            triples.append(triple)
        graph_body = ox.serialize(triples, format=_RDF_FORMATS[job.graph_format], prefixes=_TURTLE_PREFIXES if job.graph_format == "turtle" else None)
        return _answer(GRAPH_TYPES[job.graph_format], graph_body or b"", truncated, len(triples), started)
    except SyntaxError as exc:
        message = str(exc)
        match = _ERROR_POSITION.search(message)
        headers = {"X-Regiograph-Error-Line": match.group(1), "X-Regiograph-Error-Column": match.group(2)} if match else {}
        return error_answer(400, f"invalid SPARQL query: {message}", **headers)
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        return error_answer(400, f"query failed: {exc}")


def _functions(job: QueryJob) -> dict[ox.NamedNode, Any] | QueryAnswer:
    """``rg:similar`` for a query that calls it, over ``job.data_dir``'s search index (loaded once
    per worker); an error answer when there is none. Oxigraph leaves a function's value unbound
    when the function fails, so a missing index is reported before the query runs."""
    if not job.data_dir:
        return error_answer(400, "rg:similar is not available here: this store has no search index beside it")
    from regiograph.errors import RegiographError
    from regiograph.settings import load_settings
    from search.api import sparql_functions  # the search layer, for the queries that call it only

    try:
        functions = sparql_functions(load_settings(data_dir=job.data_dir))
    except RegiographError as exc:
        return error_answer(400, f"rg:similar needs the search index: {exc}")
    return {ox.NamedNode(iri): function for iri, function in functions.items()}


def timeout_answer(timeout_s: float) -> QueryAnswer:
    return error_answer(
        503,
        f"query timed out after {timeout_s:g} s and was stopped (no partial results); "
        "narrow it down (a LIMIT, a more specific pattern) or ask the operator for a longer query_timeout_s",
        **{"X-Regiograph-Timeout": "true"},
    )


def _not_acceptable(types: dict[str, str]) -> QueryAnswer:
    return error_answer(406, "none of the Accept media types fits this query; use one of " + ", ".join(types.values()))


def _answer(media_type: str, body: bytes, truncated: bool, rows: int, started: float) -> QueryAnswer:
    headers = {"X-Regiograph-Truncated": "true" if truncated else "false"}
    return QueryAnswer(200, media_type, body, truncated=truncated, rows=rows, elapsed_ms=_ms(started), headers=headers)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker's loop: receive jobs, keep the last generation's store open, answer."""
    stores: dict[str, ox.Store] = {}
    while True:
        try:
            job = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        try:
            store = stores.get(job.store)
            if store is None:
                stores.clear()  # a new generation was published: drop the old one
                store = ox.Store.read_only(job.store)
                stores[job.store] = store
            answer = run_job(store, job)
        except OSError as exc:
            answer = error_answer(503, f"the graph store cannot be opened: {exc}")
        except Exception as exc:  # a worker answers, it never dies on a query
            answer = error_answer(500, f"internal error: {type(exc).__name__}: {exc}")
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return


# --- the pool ---------------------------------------------------------------------------------

class Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any) -> None:
        parent, child = ctx.Pipe()
        self.conn: multiprocessing.connection.Connection = parent
        self.process = ctx.Process(target=worker_main, args=(child,), daemon=True, name="regiograph-query-worker")
        self.process.start()
        child.close()

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(timeout=5)
        finally:
            self.conn.close()


class WorkerPool:
    """A fixed number of query worker processes; one job at a time per worker.

    :meth:`run` blocks (call it from a thread): it takes an idle worker, sends the job and waits
    up to the job's deadline; an overrunning or crashed worker is killed and replaced.
    """

    def __init__(self, size: int = 2) -> None:
        self.size = max(1, size)
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        self.killed = 0
        for _ in range(self.size):
            self._idle.append(Worker(self._ctx))

    def _acquire(self, wait_s: float) -> Worker | None:
        deadline = time.monotonic() + wait_s
        with self._cond:
            while not self._idle:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return None
                self._cond.wait(left)
            return self._idle.pop()

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)
            self._cond.notify()

    def _replace(self, worker: Worker) -> None:
        self.killed += 1
        worker.kill()
        if not self._closed:
            self._release(Worker(self._ctx))

    def run(self, job: QueryJob) -> QueryAnswer:
        """Run ``job`` on a worker; a timeout answer (503) when it overruns its deadline."""
        started = time.monotonic()
        timeout_s = job.timeout_s
        worker = self._acquire(timeout_s)
        if worker is None:
            return error_answer(
                503, f"all {self.size} query workers stayed busy for {job.timeout_s:g} s; try again shortly",
                **{"Retry-After": "5"},
            )
        left = max(0.05, job.timeout_s - (time.monotonic() - started))
        # A job that waited for a worker gets only what is left of its deadline.
        job = QueryJob(**{**job.__dict__, "timeout_s": left})
        try:
            worker.conn.send(job)
            if worker.conn.poll(left + 0.25):
                answer: QueryAnswer = worker.conn.recv()
                self._release(worker)
                return answer
        except (EOFError, BrokenPipeError, OSError):
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            return error_answer(500, "the query worker crashed while running this query")
        # Overran: kill it now (the CPU is freed at once) and start a fresh one in the background.
        worker.process.kill()
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
        return timeout_answer(timeout_s)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.kill()
