"""Search: one box in any language, facets with counts, highlighted passages, export."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import streamlit as st

from ingest.language import language_name
from views import common as c

#: Facet name in ``facet_counts`` → (query parameter, heading).
FACETS = {
    "regions": ("region", "Region"),
    "countries": ("country", "Country"),
    "instruments": ("instrument", "Instrument"),
    "practice_types": ("type", "Practice type"),
    "projects": ("project", "Project"),
    "langs": ("lang", "Language"),
}
PAGE_SIZES = (10, 20, 50)
#: Good practices listed above the passages; names of the query shown at most.
PRACTICES_SHOWN = 3
NAMES_SHOWN = 8


def render() -> None:
    c.run_page(_body)


def _filters_from_params() -> Any:
    from search.api import Filters

    lists: dict[str, Any] = {name: c.param_list(key) for name, (key, _) in FACETS.items()}
    return Filters(**lists)


def _body() -> None:
    st.title("Search")
    store = c.require_store()
    searcher = c.searcher()
    query = st.text_input(
        "Search the documents and lists of operations, in any language",
        value=c.param("q"),
        placeholder="e.g. study visits for SME internationalisation · eksportrådgivning · Innovationsgutschein",
        key="search_q",
    ).strip()
    k = c.int_param("k") or PAGE_SIZES[0]
    if searcher is None:
        return
    filters = _filters_from_params()
    if not query:
        c.set_params(q=None)
        st.caption("Type a question or a few words; results come from every language in the collection.")
        _collection_summary(store)
        return

    left, right = st.columns([1, 3], gap="large")
    with left:
        st.subheader("Refine")
        counts = searcher.facet_counts(query, filters)
        chosen: dict[str, list[str]] = {}
        for name, (key, heading) in FACETS.items():
            options = counts.get(name, [])
            selected = c.param_list(key)
            labels = {value: f"{label} ({n})" for value, label, n in options}
            for value in selected:  # keep a selection visible even when its count is now zero
                labels.setdefault(value, value)
            if not labels:
                continue
            chosen[name] = st.multiselect(
                heading, options=list(labels), default=[v for v in selected if v in labels],
                format_func=_labeller(labels), key=f"facet_{name}",
            )
        size = st.selectbox("Results", PAGE_SIZES, index=PAGE_SIZES.index(k) if k in PAGE_SIZES else 0, key="search_k")
    c.set_params(q=query, k=str(size) if size != PAGE_SIZES[0] else None, **{FACETS[n][0]: v for n, v in chosen.items()})
    filters = _filters_from_params()
    hits = searcher.search(query, k=size, filters=filters)
    with right:
        if not hits:
            st.info("No passage matches. Try other words, or remove a filter.")
            return
        head, csv_col, jsonld_col = st.columns([5, 1.2, 1.6], vertical_alignment="bottom")
        head.markdown(f"**{len(hits)} passages** for “{c.escape(query)}”")
        csv_col.download_button("CSV", data=hits_csv(hits), file_name="regiograph-search.csv", mime="text/csv", icon=":material/download:")
        jsonld_col.download_button(
            "JSON-LD", data=hits_jsonld(hits, query), file_name="regiograph-search.jsonld", mime="application/ld+json",
            icon=":material/download:",
        )
        _reading(searcher.read_query(query))
        _practices(searcher.search_practices(query, k=PRACTICES_SHOWN, filters=filters), searcher.index.table.labels)
        for hit in hits:
            _hit(hit, query)


def _reading(reading: Any) -> None:
    """What the search took the query for: its language, the names in it that the ranking
    used (their passages form a channel of their own; their labels in every language join the
    keyword search), with links to the pages of those that have one, and what it asks for when
    it asks how to reach someone (search/answer_types.py)."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption(f"Read as {language_name(reading.lang)}" + (" · names in it:" if reading.entities else ""), width="content")
        for ent in reading.entities[:NAMES_SHOWN]:
            if ent["kind"] in c.KIND_PAGE:
                c.entity_link(ent["iri"], ent["label"], ent["kind"], icon=_ICONS.get(ent["kind"]))
            else:
                kind = _KIND_NAMES.get(ent["kind"], ent["kind"] or "name")
                st.markdown(c.badge(f"{ent['label']} ({kind})", "gray"), help=ent["iri"], width="content")
        if len(reading.entities) > NAMES_SHOWN:
            st.caption(f"and {len(reading.entities) - NAMES_SHOWN} more", width="content")
        if reading.asks:
            st.caption("· asks for " + " or ".join(reading.asks) + ": passages that hold one rank higher", width="content")


