"""The region network: regions linked by the projects they share (networkx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdflib import Literal, URIRef

from kg.queries import RegionPair, region_pairs
from kg.store import GraphStore
from regiograph.errors import RegiographError

if TYPE_CHECKING:
    import networkx as nx


def region_network(store: GraphStore) -> nx.Graph:
    """Undirected graph: nodes are regions (label, country, nuts), edges carry shared projects.

    Edge attributes: ``weight`` (number of shared projects) and ``projects`` (IRI → label).
    """
    import networkx as nx

    g = nx.Graph()
    rows = store.select(
        """SELECT ?r (SAMPLE(?l) AS ?label) (SAMPLE(?cc) AS ?country) (SAMPLE(?n) AS ?nuts) WHERE {
             ?r a rg:Region .
             OPTIONAL { ?r skos:prefLabel ?l }
             OPTIONAL { ?r rg:countryCode ?cc }
             OPTIONAL { ?r rg:nutsCode ?n }
             FILTER EXISTS { ?p rg:partnerRegion ?r }
           } GROUP BY ?r"""
    )
    for r in rows:
        g.add_node(str(r["r"]), label=str(r["label"] or r["r"]), country=str(r["country"] or ""), nuts=str(r["nuts"] or ""))
    for pair in _region_pairs(store):
        g.add_edge(pair.region_a, pair.region_b, weight=pair.shared_projects, projects=dict.fromkeys(pair.projects, ""), instruments=set())
    projects: dict[str, tuple[str, set[str]]] = {}
    for r in store.select(
        """SELECT ?p (SAMPLE(?pl) AS ?plabel) (GROUP_CONCAT(DISTINCT ?inst; separator=" ") AS ?insts) WHERE {
             { SELECT DISTINCT ?p WHERE { ?p rg:partnerRegion ?r } }
             OPTIONAL { ?p skos:prefLabel ?pl }
             OPTIONAL { ?p rg:fundedBy ?inst }
           } GROUP BY ?p"""
    ):
        projects[str(r["p"])] = (str(r["plabel"] or r["p"]), set(str(r["insts"] or "").split()))
    for _, _, edge in g.edges(data=True):
        for iri in edge["projects"]:
            label, instruments = projects.get(iri, (iri, set()))
            edge["projects"][iri] = label
            edge["instruments"] |= instruments
    return g


def _region_pairs(store: GraphStore) -> list[RegionPair]:
    """The region pairs the ingest derived (``rg:Cooperation``), or, in a graph derived before
    they existed, the pairs computed from the projects' partner regions."""
    rows = store.select(
        """SELECT ?a ?b ?p WHERE {
             ?pair a rg:Cooperation ; rg:region ?a, ?b ; rg:viaProject ?p . FILTER(STR(?a) < STR(?b))
           }"""
    )
    if rows:
        shared: dict[tuple[str, str], set[str]] = {}
        for r in rows:
            shared.setdefault((str(r["a"]), str(r["b"])), set()).add(str(r["p"]))
        return [RegionPair(a, b, tuple(sorted(ps))) for (a, b), ps in sorted(shared.items())]
    rows = store.select("SELECT DISTINCT ?p ?r WHERE { ?p a rg:Project ; rg:partnerRegion ?r }")
    return region_pairs((str(r["p"]), str(r["r"])) for r in rows)


def find_region(store: GraphStore, name: str) -> str:
    """The IRI of a region named by IRI, NUTS code, or a label in any language."""
    text = name.strip()
    if not text:
        raise RegiographError("give a region name, NUTS code or IRI")
    if text.startswith(("http://", "https://")):
        return text
    rows = store.select(
        """SELECT ?r (COUNT(?x) AS ?n) WHERE {
             ?r a rg:Region .
             { ?r rg:nutsCode ?code FILTER(UCASE(?code) = UCASE(?q)) }
             UNION { ?r skos:prefLabel|skos:altLabel ?lab FILTER(LCASE(STR(?lab)) = LCASE(?q)) }
             OPTIONAL { ?x rg:partnerRegion|rg:locatedIn ?r }
           } GROUP BY ?r ORDER BY DESC(?n)""",
        {"q": Literal(text)},
    )
    if rows:
        return str(rows[0]["r"])
    try:
        from ingest.extract.gazetteer import resolve_region
        from kg.writer import entity_iri

        ref = resolve_region(text)
        if ref is not None:
            return str(entity_iri(ref))
    except ImportError:
        pass
    raise RegiographError(f"no region called {name!r} in the graph; try a NUTS code or another spelling")


