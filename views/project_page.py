"""A project (or an operation from a list of operations): money, partners, regions on a map."""

from __future__ import annotations

import streamlit as st

from kg import views as kv
from views import common as c


def render() -> None:
    c.run_page(_body)


def _body() -> None:
    store = c.require_store()
    iri = c.param("iri")
    if not iri:
        st.title("Projects")
        projects = [p for p in kv.list_entities(store, "Project") if "#row=" not in p.iri]
        if not projects:
            st.info("No projects were extracted yet. Operations from lists of operations are on the **Operations** page.")
            return
        choice = st.selectbox("Project", projects, index=None, format_func=lambda r: r.label, placeholder="Choose a project…")
        if choice is None:
            st.caption(f"{len(projects)} projects from documents. Operations from lists of operations are on the **Operations** page.")
            return
        c.set_params(iri=choice.iri)
        st.rerun()
    if kv.entity_kind(store, iri) == "Organisation":
        _organisation(store, iri)
        return
    d = kv.project_detail(store, iri)
    if d is None:
        st.title("Project")
        st.warning(f"No project with the IRI `{iri}` in the current data.")
        return
    st.title(d.label)
    if d.alt_labels:
        st.caption("also: " + " · ".join(d.alt_labels))
    st.caption(iri)
    if d.is_operation:
        _operation(d)
    else:
        _project(d)
    if d.description:
        st.markdown("##### Description")
        c.html_block(c.escape(d.description))
    regions = d.partner_regions or d.locations
    if regions:
        st.subheader("Partner regions" if d.partner_regions else "Where it takes place")
        _regions_map(regions)
        c.entity_links(regions, "Region")
    st.subheader(f"Practices ({len(d.practices)})")
    c.entity_links(d.practices, "Practice", empty="No practice recorded for this project.")
    st.subheader("Documents")
    if d.documents:
        for doc in d.documents:
            passages = [p for p in kv.mention_passages(store, iri) if p.document == doc.iri]
            if passages:
                c.link("document", f"{doc.label} — {len(passages)} passage(s)", icon=":material/article:", passage=passages[0].iri)
            else:
                st.markdown(c.escape(doc.label))
    else:
        st.caption("—")


def _project(d: kv.ProjectDetail) -> None:
    cols = st.columns(4)
    cols[0].metric("Budget", c.money(d.budget_eur))
    cols[1].metric("ERDF", c.money(d.erdf_eur or d.eu_funding_eur))
    cols[2].metric("Partners", len(d.partners) + (1 if d.lead_partner else 0))
    cols[3].metric("Partner regions", len(d.partner_regions))
    inst, lead, partners = st.columns([1, 1, 2], gap="large")
    with inst:
        st.markdown("##### Instrument(s)")
        st.markdown(" ".join(c.badge(i.label, "green") for i in d.instruments) or "—")
    with lead:
        st.markdown("##### Lead partner")
        if d.lead_partner:
            c.entity_link(d.lead_partner.iri, d.lead_partner.label, "Organisation", icon=":material/apartment:")
        else:
            st.caption("not stated")
    with partners:
        st.markdown("##### Partners")
        c.entity_links(d.partners, "Organisation", empty="not stated")


def _operation(d: kv.ProjectDetail) -> None:
    st.markdown(c.badge("operation from a list of operations", "orange"))
    cols = st.columns(4)
    cols[0].metric("Total budget", c.money(d.budget_eur))
    cols[1].metric("EU share", c.money(d.eu_funding_eur or d.erdf_eur))
    rate = f"{float(d.cofinancing_rate) * 100:.0f} %" if d.cofinancing_rate is not None else "—"
    cols[2].metric("Co-financing rate", rate)
    cols[3].metric("Period", f"{d.start[:10] or '?'} – {d.end[:10] or '?'}" if d.start or d.end else "—")
    if d.currency and d.currency != "EUR":
        st.markdown(
            f"Published in **{c.escape(d.currency)}**: budget {c.money(d.budget_original, d.currency)}, "
            f"EU share {c.money(d.eu_funding_original, d.currency)} (converted to EUR above)."
        )
    if d.amount_note:
        st.warning(f"How the amounts were read: {d.amount_note}", icon=":material/info:")
    rows = [
        ("Fund", ", ".join(i.label for i in d.instruments) or "—"),
        ("Beneficiary", d.lead_partner.label if d.lead_partner else "—"),
        ("Region", ", ".join(r.label for r in d.locations) or "—"),
        ("Postcode", d.postcode or "—"),
        ("Category of intervention", ", ".join(x.label for x in d.categories) or "—"),
        ("Source row", d.source),
    ]
    st.table({"": [r[0] for r in rows], "value": [r[1] for r in rows]})


def _regions_map(regions: list[kv.RegionRef]) -> None:
    points = []
    for r in regions:
        at = kv.region_point(r)
        if at is not None:
            points.append(c.MapPoint(r.iri, r.label, at[0], at[1], size=12, hover=f"{r.label} ({r.nuts or r.country})"))
    missing = len(regions) - len(points)
    if points:
        links = [c.MapLink((a.lat, a.lon), (b.lat, b.lon), 1.0) for i, a in enumerate(points) for b in points[i + 1 :]] if len(points) <= 12 else []
        c.show_figure(c.map_figure(points, links, height=420), key="project_map")
    if missing:
        st.caption(f"{missing} region(s) without known coordinates are not on the map.")


def _organisation(store: object, iri: str) -> None:
    from kg.store import GraphStore

    assert isinstance(store, GraphStore)
    st.title(kv.label(store, iri))
    st.caption(f"Organisation · {iri}")
    st.subheader("Projects")
    c.entity_links(kv.organisation_projects(store, iri), "Project", empty="No project recorded.")
    passages = kv.mention_passages(store, iri, limit=10)
    if passages:
        st.subheader("Mentioned in")
        for p in passages:
            c.link("document", f"{p.source} · passage {p.position + 1}", icon=":material/article:", passage=p.iri)
