"""A region: what it is, its projects, practices, organisations, partner regions and operations."""

from __future__ import annotations

import streamlit as st

from kg import views as kv
from kg.network import region_profile
from views import common as c


def render() -> None:
    c.run_page(_body)


def _body() -> None:
    store = c.require_store()
    iri = c.param("iri")
    if not iri:
        st.title("Regions")
        regions = kv.regions(store)
        if not regions:
            st.info("No regions were found in the documents yet.")
            return
        choice = st.selectbox(
            "Region", regions, index=None, placeholder="Choose a region…",
            format_func=lambda r: f"{r.label} ({r.nuts or r.country or 'no NUTS code'})",
        )
        if choice is None:
            _overview(regions)
            return
        c.set_params(iri=choice.iri)
        st.rerun()
    profile = region_profile(store, iri)
    info = kv.region_info(store, profile.iri)
    title = info.label if info else profile.label
    st.title(title)
    facts = [c.badge(f"NUTS {profile.nuts}", "blue")] if profile.nuts else [c.badge("no NUTS code", "gray")]
    if profile.country:
        facts.append(c.badge(f"country {profile.country}", "gray"))
    st.markdown(" ".join(facts) + f" · {c.escape(profile.iri)}")
    names = sorted({f"{t} ({lang or '—'})" for t, lang in profile.labels if t != title})
    if names:
        st.caption("Names in other languages: " + " · ".join(names))

    cols = st.columns(4)
    cols[0].metric("Projects", len(profile.projects))
    cols[1].metric("Practices", len(profile.practices))
    cols[2].metric("Organisations", len(profile.organisations))
    cols[3].metric("Partner regions", len(profile.partners))

    st.subheader("Partner regions")
    if profile.partners:
        _partner_map(profile)
        rows = [
            {"rank": i, "region": p["label"], "shared projects": p["weight"], "projects": "; ".join(p["projects"].values())}  # type: ignore[attr-defined]
            for i, p in enumerate(profile.partners, start=1)
        ]
        st.dataframe(rows, hide_index=True)
        c.entity_links([kv.Ref(str(p["iri"]), str(p["label"])) for p in profile.partners], "Region", limit=40)
    else:
        st.caption("No partner regions: no project of this region names another region.")

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Projects")
        c.entity_links([kv.Ref(p["iri"], p["label"] or p["iri"]) for p in profile.projects if "#row=" not in p["iri"]], "Project", empty="None", limit=40)
        st.subheader("Organisations")
        c.entity_links([kv.Ref(o["iri"], o["label"] or o["iri"]) for o in profile.organisations], "Organisation", empty="None", limit=40)
    with right:
        st.subheader("Practices")
        c.entity_links([kv.Ref(p["iri"], p["label"] or p["iri"]) for p in profile.practices], "Practice", empty="None", limit=40)
    _operations(store, profile.iri)


def _partner_map(profile: object) -> None:
    from kg.network import RegionProfile

    assert isinstance(profile, RegionProfile)
    home = kv.region_point(profile.iri, profile.nuts, profile.country)
    points, links = [], []
    if home is not None:
        points.append(c.MapPoint(profile.iri, profile.label, home[0], home[1], size=18, colour="#d73a49"))
    for p in profile.partners:
        info_nuts = str(p["iri"]).removeprefix(kv.NUTS_PREFIX) if str(p["iri"]).startswith(kv.NUTS_PREFIX) else ""
        at = kv.region_point(str(p["iri"]), info_nuts)
        if at is None:
            continue
        weight = int(p["weight"])  # type: ignore[call-overload]
        points.append(c.MapPoint(str(p["iri"]), str(p["label"]), at[0], at[1], size=8 + 3 * weight, hover=f"{p['label']}: {weight} shared project(s)"))
        if home is not None:
            links.append(c.MapLink(home, at, width=1 + weight, hover=f"{weight} shared project(s)"))
    if points:
        c.show_figure(c.map_figure(points, links), key="region_map")


def _overview(regions: list[kv.RegionRef]) -> None:
    points = []
    for r in regions:
        at = kv.region_point(r)
        if at is not None:
            points.append(c.MapPoint(r.iri, r.label, at[0], at[1], size=9, hover=f"{r.label} ({r.nuts or r.country})"))
    st.caption(f"{len(regions)} regions are named by projects, practices or organisations.")
    if points:
        c.show_figure(c.map_figure(points, labels=len(points) <= 40), key="regions_overview")


def _operations(store: object, iri: str) -> None:
    ops = kv.region_operations(store, iri, c.operations())  # type: ignore[arg-type]
    st.subheader(f"Funded operations ({len(ops)})")
    if not ops:
        st.caption("No operation from the ingested lists of operations is located here.")
        return
    funds, years = kv.operation_totals(ops)
    left, right = st.columns(2)
    left.markdown("**By fund**")
    left.dataframe([{"fund": f, "operations": n, "budget (EUR)": round(b), "EU share (EUR)": round(e)} for f, n, b, e in funds], hide_index=True)
    right.markdown("**By start year**")
    right.dataframe([{"year": y or "unknown", "operations": n, "budget (EUR)": round(b), "EU share (EUR)": round(e)} for y, n, b, e in years], hide_index=True)
    c.link("operations", "Show these operations", icon=":material/table:", region=iri)
