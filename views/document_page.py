"""A passage inside its document: the passages around it, and what the document mentions."""

from __future__ import annotations

import streamlit as st

from kg import views as kv
from views import common as c


def render() -> None:
    c.run_page(_body)


def _body() -> None:
    store = c.require_store()
    iri = c.param("passage")
    query = c.param("q")
    window = c.int_param("window") or 3
    if not iri:
        st.title("Document")
        st.info("Open a passage from a search result (**Show in context**).")
        return
    ctx = kv.document_context(store, iri, window=window)
    if ctx is None:
        st.title("Document")
        st.warning("This passage is not in the current data (it may have been removed or re-ingested).")
        return
    st.title(ctx.title)
    st.markdown(
        " ".join([c.badge(ctx.lang or "und"), f"file **{c.escape(ctx.source)}**",
                  f"· passage {ctx.target.position + 1} of {ctx.total or '?'}",
                  f"· characters {ctx.target.start}–{ctx.target.end}"])
    )
    if query:
        c.link("search", f"Back to the results for “{query}”", icon=":material/arrow_back:", q=query)
    more = st.select_slider("Passages around it", options=[1, 2, 3, 5, 10, 20], value=window if window in (1, 2, 3, 5, 10, 20) else 3)
    if more != window:
        c.set_params(window=str(more))
        st.rerun()
    for p in ctx.before:
        _passage(p, "rg-passage rg-dim", query)
    _passage(ctx.target, "rg-passage rg-target", query)
    for p in ctx.after:
        _passage(p, "rg-passage rg-dim", query)
    ents = kv.document_entities(store, ctx.document)
    if ents:
        st.subheader("Mentioned in this document")
        for kind, refs in ents.items():
            if kind not in c.KIND_PAGE:
                continue
            st.markdown(f"**{kind}s** ({len(refs)})")
            c.entity_links(refs, kind, limit=30)


def _passage(p: kv.PassageView, css: str, query: str) -> None:
    if p.heading:
        st.caption(p.heading)
    c.html_block(c.highlight(p.text, query), css)
