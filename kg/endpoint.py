"""A read-only, bounded SPARQL 1.1 Protocol endpoint over the published generation.

Routes (all declared in :func:`create_app`):

- ``/sparql`` — GET ``?query=``, POST ``application/sparql-query`` or form-encoded ``query=``;
  without a query, the service description. Results in SPARQL JSON/XML/CSV/TSV, graphs in
  Turtle/N-Triples/JSON-LD/RDF-XML by ``Accept``. The default graph is the union of the named
  graphs (``default-graph-uri`` / ``named-graph-uri`` narrow it). Contract prefixes (``rg:``,
  ``skos:``…) are predeclared.
- ``/void`` and ``/.well-known/void`` — the VoID/DCAT description (:mod:`kg.void`).
- ``/examples`` — the example queries of ``queries/*.rq`` as JSON.

Bounds: SPARQL Update, ``LOAD`` and ``SERVICE`` are refused (400); each query runs in a worker
process (:mod:`kg.query_worker`) killed at the deadline (503 with ``X-Regiograph-Timeout``);
rows are capped (``X-Regiograph-Truncated: true`` and ``"truncated": true`` in JSON); bodies
over ``max_request_kb`` get 413; more than ``rate_limit_per_min`` requests per client per
minute get 429. A new ingest is picked up when ``current`` changes.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kg.query_worker import GRAPH_TYPES, SELECT_TYPES, QueryAnswer, QueryJob, WorkerPool
from kg.sparql_text import SIMILAR
from kg.store import DataDir
from regiograph.errors import QueryError, StoreError
from regiograph.settings import Settings

#: Query worker processes (each holds the generation open read-only).
DEFAULT_WORKERS = 2

_EXPOSED_HEADERS = ["X-Regiograph-Truncated", "X-Regiograph-Timeout", "X-Regiograph-Elapsed-Ms", "Retry-After"]

# --- refusing what a read-only, offline endpoint must not run ------------------------------------

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_STRINGS_COMMENTS_IRIS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*',
)
# A keyword, not part of a variable (?x), prefixed name (ex:x, x:), blank node or language tag.
_KEYWORD = r"(?<![?$:@\w.\-])({})\b(?![:\w\-])"
_UPDATE = re.compile(_KEYWORD.format("INSERT|DELETE|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH"), re.I)
_LOAD = re.compile(_KEYWORD.format("LOAD"), re.I)
_SERVICE = re.compile(_KEYWORD.format("SERVICE"), re.I)


def _unescape_codepoints(text: str) -> str:
    """SPARQL applies ``\\uXXXX`` escapes before parsing; so does this check."""
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def refuse_unsafe(query: str) -> None:
    """Raise :class:`QueryError` for SPARQL Update, ``LOAD`` or ``SERVICE`` (strings and comments aside)."""
    body = _STRINGS_COMMENTS_IRIS.sub(" ", _unescape_codepoints(query))
    if _SERVICE.search(body):
        raise QueryError("SERVICE is refused: this endpoint never makes outbound requests (federated queries are off)")
    if _LOAD.search(body):
        raise QueryError("LOAD is refused: this endpoint is read-only and never fetches remote data")
    match = _UPDATE.search(body)
    if match:
        raise QueryError(f"SPARQL Update ({match.group(1).upper()}) is refused: this endpoint is read-only")


# --- content negotiation ------------------------------------------------------------------------

_ALIASES = {
    "application/json": ("json", None),
    "application/sparql-results+json": ("json", None),
    "application/sparql-results+xml": ("xml", None),
    "application/xml": ("xml", "rdfxml"),
    "text/xml": ("xml", "rdfxml"),
    "text/csv": ("csv", None),
    "text/tab-separated-values": ("tsv", None),
    "text/turtle": (None, "turtle"),
    "application/x-turtle": (None, "turtle"),
    "application/n-triples": (None, "ntriples"),
    "text/plain": (None, "ntriples"),
    "application/ld+json": (None, "jsonld"),
    "application/rdf+xml": (None, "rdfxml"),
}
_FORMAT_PARAM = {"json": ("json", "jsonld"), "xml": ("xml", "rdfxml"), "csv": ("csv", None), "tsv": ("tsv", None),
                 "turtle": (None, "turtle"), "ttl": (None, "turtle"), "ntriples": (None, "ntriples"), "nt": (None, "ntriples"),
                 "jsonld": (None, "jsonld"), "rdfxml": (None, "rdfxml")}


def negotiate(accept: str | None, format_param: str | None = None) -> tuple[str | None, str | None]:
    """(results format, graph format) for an ``Accept`` header; defaults JSON and Turtle."""
    if format_param:
        pair = _FORMAT_PARAM.get(format_param.lower())
        if pair is not None:
            return pair[0] or "json", pair[1] or "turtle"
    if not accept or not accept.strip():
        return "json", "turtle"
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media, q = pieces[0].lower(), 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, media))
    ranked.sort()
    select: str | None = None
    graph: str | None = None
    for _, _, media in ranked:
        if media in ("*/*", "application/*", "text/*"):
            select, graph = select or "json", graph or "turtle"
            continue
        s, g = _ALIASES.get(media, (None, None))
        select, graph = select or s, graph or g
    return select, graph


# --- rate limiting ------------------------------------------------------------------------------

class RateLimiter:
    """At most ``per_minute`` requests per client in any sliding 60-second window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """0 if the request may go ahead (and counts it), else seconds until it may."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - 60.0:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(0.0, hits[0] + 60.0 - now)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v]:
                    del self._hits[key]
            return 0.0


# --- the endpoint -------------------------------------------------------------------------------

class Endpoint:
    """State shared by the routes: settings, the worker pool, the rate limiter, caches."""

    def __init__(self, settings: Settings, workers: int = DEFAULT_WORKERS) -> None:
        self.settings = settings
        self.data = DataDir(settings.data_dir)
        self.workers = workers
        self.pool: WorkerPool | None = None
        self.limiter = RateLimiter(settings.rate_limit_per_min)
        self._void: tuple[int, str, bytes] | None = None
        self._void_lock = threading.Lock()

    def start(self) -> None:
        if self.pool is None:
            self.pool = WorkerPool(self.workers)

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def store_path(self) -> tuple[int, Path]:
        """The current generation and its store folder (re-read on every request)."""
        number = self.data.current_generation()
        if number is None:
            raise StoreError(f"no data in {self.data.root} yet: run `regiograph ingest PATH` first")
        return number, self.data.generation_dir(number) / "store"

    def void(self, endpoint_url: str) -> bytes:
        """The VoID description of the current generation (computed once per generation)."""
        from kg.void import void_turtle

        number, _ = self.store_path()
        with self._void_lock:
            if self._void is None or self._void[0] != number or self._void[1] != endpoint_url:
                store = self.data.open_reader(number)
                try:
                    self._void = (number, endpoint_url, void_turtle(store, self.settings.base_iri, endpoint_url))
                finally:
                    store.close()
            return self._void[2]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None if it is larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer_response(answer: QueryAnswer) -> Response:
    headers = dict(answer.headers)
    headers["X-Regiograph-Elapsed-Ms"] = f"{answer.elapsed_ms:.1f}"
    media = answer.media_type
    if answer.status == 200 and not media.startswith("application/") and "charset" not in media:
        media += "; charset=utf-8"
    return Response(answer.body, status_code=answer.status, media_type=media, headers=headers)


def create_app(settings: Settings, workers: int = DEFAULT_WORKERS) -> Starlette:
    """The Starlette application (the tests run it in-process or under uvicorn)."""
    endpoint = Endpoint(settings, workers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        endpoint.start()
        try:
            yield
        finally:
            endpoint.stop()

    def limited(request: Request) -> Response | None:
        wait = endpoint.limiter.retry_after(_client(request))
        if wait > 0:
            return _error(
                429, f"too many requests: at most {settings.rate_limit_per_min} per minute per client; retry in {wait:.0f} s",
                {"Retry-After": str(max(1, round(wait)))},
            )
        return None

    async def sparql(request: Request) -> Response:
        refused = limited(request)
        if refused is not None:
            return refused
        params: list[tuple[str, str]] = list(request.query_params.multi_items())
        query: str | None = None
        if request.method == "POST":
            body = await _read_body(request, int(settings.max_request_kb * 1024))
            if body is None:
                return _error(413, f"request body too large: the limit is {settings.max_request_kb:g} KB")
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/sparql-update":
                return _error(400, "SPARQL Update is refused: this endpoint is read-only")
            if ctype == "application/sparql-query":
                query = body.decode("utf-8", errors="replace")
            elif ctype == "application/x-www-form-urlencoded":
                params += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
            else:
                return _error(415, "POST a query as application/sparql-query or application/x-www-form-urlencoded (query=…)")
        elif len(str(request.url.query)) > settings.max_request_kb * 1024:
            return _error(413, f"query string too long: the limit is {settings.max_request_kb:g} KB")
        values: dict[str, list[str]] = {}
        for key, value in params:
            values.setdefault(key, []).append(value)
        if "update" in values:
            return _error(400, "SPARQL Update is refused: this endpoint is read-only")
        if query is None:
            queries = values.get("query", [])
            if len(queries) > 1:
                return _error(400, "give exactly one query parameter")
            query = queries[0] if queries else None
        if query is None:
            return service_description(request)
        if not query.strip():
            return _error(400, "the query is empty")
        try:
            refuse_unsafe(query)
        except QueryError as exc:
            return _error(400, str(exc))
        select_fmt, graph_fmt = negotiate(request.headers.get("accept"), next(iter(values.get("format", [])), None))
        if select_fmt is None and graph_fmt is None:
            return _error(406, "unsupported Accept: use one of " + ", ".join([*SELECT_TYPES.values(), *GRAPH_TYPES.values()]))
        try:
            _, path = endpoint.store_path()
        except StoreError as exc:
            return _error(503, str(exc))
        if endpoint.pool is None:
            return _error(503, "the endpoint is starting; try again")
        job = QueryJob(
            store=str(path), query=query, row_limit=settings.row_limit, timeout_s=settings.query_timeout_s,
            select_format=select_fmt, graph_format=graph_fmt,
            default_graphs=tuple(values.get("default-graph-uri", [])), named_graphs=tuple(values.get("named-graph-uri", [])),
            data_dir=str(settings.data_dir),
        )
        answer = await anyio.to_thread.run_sync(endpoint.pool.run, job)
        return _answer_response(answer)

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def service_description(request: Request) -> Response:
        from rdflib import BNode, Graph, Literal, Namespace, URIRef
        from rdflib.namespace import RDF, RDFS

        sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
        formats = Namespace("http://www.w3.org/ns/formats/")
        g = Graph()
        g.bind("sd", sd)
        service = URIRef(base_url(request) + "/sparql")
        g.add((service, RDF.type, sd.Service))
        g.add((service, sd.endpoint, service))
        g.add((service, sd.supportedLanguage, sd.SPARQL11Query))
        g.add((service, sd.feature, sd.UnionDefaultGraph))
        g.add((service, sd.extensionFunction, URIRef(SIMILAR)))  # rg:similar(?text, "query"), with the search index
        for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                     "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
            g.add((service, sd.resultFormat, formats[name]))
        dataset = BNode()
        g.add((service, sd.defaultDataset, dataset))
        g.add((dataset, RDF.type, sd.Dataset))
        default = BNode()
        g.add((dataset, sd.defaultGraph, default))
        g.add((default, RDF.type, sd.Graph))
        g.add((default, RDFS.comment, Literal("the union of all named graphs (one per document, plus ontology and derived facts)", lang="en")))
        g.add((service, RDFS.seeAlso, URIRef(base_url(request) + "/void")))
        g.add((service, RDFS.comment, Literal(
            f"read-only; SPARQL Update, LOAD and SERVICE refused; time limit {settings.query_timeout_s:g} s; "
            f"at most {settings.row_limit} rows (X-Regiograph-Truncated); {settings.rate_limit_per_min} requests/min per client; "
            "contract prefixes (rg:, rgid:, skos:, dcterms:, prov:, org:, foaf:, nuts:…) predeclared",
            lang="en",
        )))
        _, graph_fmt = negotiate(request.headers.get("accept"))
        fmt = {"jsonld": "json-ld", "ntriples": "nt", "rdfxml": "xml"}.get(graph_fmt or "turtle", "turtle")
        media = GRAPH_TYPES.get(graph_fmt or "turtle", "text/turtle")
        return Response(g.serialize(format=fmt).encode("utf-8"), media_type=media)

    async def void(request: Request) -> Response:
        refused = limited(request)
        if refused is not None:
            return refused
        try:
            body = await anyio.to_thread.run_sync(endpoint.void, base_url(request) + "/sparql")
        except StoreError as exc:
            return _error(503, str(exc))
        return Response(body, media_type="text/turtle")

    async def examples(request: Request) -> Response:
        from kg.examples import example_queries

        return JSONResponse([ex.__dict__ for ex in example_queries()])

    async def index(request: Request) -> Response:
        return JSONResponse({
            "sparql": base_url(request) + "/sparql",
            "void": base_url(request) + "/void",
            "examples": base_url(request) + "/examples",
            "generation": endpoint.data.current_generation(),
        })

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/void", void, methods=["GET"]),
        Route("/.well-known/void", void, methods=["GET"]),
        Route("/examples", examples, methods=["GET"]),
    ]
    middleware = [
        Middleware(
            CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"], allow_headers=["*"],
            expose_headers=_EXPOSED_HEADERS, max_age=3600,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.endpoint = endpoint
    return app


def run_server(settings: Settings, workers: int = DEFAULT_WORKERS) -> None:
    """Serve until interrupted (``regiograph serve``)."""
    import sys

    import uvicorn

    endpoint_data = DataDir(settings.data_dir)
    if endpoint_data.current_generation() is None:
        raise StoreError(f"no data in {settings.data_dir} yet: run `regiograph ingest PATH` first")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {settings.host}: the endpoint is reachable from other machines", file=sys.stderr)
    print(f"regiograph SPARQL endpoint on http://{settings.host}:{settings.port}/sparql (data: {settings.data_dir})", file=sys.stderr)
    uvicorn.run(create_app(settings, workers), host=settings.host, port=settings.port, log_level="info", access_log=False)