_KIND_NAMES = {"PracticeType": "practice type", "Instrument": "instrument"}


def _practices(hits: list[Any], labels: dict[str, str]) -> None:
    """The good practices that best match the query (by their own text and by the passages that
    evidence them), as links to their pages, with their practice types."""
    if not hits:
        return
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption("Good practices:", width="content")
        for hit in hits:
            kinds = ", ".join(labels.get(t, t.rsplit("/", 1)[-1]) for t in hit.practice_type)
            label = f"{hit.label} ({kinds})" if kinds and kinds != hit.label else hit.label
            c.link("practice", label, icon=_ICONS["Practice"], help=c.plain_markdown(" ".join(hit.description.split())[:300]) or hit.iri, iri=hit.iri)


def _labeller(labels: dict[str, str]) -> Any:
    return lambda value: labels.get(value, value)


def _hit(hit: Any, query: str) -> None:
    with st.container(border=True):
        meta = [c.badge(hit.lang or "und", "blue"), f"**{c.escape(hit.source)}**"]
        if hit.heading:
            meta.append(f"· {c.escape(hit.heading)}")
        meta.append(f"· score {hit.score:.3f}")
        st.markdown(" ".join(meta))
        focus = (hit.sentence[0] - hit.offsets[0], hit.sentence[1] - hit.offsets[0]) if hit.sentence else None
        c.html_block(c.passage_html(hit.text, query, max_chars=600, focus=focus))
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            c.link("document", "Show in context", icon=":material/article:", passage=hit.passage, q=query)
            seen: set[str] = set()
            for ent in hit.entities[:10]:
                if ent.get("iri") in seen or ent.get("kind") not in c.KIND_PAGE:
                    continue
                seen.add(ent["iri"])
                c.entity_link(ent["iri"], ent.get("label") or ent["iri"], ent.get("kind", ""), icon=_ICONS.get(ent.get("kind", "")))


_ICONS = {
    "Practice": ":material/lightbulb:",
    "Project": ":material/work:",
    "Region": ":material/location_on:",
    "Organisation": ":material/apartment:",
}


def _collection_summary(store: Any) -> None:
    from kg import views as kv

    docs = kv.documents(store)
    if docs:
        st.markdown(f"**{len(docs)} documents** in the collection:")
        st.dataframe(
            [{"document": d["title"] or d["source"], "file": d["source"], "language": d["lang"], "passages": d["passages"]} for d in docs],
            hide_index=True,
        )


def hits_csv(hits: list[Any]) -> str:
    """The result set as CSV (one row per passage)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["rank", "score", "passage", "document", "source", "lang", "heading", "start", "end", "entities", "text"])
    for h in hits:
        writer.writerow([
            h.rank, f"{h.score:.6f}", h.passage, h.document, h.source, h.lang, h.heading or "", h.offsets[0], h.offsets[1],
            "; ".join(e.get("label", "") for e in h.entities), h.text,
        ])
    return buf.getvalue()


def hits_jsonld(hits: list[Any], query: str) -> str:
    """The result set as JSON-LD in the contract vocabulary (rg:Passage nodes with their mentions)."""
    from kg.namespaces import PREFIXES

    context: dict[str, Any] = dict(PREFIXES)
    context.update({
        "score": {"@id": "rg:searchScore", "@type": "xsd:decimal"},
        "rank": {"@id": "rg:searchRank", "@type": "xsd:integer"},
    })
    graph = []
    for h in hits:
        graph.append({
            "@id": h.passage,
            "@type": "rg:Passage",
            "rank": h.rank,
            "score": round(float(h.score), 6),
            "rg:text": {"@value": h.text, "@language": h.lang} if h.lang and h.lang != "und" else h.text,
            "dcterms:language": h.lang,
            "dcterms:isPartOf": {"@id": h.document, "dcterms:source": h.source},
            "rg:startOffset": h.offsets[0],
            "rg:endOffset": h.offsets[1],
            "@reverse": {
                "rg:mentionedIn": [
                    {"@id": e["iri"], "@type": f"rg:{e.get('kind') or 'Entity'}", "skos:prefLabel": e.get("label", "")} for e in h.entities
                ]
            },
        })
    return json.dumps({"@context": context, "rg:query": query, "@graph": graph}, ensure_ascii=False, indent=2)
