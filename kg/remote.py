"""A graph store on a SPARQL 1.1 Query/Update + Graph Store Protocol server, over httpx.

:class:`RemoteGraphStore` has the methods the rest of the code uses on
:class:`kg.store.GraphStore` (``query``, ``select``, ``replace_graph``, ``remove_graph``,
``named_graphs``, ``triple_count``, ``dump``, ``close``), so ingest, the CLI and the exports run
unchanged against an Oxigraph server, Fuseki, GraphDB, QLever or Virtuoso
(``--store URL`` / ``REGIOGRAPH_STORE``).

Endpoint layout: by default Oxigraph server's (``URL/query``, ``URL/update``, ``URL/store``).
Other servers name them differently; give the names in the URL fragment, relative to the URL
or absolute, e.g. Fuseki ``http://host:3030/ds#store=data`` (``/ds/query``, ``/ds/update``,
``/ds/data``) or GraphDB ``http://host:7200/repositories/rg#query=.&update=statements&store=rdf-graphs/service``.

Queries are sent as-is with the contract prefixes added; rdflib's ``SPARQLUpdateStore`` is not
used (its ``Graph.query()`` can silently return no rows). The union of named graphs as the
default graph is asked for with Oxigraph's ``union-default-graph`` parameter
(``union_default_graph=True``); configure it on the server for others.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import parse_qsl, urljoin

import httpx
import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from kg.store import QueryResult, bind_values, check_read_only, with_prologue
from regiograph.errors import QueryError, StoreError

_RESULTS_JSON = "application/sparql-results+json"


class RemoteGraphStore:
    """A SPARQL 1.1 server used as regiograph's graph store."""

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        timeout_s: float = 60.0,
        union_default_graph: bool | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        base, _, fragment = url.partition("#")
        names = dict(parse_qsl(fragment)) if fragment else {}
        root = base.rstrip("/") + "/"
        self.url = base
        self.query_url = urljoin(root, names.get("query", "query")).rstrip("/") if names.get("query") != "." else base
        self.update_url = urljoin(root, names.get("update", "update"))
        self.store_url = urljoin(root, names.get("store", "store"))
        self.read_only = read_only
        self.path = None
        self.timeout_s = timeout_s
        self.union_default_graph = ("union" not in names or names["union"] != "0") if union_default_graph is None else union_default_graph
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0), trust_env=False)

    # --- HTTP -----------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise QueryError(f"the graph store at {self.url} did not answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the graph store at {self.url}: {exc}; is the server running?") from exc
        if response.status_code == 400:
            raise QueryError(f"the graph store refused the request: {response.text[:500]}")
        if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
            raise StoreError(f"graph store {method} {url} failed with HTTP {response.status_code}: {response.text[:500]}")
        return response

    def _post_query(self, text: str, accept: str, union: bool, timeout_s: float | None) -> httpx.Response:
        params = {"union-default-graph": ""} if union else None
        kw: dict[str, Any] = {}
        if timeout_s:
            kw["timeout"] = httpx.Timeout(timeout_s, connect=10.0)
        return self._request(
            "POST", self.query_url, params=params, content=text.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query", "Accept": accept}, **kw,
        )

    # --- reading --------------------------------------------------------------------------
    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        row_limit: int | None = None,
        timeout_s: float | None = None,
        user_query: bool = False,
        custom_functions: Mapping[str, Any] | None = None,
        union: bool | None = None,
    ) -> QueryResult:
        """Run a read-only query on the server (same contract as ``GraphStore.query``)."""
        if custom_functions:
            raise QueryError("custom SPARQL functions need the embedded store; they cannot run on a remote server")
        check_read_only(sparql)
        text = with_prologue(bind_values(sparql, bindings or {}))
        started = time.perf_counter()
        use_union = self.union_default_graph if union is None else union
        response = self._post_query(text, f"{_RESULTS_JSON}, application/n-triples;q=0.9", use_union, timeout_s)
        ctype = response.headers.get("content-type", "").split(";")[0].strip()
        elapsed = (time.perf_counter() - started) * 1000.0
        if ctype in (_RESULTS_JSON, "application/json"):
            doc = response.json()
            if "boolean" in doc:
                return QueryResult("ask", [], [], boolean=bool(doc["boolean"]), elapsed_ms=elapsed)
            variables = list(doc.get("head", {}).get("vars", []))
            rows: list[dict[str, Node | None]] = []
            bindings_list = doc.get("results", {}).get("bindings", [])
            truncated = row_limit is not None and len(bindings_list) > row_limit
            for binding in bindings_list[: row_limit if truncated else None]:
                rows.append({v: _term(binding[v]) if v in binding else None for v in variables})
            return QueryResult("select", variables, rows, truncated=truncated, elapsed_ms=elapsed)
        triples: list[tuple[Node, Node, Node]] = []
        for triple in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES):
            if row_limit is not None and len(triples) >= row_limit:
                return QueryResult("graph", ["subject", "predicate", "object"], [], triples=triples, truncated=True, elapsed_ms=elapsed)
            triples.append((_from_ox(triple.subject), _from_ox(triple.predicate), _from_ox(triple.object)))
        return QueryResult("graph", ["subject", "predicate", "object"], [], triples=triples, elapsed_ms=elapsed)

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> list[dict[str, Node | None]]:
        """Rows of a trusted, named SELECT query (no limits)."""
        return self.query(sparql, bindings).rows

    def named_graphs(self) -> list[str]:
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", union=False).rows
        return [str(r["g"]) for r in rows if isinstance(r["g"], URIRef)]

    def triple_count(self) -> int:
        """Quads in the named graphs plus triples in the default graph."""
        rows = self.query(
            "SELECT (COUNT(*) AS ?n) WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } }", union=False,
        ).rows
        return int(str(rows[0]["n"])) if rows else 0

    def dump(self, out: IO[bytes], fmt: str) -> None:
        """The whole dataset (trig, nquads) by a Graph Store GET, graph by graph if need be."""
        if fmt not in ("trig", "nquads"):
            raise StoreError(f"dump format {fmt} is handled by kg.export")
        response = self._client.get(self.store_url, headers={"Accept": "application/n-quads"})
        if response.status_code == 200 and response.headers.get("content-type", "").startswith("application/n-quads"):
            data = response.content
        else:  # servers that only serve one graph at a time
            quads: list[ox.Quad] = []
            for graph in self.named_graphs():
                got = self._request("GET", self.store_url, params={"graph": graph}, headers={"Accept": "application/n-triples"})
                name = ox.NamedNode(graph)
                quads += [ox.Quad(t.subject, t.predicate, t.object, name) for t in ox.parse(got.content, format=ox.RdfFormat.N_TRIPLES)]
            data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
        if fmt == "nquads":
            out.write(data)
            return
        from kg.namespaces import PREFIXES

        quads_in = ox.parse(data, format=ox.RdfFormat.N_QUADS)
        out.write(ox.serialize(quads_in, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b"")

    # --- writing --------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("this store is opened read-only")

    def replace_graph(self, graph: URIRef, ntriples: str) -> None:
        """Replace a named graph's content (one Graph Store PUT: the server swaps it atomically)."""
        self._writable()
        self._request(
            "PUT", self.store_url, params={"graph": str(graph)}, content=ntriples.encode("utf-8"),
            headers={"Content-Type": "application/n-triples"},
        )

    def remove_graph(self, graph: URIRef) -> None:
        self._writable()
        self._request("DELETE", self.store_url, params={"graph": str(graph)})

    def update(self, sparql_update: str) -> None:
        """Run a SPARQL Update (trusted code only; the endpoint never forwards updates)."""
        self._writable()
        self._request("POST", self.update_url, content=sparql_update.encode("utf-8"), headers={"Content-Type": "application/sparql-update"})

    def close(self) -> None:
        self._client.close()


def _term(cell: Mapping[str, Any]) -> Node:
    kind = cell.get("type")
    if kind == "uri":
        return URIRef(cell["value"])
    if kind == "bnode":
        return BNode(cell["value"])
    if "xml:lang" in cell:
        return Literal(cell["value"], lang=cell["xml:lang"])
    if cell.get("datatype") and cell["datatype"] != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(cell["value"], datatype=URIRef(cell["datatype"]))
    return Literal(cell["value"])


def _from_ox(term: Any) -> Node:
    from kg.store import from_ox

    node = from_ox(term)
    assert node is not None
    return node
