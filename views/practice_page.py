"""A good practice: its record fields, project, regions, source passages and similar practices."""

from __future__ import annotations

import streamlit as st

from kg import views as kv
from views import common as c

FIELDS = (
    ("description", "Description"),
    ("evidence", "Evidence of success"),
    ("resources", "Resources needed"),
    ("difficulties", "Difficulties encountered"),
    ("transfer", "Potential for transfer"),
)


def render() -> None:
    c.run_page(_body)


def _body() -> None:
    store = c.require_store()
    iri = c.param("iri")
    if not iri:
        st.title("Practices")
        practices = kv.list_entities(store, "Practice")
        if not practices:
            st.info("No practices were extracted from the documents yet.")
            return
        choice = st.selectbox("Practice", practices, index=None, format_func=lambda r: r.label, placeholder="Choose a practice…")
        if choice is None:
            st.caption(f"{len(practices)} practices. Or find them with **Search**.")
            return
        c.set_params(iri=choice.iri)
        st.rerun()
    detail = kv.practice_detail(store, iri)
    if detail is None:
        st.title("Practice")
        st.warning(f"No practice with the IRI `{iri}` in the current data.")
        return
    st.title(detail.label)
    st.caption(iri)
    tags = [c.badge(t.label, "violet") for t in detail.types] + [c.badge(t.label, "gray") for t in detail.themes + detail.target_groups]
    if tags:
        st.markdown(" ".join(tags))
    main, side = st.columns([2, 1], gap="large")
    with main:
        shown = False
        for attr, heading in FIELDS:
            text = getattr(detail, attr)
            if text:
                st.markdown(f"##### {heading}")
                c.html_block(c.escape(text))
                shown = True
        if not shown:
            st.caption("The text gives no description fields for this practice; see its source passages below.")
    with side:
        st.markdown("##### Project")
        c.entity_links(detail.projects, "Project", empty="No project named")
        st.markdown("##### Region")
        c.entity_links(detail.regions, "Region", empty="No region named")
    st.subheader(f"Source passages ({len(detail.passages)})")
    for p in detail.passages[:20]:
        with st.container(border=True):
            st.markdown(f"{c.badge(p.lang or 'und')} **{c.escape(p.source)}**" + (f" · {c.escape(p.heading)}" if p.heading else ""))
            c.html_block(c.highlight(p.text, detail.label))
            c.link("document", "Show in context", icon=":material/article:", passage=p.iri)
    _similar(iri)


def _similar(iri: str) -> None:
    st.subheader("Similar practices in other regions")
    searcher = c.searcher()
    if searcher is None:
        return
    similar = searcher.similar_practices(iri, k=8)
    if not similar:
        st.caption("No similar practice from another region in the collection.")
        return
    for hit in similar:
        with st.container(border=True):
            c.entity_link(hit.iri, hit.label, "Practice", icon=":material/lightbulb:")
            store = c.require_store()
            regions = ", ".join(kv.labels(store, hit.regions).values()) if hit.regions else "region unknown"
            kinds = ", ".join(kv.labels(store, hit.practice_type).values())
            st.caption((f"{c.escape(kinds)} · " if kinds else "") + f"similarity {hit.score:.2f} · {c.escape(regions)}")
            if hit.description:
                text = hit.description if len(hit.description) < 300 else hit.description[:297] + "…"
                c.html_block(c.escape(text))