@dataclass
class RegionProfile:
    iri: str
    label: str
    nuts: str = ""
    country: str = ""
    labels: list[tuple[str, str]] = field(default_factory=list)
    partners: list[dict[str, object]] = field(default_factory=list)  # iri, label, weight, projects
    projects: list[dict[str, str]] = field(default_factory=list)
    practices: list[dict[str, str]] = field(default_factory=list)
    organisations: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))

    def render(self) -> str:
        lines = [f"{self.label}  <{self.iri}>" + (f"  NUTS {self.nuts}" if self.nuts else "") + (f"  {self.country}" if self.country else "")]
        other = sorted({f"{t} ({lang})" for t, lang in self.labels if t != self.label})
        if other:
            lines.append("  also: " + "; ".join(other))
        lines.append(f"\npartner regions ({len(self.partners)}):")
        for p in self.partners:
            projects = ", ".join(p["projects"].values())  # type: ignore[attr-defined]
            lines.append(f"  {p['label']:<34} {p['weight']} shared project(s): {projects}")
        lines.append(f"\nprojects ({len(self.projects)}):")
        lines += [f"  {p['label']}" for p in self.projects]
        lines.append(f"\npractices ({len(self.practices)}):")
        lines += [f"  {p['label']}" + (f"  [{p['type']}]" if p.get("type") else "") for p in self.practices]
        if self.organisations:
            lines.append(f"\norganisations ({len(self.organisations)}):")
            lines += [f"  {o['label']}" for o in self.organisations]
        return "\n".join(lines)


def _label_rows(store: GraphStore, query: str, region: str) -> list[dict[str, str]]:
    rows = store.select(query, {"r": URIRef(region)})
    return [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in rows]


def region_profile(store: GraphStore, name: str) -> RegionProfile:
    """Everything the graph knows about one region, with its partners ranked by shared projects."""
    iri = find_region(store, name)
    info = store.select(
        "SELECT ?l ?n ?c WHERE { OPTIONAL { ?r skos:prefLabel|skos:altLabel ?l } OPTIONAL { ?r rg:nutsCode ?n } OPTIONAL { ?r rg:countryCode ?c } }",
        {"r": URIRef(iri)},
    )
    labels = sorted({(str(r["l"]), r["l"].language or "") for r in info if isinstance(r["l"], Literal)})
    pref = next((t for t, lang in labels if lang == "en"), labels[0][0] if labels else iri.rsplit("/", 1)[-1])
    profile = RegionProfile(
        iri=iri,
        label=pref,
        nuts=next((str(r["n"]) for r in info if r["n"] is not None), ""),
        country=next((str(r["c"]) for r in info if r["c"] is not None), ""),
        labels=labels,
    )
    net = region_network(store)
    if iri in net:
        partners = []
        for other in net.neighbors(iri):
            edge = net.edges[iri, other]
            partners.append({"iri": other, "label": net.nodes[other]["label"], "weight": edge["weight"], "projects": edge["projects"]})
        profile.partners = sorted(partners, key=lambda p: (-int(p["weight"]), str(p["label"])))  # type: ignore[call-overload]
    profile.projects = _label_rows(
        store,
        """SELECT DISTINCT ?iri (SAMPLE(?l) AS ?label) WHERE {
             { ?iri rg:partnerRegion ?r } UNION { ?iri a rg:Project ; rg:locatedIn ?r }
             OPTIONAL { ?iri skos:prefLabel ?l } } GROUP BY ?iri ORDER BY ?label LIMIT 500""",
        iri,
    )
    profile.practices = _label_rows(
        store,
        """SELECT DISTINCT ?iri (SAMPLE(?l) AS ?label) (SAMPLE(?tl) AS ?type) WHERE {
             ?iri a rg:Practice .
             { ?iri rg:locatedIn ?r } UNION { ?proj rg:partnerRegion ?r ; rg:hasPractice ?iri }
             OPTIONAL { ?iri skos:prefLabel ?l }
             OPTIONAL { ?iri rg:practiceType/skos:prefLabel ?tl FILTER(LANG(?tl) = "en") }
           } GROUP BY ?iri ORDER BY ?label LIMIT 500""",
        iri,
    )
    profile.organisations = _label_rows(
        store,
        """SELECT DISTINCT ?iri (SAMPLE(?l) AS ?label) WHERE {
             ?iri a rg:Organisation ; rg:locatedIn ?r . OPTIONAL { ?iri skos:prefLabel ?l }
           } GROUP BY ?iri ORDER BY ?label LIMIT 500""",
        iri,
    )
    return profile
