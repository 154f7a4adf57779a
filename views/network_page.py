"""The region-to-region cooperation network: filters, communities, shortest paths."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import streamlit as st

from kg import views as kv
from views import common as c

if TYPE_CHECKING:
    import networkx as nx

PALETTE = ("#1f6feb", "#d73a49", "#2da44e", "#bf8700", "#8250df", "#e16f24", "#0a7e8c", "#bc4c00", "#6e7781", "#cf222e")


def render() -> None:
    c.run_page(_body)


def _body() -> None:
    st.title("Cooperation network")
    store = c.require_store()
    full = c.network()
    if full.number_of_nodes() == 0:
        st.info("No region network yet: no project names two or more partner regions.")
        return
    countries, instruments, projects = kv.network_options(full, store)
    inst_labels = {r.iri: r.label for r in instruments}
    proj_labels = {r.iri: r.label for r in projects}
    f1, f2, f3, f4 = st.columns([1, 1, 2, 1])
    sel_c = f1.multiselect("Country", countries, default=[x for x in c.param_list("country") if x in countries], key="net_country")
    sel_i = f2.multiselect("Instrument", list(inst_labels), default=[x for x in c.param_list("instrument") if x in inst_labels],
                           format_func=lambda x: inst_labels.get(x, x), key="net_instrument")
    sel_p = f3.multiselect("Project", list(proj_labels), default=[x for x in c.param_list("project") if x in proj_labels],
                           format_func=lambda x: proj_labels.get(x, x), key="net_project")
    layouts = ["map", "graph"]
    layout = f4.radio("Layout", layouts, index=layouts.index(c.param("layout", "map")) if c.param("layout", "map") in layouts else 0,
                      horizontal=True, key="net_layout")
    c.set_params(country=sel_c, instrument=sel_i, project=sel_p, layout=None if layout == "map" else layout)
    g = kv.filter_network(full, sel_c, sel_i, sel_p)
    groups = kv.communities(g)
    community = {n: i for i, grp in enumerate(groups) for n in grp}
    st.caption(
        f"{g.number_of_nodes()} regions · {g.number_of_edges()} links · {len(groups)} communities (Louvain). "
        "Node size: number of partner regions; line width: shared projects."
    )
    if g.number_of_nodes() == 0:
        st.info("No region matches these filters.")
        return
    path_nodes = _path_section_state(g)
    c.show_figure(_figure(g, community, layout, path_nodes), key="network_fig")
    _path_section(g, path_nodes)
    _rankings(g, groups)


def _positions(g: nx.Graph, layout: str) -> dict[str, tuple[float, float]]:
    """lon/lat-like positions: geographic where known (map) or a seeded spring layout (graph)."""
    if layout == "map":
        pos: dict[str, tuple[float, float]] = {}
        for n, d in g.nodes(data=True):
            at = kv.region_point(n, str(d.get("nuts") or ""), str(d.get("country") or ""))
            if at is not None:
                pos[n] = (at[1], at[0])
        return pos
    import networkx as nx

    spring = nx.spring_layout(g, seed=7, weight="weight")
    return {n: (float(x) * 12 + 10, float(y) * 8 + 52) for n, (x, y) in spring.items()}


def _figure(g: nx.Graph, community: dict[str, int], layout: str, path_nodes: list[str]) -> Any:
    pos = _positions(g, layout)
    pairs = list(itertools.pairwise(path_nodes))
    on_path = set(pairs) | {(b, a) for a, b in pairs}
    links = []
    for a, b, d in g.edges(data=True):
        if a in pos and b in pos:
            hover = f"{g.nodes[a]['label']} – {g.nodes[b]['label']}: " + "; ".join(d["projects"].values())
            width = (1 + 1.5 * d["weight"]) * (2.5 if (a, b) in on_path else 1)
            links.append(c.MapLink((pos[a][1], pos[a][0]), (pos[b][1], pos[b][0]), width=width, hover=hover))
    points = []
    for n, d in g.nodes(data=True):
        if n not in pos:
            continue
        colour = PALETTE[community.get(n, 0) % len(PALETTE)]
        size = 8 + 3 * g.degree(n)
        points.append(c.MapPoint(n, d["label"], pos[n][1], pos[n][0], size=min(size, 40), colour=colour,
                                 hover=f"{d['label']} · {g.degree(n)} partner regions · community {community.get(n, 0) + 1}"))
    fig = c.map_figure(points, links, height=560, labels=len(points) <= 60)
    if layout != "map":
        fig.data = tuple(t for t in fig.data if not (t.mode == "lines" and t.hoverinfo == "skip"))
        fig.update_layout(xaxis={"range": None, "autorange": True}, yaxis={"range": None, "autorange": True, "scaleanchor": None})
    missing = g.number_of_nodes() - len(points)
    if missing:
        st.caption(f"{missing} region(s) without coordinates are left off the map (switch to the graph layout to see them).")
    return fig


def _path_section_state(g: nx.Graph) -> list[str]:
    import networkx as nx

    a, b = c.param("from"), c.param("to")
    if a in g and b in g:
        try:
            return list(nx.shortest_path(g, a, b))
        except nx.NetworkXNoPath:
            return []
    return []


def _path_section(g: nx.Graph, path_nodes: list[str]) -> None:
    st.subheader("Shortest path between two regions")
    nodes = sorted(g.nodes, key=lambda n: g.nodes[n]["label"].lower())
    label = {n: g.nodes[n]["label"] for n in nodes}
    a0, b0 = c.param("from"), c.param("to")
    left, right = st.columns(2)
    def name(n: str) -> str:
        return label.get(n, n)

    a = left.selectbox("From", nodes, index=nodes.index(a0) if a0 in nodes else None, format_func=name, placeholder="Choose a region…", key="net_from")  # type: ignore[arg-type]
    b = right.selectbox("To", nodes, index=nodes.index(b0) if b0 in nodes else None, format_func=name, placeholder="Choose a region…", key="net_to")  # type: ignore[arg-type]
    if (a or "") != a0 or (b or "") != b0:
        c.set_params(**{"from": a, "to": b})
        st.rerun()
    if not (a and b):
        return
    hops = kv.shortest_path(g, a, b)
    if hops is None:
        st.warning(f"{label[a]} and {label[b]} are not connected in this network.")
        return
    if not hops:
        st.caption("Choose two different regions.")
        return
    st.markdown(f"**{len(hops)} step(s)** from {c.escape(label[a])} to {c.escape(label[b])}:")
    for x, y, projects in hops:
        st.markdown(f"- {c.escape(label[x])} → {c.escape(label[y])} via " + "; ".join(f"*{c.escape(p)}*" for p in projects.values()))


def _rankings(g: nx.Graph, groups: list[set[str]]) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Most connected regions")
        ranked = sorted(g.nodes, key=lambda n: (-g.degree(n), g.nodes[n]["label"]))[:15]
        st.dataframe(
            [{"region": g.nodes[n]["label"], "country": g.nodes[n].get("country", ""), "partner regions": g.degree(n),
              "shared projects": sum(d["weight"] for _, _, d in g.edges(n, data=True))} for n in ranked],
            hide_index=True,
        )
    with right:
        st.subheader("Communities")
        for i, grp in enumerate(groups[:8], start=1):
            names = sorted(g.nodes[n]["label"] for n in grp)
            st.markdown(f"**{i}.** " + ", ".join(c.escape(x) for x in names[:12]) + (" …" if len(names) > 12 else ""))
