"""A read-only SPARQL editor: contract prefixes, the example library, limits, downloads."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from kg.examples import example_queries
from kg.namespaces import sparql_prologue
from views import common as c

DEFAULT_BODY = """SELECT ?class (COUNT(?s) AS ?n) WHERE {
  ?s a ?class .
  FILTER(STRSTARTS(STR(?class), STR(rg:)))
}
GROUP BY ?class
ORDER BY DESC(?n)"""
_POSITION = re.compile(r"(?:error )?at (\d+):(\d+)")


@dataclass
class Answer:
    """What a query gave: a table, a boolean, RDF text, or an error."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    boolean: bool | None = None
    rdf: str = ""
    error: str = ""
    position: tuple[int, int] | None = None
    truncated: bool = False
    elapsed_ms: float = 0.0


def render() -> None:
    c.run_page(_body)


@st.cache_resource(show_spinner=False)
def _pool() -> Any:
    """One query worker process for the app, so that a deadline really stops a query."""
    from kg.query_worker import WorkerPool

    return WorkerPool(size=1)


def run_query(query: str, row_limit: int, timeout_s: float) -> Answer:
    """Run a read-only query in the worker with a deadline and a row cap."""
    from kg.query_worker import QueryJob
    from kg.store import check_read_only
    from regiograph.errors import QueryError

    try:
        check_read_only(query)
    except QueryError as exc:
        return Answer(error=str(exc))
    number = c.generation()
    if number is None:
        return Answer(error="there is no data yet: add documents first")
    store_path = c.data_dir().generation_dir(number) / "store"
    job = QueryJob(
        str(store_path), query, row_limit, timeout_s, select_format="json", graph_format="turtle", data_dir=str(c.data_dir().root)
    )
    answer = _pool().run(job)
    if answer.status != 200:
        message = answer.body.decode("utf-8", "replace").strip()
        line, col = answer.headers.get("X-Regiograph-Error-Line"), answer.headers.get("X-Regiograph-Error-Column")
        position = (int(line), int(col)) if line and col else None
        if position is None and (m := _POSITION.search(message)):
            position = (int(m.group(1)), int(m.group(2)))
        return Answer(error=message, position=position)
    if answer.media_type.startswith("text/turtle"):
        return Answer(rdf=answer.body.decode("utf-8"), truncated=answer.truncated, elapsed_ms=answer.elapsed_ms)
    data = json.loads(answer.body)
    if "boolean" in data:
        return Answer(boolean=bool(data["boolean"]), elapsed_ms=answer.elapsed_ms)
    columns = data["head"]["vars"]
    rows = [{v: b[v]["value"] if v in b else "" for v in columns} for b in data["results"]["bindings"]]
    return Answer(columns=columns, rows=rows, truncated=answer.truncated, elapsed_ms=answer.elapsed_ms)


def _body() -> None:
    st.title("SPARQL")
    c.require_store()
    s = c.settings()
    examples = {e.name: e for e in example_queries()}
    st.caption(
        "Read-only: updates, LOAD and SERVICE are refused. The default graph is the union of all named graphs; "
        "the contract prefixes (rg:, rgid:, skos:, dcterms:, prov:, org:, foaf:, nuts: …) are declared for you."
    )
    names = ["", *examples]
    chosen = c.param("example")
    pick = st.selectbox(
        "Example queries", names, index=names.index(chosen) if chosen in names else 0,
        format_func=lambda n: "— write your own —" if not n else examples[n].title, key="sparql_example",
    )
    if pick != chosen:
        c.set_params(example=pick, query=None)
        st.session_state.pop("sparql_text", None)
        st.rerun()
    if pick:
        st.caption(examples[pick].description)
    initial = c.param("query") or (examples[pick].query if pick else sparql_prologue() + "\n" + DEFAULT_BODY)
    if "sparql_text" not in st.session_state:
        st.session_state["sparql_text"] = initial
    text = st.text_area("Query", key="sparql_text", height=320)
    a, b, run_col = st.columns([1, 1, 1], vertical_alignment="bottom")
    row_limit = a.number_input("Row limit", min_value=1, max_value=int(s.row_limit), value=min(1000, int(s.row_limit)), step=100, key="sparql_rows")
    timeout = b.number_input("Timeout (s)", min_value=0.5, max_value=float(s.query_timeout_s), value=min(10.0, float(s.query_timeout_s)), step=1.0, key="sparql_timeout")
    run = run_col.button("Run query", type="primary", icon=":material/play_arrow:", key="sparql_run")
    auto = c.param("run") == "1"
    if not (run or auto):
        return
    c.set_params(query=None if (pick and text == examples[pick].query) else text, example=pick, run="1")
    with st.spinner("Running…"):
        answer = run_query(text, int(row_limit), float(timeout))
    _show(answer, text)


def _show(answer: Answer, text: str) -> None:
    if answer.error:
        st.error(answer.error, icon=":material/error:")
        if answer.position:
            line, col = answer.position
            lines = text.splitlines()
            if 1 <= line <= len(lines):
                st.markdown(f"At line {line}, column {col}:")
                st.code(lines[line - 1] + "\n" + " " * max(0, col - 1) + "^", language=None)
        return
    if answer.boolean is not None:
        st.success(f"ASK: **{'true' if answer.boolean else 'false'}** ({answer.elapsed_ms:.0f} ms)")
        return
    if answer.rdf:
        st.caption(f"{answer.elapsed_ms:.0f} ms" + (" · truncated at the row limit" if answer.truncated else ""))
        st.code(answer.rdf, language="turtle")
        st.download_button("Download Turtle", answer.rdf, file_name="regiograph-query.ttl", mime="text/turtle")
        return
    note = f"{len(answer.rows)} rows · {answer.elapsed_ms:.0f} ms"
    if answer.truncated:
        st.warning(f"{note} — cut at the row limit; raise it or add a LIMIT.")
    else:
        st.caption(note)
    st.dataframe(answer.rows, hide_index=True, column_order=answer.columns)
    d1, d2, _ = st.columns([1, 1, 4])
    d1.download_button("CSV", _csv(answer), file_name="regiograph-query.csv", mime="text/csv", icon=":material/download:")
    d2.download_button("JSON", json.dumps(answer.rows, ensure_ascii=False, indent=2), file_name="regiograph-query.json",
                       mime="application/json", icon=":material/download:")


def _csv(answer: Answer) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=answer.columns)
    writer.writeheader()
    writer.writerows(answer.rows)
    return buf.getvalue()
