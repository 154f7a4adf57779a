"""regiograph explorer: `regiograph app` (or `streamlit run app.py`) on the CLI's data directory.

One ``st.navigation`` declares every page; the page modules in ``views/`` only render what the
``kg`` and ``search`` APIs return. Each page keeps its state (query, filters, entity IRI) in its
own query parameters, so its URL is a permalink. ``/?page=NAME&...`` opens page NAME.
"""

from __future__ import annotations

import os

# OpenMP workers (the query embedder, FAISS) sleep when idle instead of spinning: the explorer
# shares its cores with Streamlit's threads and the browser, and spinning workers made one query
# embedding take 3 s instead of 30 ms whenever the cores were busy. Read when those libraries
# load, which is after this line.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st

from views import common

common.preload()  # the search index and model load while this run imports and renders the page around them

from views import (  # noqa: E402 - after the preload has started (~60 ms of imports)
    add_documents_page,
    document_page,
    network_page,
    operations_page,
    practice_page,
    project_page,
    region_page,
    search_page,
    sparql_page,
)

st.set_page_config(page_title="regiograph", page_icon="🗺️", layout="wide")

PAGES = {
    "search": st.Page(search_page.render, title="Search", icon=":material/search:", url_path="search", default=True),
    "practice": st.Page(practice_page.render, title="Practice", icon=":material/lightbulb:", url_path="practice"),
    "project": st.Page(project_page.render, title="Project", icon=":material/work:", url_path="project"),
    "region": st.Page(region_page.render, title="Region", icon=":material/location_on:", url_path="region"),
    "network": st.Page(network_page.render, title="Network", icon=":material/hub:", url_path="network"),
    "operations": st.Page(operations_page.render, title="Operations", icon=":material/table:", url_path="operations"),
    "sparql": st.Page(sparql_page.render, title="SPARQL", icon=":material/code:", url_path="sparql"),
    "add-documents": st.Page(add_documents_page.render, title="Add documents", icon=":material/upload_file:", url_path="add-documents"),
    "document": st.Page(document_page.render, title="Document", icon=":material/article:", url_path="document", visibility="hidden"),
}
common.register_pages(PAGES)
current = st.navigation(
    {
        "Explore": [PAGES[k] for k in ("search", "practice", "project", "region", "network", "operations")],
        "Data": [PAGES[k] for k in ("sparql", "add-documents", "document")],
    }
)

# `/?page=region&iri=…` opens that page with the remaining parameters (links from the CLI, the bench).
wanted = st.query_params.get("page")
if wanted:
    params = {k: st.query_params.get_all(k) for k in st.query_params if k != "page"}
    del st.query_params["page"]
    if wanted in PAGES and PAGES[wanted] is not current:
        st.switch_page(PAGES[wanted], query_params={k: v if len(v) > 1 else v[0] for k, v in params.items()})

with st.sidebar:
    common.style()
    number = common.generation()
    st.caption(f"data: `{common.settings().data_dir}` · generation {number if number is not None else '—'}")
current.run()
