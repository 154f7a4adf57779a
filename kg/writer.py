"""Records → triples in a document's named graph. IRIs are minted here and only here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef

from ingest.document import Passage, ReadDocument
from ingest.extract.model import Entity, EntityRef, Extraction
from kg.namespaces import (
    DCTERMS,
    DERIVED_GRAPH,
    EURIO,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    RG,
    RGID,
    SKOS,
    XSD,
)

if TYPE_CHECKING:
    from kg.queries import RegionPair

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"

#: Classes of each entity kind, with their alignments (as the contract lists them).
KIND_TYPES: dict[str, tuple[URIRef, ...]] = {
    "Region": (RG.Region,),
    "Project": (RG.Project,),
    "Instrument": (RG.Instrument, SKOS.Concept),
    "Organisation": (RG.Organisation,),
    "Practice": (RG.Practice,),
}
KIND_PATHS = {"Region": "region", "Project": "project", "Instrument": "instrument", "Organisation": "organisation", "Practice": "practice"}


def slug(text: str, max_len: int = 80) -> str:
    """A readable, stable IRI segment: ASCII-folded, lower-case, dash-separated."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    cleaned = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if not cleaned:
        import hashlib

        cleaned = "x" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return cleaned[:max_len].rstrip("-")


def entity_iri(ref: EntityRef, base: str = str(RGID)) -> URIRef:
    """The IRI of an entity: its fixed IRI if known, else ``<base><kind>/<slug(key)>``."""
    if ref.iri:
        return URIRef(ref.iri)
    return URIRef(f"{base}{KIND_PATHS.get(ref.kind, ref.kind.lower())}/{slug(ref.key)}")


def document_iri(doc_id: str, base: str = str(RGID)) -> URIRef:
    return URIRef(f"{base}document/{doc_id}")


def passage_iri(doc_id: str, position: int, base: str = str(RGID)) -> URIRef:
    return URIRef(f"{base}passage/{doc_id}-{position}")


def graph_iri(doc_id: str, base: str = str(RGID)) -> URIRef:
    return URIRef(f"{base}graph/{doc_id}")


def document_graph(
    doc: ReadDocument,
    passages: list[Passage],
    extraction: Extraction,
    doc_lang: str,
    base: str = str(RGID),
) -> tuple[URIRef, Graph]:
    """The named graph of one document: the document, its passages, and what was extracted."""
    g = Graph()
    doc_node = document_iri(doc.doc_id, base)
    gname = graph_iri(doc.doc_id, base)
    g.add((gname, PROV.wasDerivedFrom, doc_node))
    g.add((doc_node, RDF.type, RG.Document))
    g.add((doc_node, RDF.type, FOAF.Document))
    g.add((doc_node, DCTERMS.source, Literal(doc.source)))
    g.add((doc_node, DCTERMS.title, Literal(doc.title or doc.source)))
    g.add((doc_node, DCTERMS.language, Literal(doc_lang)))
    g.add((doc_node, DCTERMS["format"], Literal(doc.media_type)))
    g.add((doc_node, RG.contentHash, Literal(doc.content_hash)))
    g.add((doc_node, RG.sourcePath, Literal(str(Path(doc.path).resolve()) if doc.path else doc.source)))
    g.add((doc_node, RG.passageCount, Literal(len(passages), datatype=XSD.integer)))
    for p in passages:
        node = passage_iri(doc.doc_id, p.position, base)
        g.add((node, RDF.type, RG.Passage))
        g.add((node, DCTERMS.isPartOf, doc_node))
        g.add((node, RG.text, Literal(p.text, lang=p.lang if p.lang != "und" else None)))
        g.add((node, DCTERMS.language, Literal(p.lang)))
        g.add((node, RG.position, Literal(p.position, datatype=XSD.integer)))
        g.add((node, RG.startOffset, Literal(p.start, datatype=XSD.integer)))
        g.add((node, RG.endOffset, Literal(p.end, datatype=XSD.integer)))
        if p.page is not None:
            g.add((node, RG.page, Literal(p.page, datatype=XSD.integer)))
        if p.heading:
            g.add((node, RG.heading, Literal(p.heading)))
        if "row" in p.extra:
            g.add((node, RG.row, Literal(int(p.extra["row"]), datatype=XSD.integer)))
    for entity in extraction.entities.values():
        _write_entity(g, entity, doc.doc_id, base)
    written = set(extraction.entities)
    for entity in extraction.entities.values():
        for _, value in entity.attributes:
            if isinstance(value, EntityRef) and value not in written:
                _describe_ref(g, value, base)
                written.add(value)
    return gname, g


def _gazetteer_label(ref: EntityRef, mention: str) -> str | None:
    """The gazetteer's name of a NUTS region when the mention is another place inside it
    (a city, a county), else None (the mention is one of the region's own names)."""
    if ref.kind != "Region" or not ref.iri:
        return None
    try:
        from ingest.extract.gazetteer import region_info

        info = region_info(ref)
    except (ImportError, KeyError):
        return None
    names = {info.pref_label.casefold()} | {text.casefold() for text, _ in info.labels}
    return None if mention.casefold() in names else (info.pref_label or None)


def _describe_ref(g: Graph, ref: EntityRef, base: str) -> None:
    """Type and label an entity that is only referred to (e.g. the region an organisation's
    name places it in), so every node of a contract class has a prefLabel."""
    node = entity_iri(ref, base)
    for cls in KIND_TYPES.get(ref.kind, ()):
        g.add((node, RDF.type, cls))
    label, lang = ref.key, None
    if ref.kind == "Region":
        try:
            from ingest.extract.gazetteer import region_info

            info = region_info(ref)
        except (ImportError, KeyError):
            info = None
        if info is not None:
            label, lang = info.pref_label, None
            if info.nuts_code:
                g.add((node, RG.nutsCode, Literal(info.nuts_code)))
            if info.country_code:
                g.add((node, RG.countryCode, Literal(info.country_code)))
    elif ref.kind == "Instrument":
        g.add((node, SKOS.inScheme, RG.InstrumentScheme))
    g.add((node, SKOS.prefLabel, Literal(label, lang=lang)))


def _write_entity(g: Graph, entity: Entity, doc_id: str, base: str) -> None:
    node = entity_iri(entity.ref, base)
    for cls in KIND_TYPES.get(entity.ref.kind, ()):
        g.add((node, RDF.type, cls))
    if entity.ref.kind == "Instrument":
        g.add((node, SKOS.inScheme, RG.InstrumentScheme))
    label, label_lang = entity.label.strip() or entity.ref.key, entity.lang or None
    alt_labels = list(entity.alt_labels)
    official = _gazetteer_label(entity.ref, label)
    if official is not None and official != label:
        # A region is named by the gazetteer, not by whatever mention found it ("Aarhus" → DK04).
        alt_labels.append((label, label_lang))
        label, label_lang = official, None
    g.add((node, SKOS.prefLabel, Literal(label, lang=label_lang)))
    for alt, lang in alt_labels:
        if alt.strip() and alt.strip() != label:
            g.add((node, SKOS.altLabel, Literal(alt.strip(), lang=lang or None)))
    for position in sorted(entity.passages):
        g.add((node, RG.mentionedIn, passage_iri(doc_id, position, base)))
    g.add((node, RG.confidence, Literal(round(float(entity.confidence), 3), datatype=XSD.decimal)))
    for predicate, value in entity.attributes:
        if isinstance(value, EntityRef):
            target = entity_iri(value, base)
            g.add((node, predicate, target))
            if predicate == RG.leadPartner:
                g.add((node, RG.partner, target))
        else:
            g.add((node, predicate, value))


def ontology_graph() -> Graph:
    """The vocabulary, the SKOS schemes and the shapes-free ontology data from ``ontology/``."""
    g = Graph()
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")) + sorted((ONTOLOGY_DIR / "schemes").glob("*.ttl")):
        if path.name == "shapes.ttl":
            continue
        g.parse(path, format="turtle")
    return g


def ontology_files() -> list[Path]:
    files = sorted(ONTOLOGY_DIR.glob("*.ttl")) + sorted((ONTOLOGY_DIR / "schemes").glob("*.ttl"))
    return [p for p in files if p.name != "shapes.ttl"]


def to_ntriples(graph: Graph) -> str:
    """N-Triples text of a graph (what the store loads in one transaction)."""
    return graph.serialize(format="nt")


def cooperation_iri(region_a: str, region_b: str, base: str = str(RGID)) -> URIRef:
    """The IRI of the cooperation between two regions: the same whichever order they are given."""
    import hashlib

    first, second = sorted((region_a, region_b))
    return URIRef(f"{base}cooperation/{hashlib.sha1(f'{first} {second}'.encode()).hexdigest()[:16]}")


def _nt_string(text: str) -> str:
    """An N-Triples plain literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def tally_iri(practice_type: str, country: str | None, base: str = str(RGID)) -> URIRef:
    """The IRI of the tally of one practice type in one country (or with no country)."""
    import hashlib

    key = f"{practice_type} {country or '-'}"
    return URIRef(f"{base}tally/{hashlib.sha1(key.encode()).hexdigest()[:16]}")


def derived_ntriples(
    pairs: Iterable[RegionPair],
    practice_countries: Mapping[str, Iterable[str]],
    base: str = str(RGID),
    tallies: Mapping[tuple[str, str | None], int] | None = None,
) -> Iterator[str]:
    """N-Triples lines of the derived graph (``DERIVED_GRAPH``).

    For each region pair: ``rg:cooperatesWith`` both ways, and an ``rg:Cooperation`` node with
    its two ``rg:region``s, ``rg:sharedProjects`` and one ``rg:viaProject`` per shared project.
    For each practice: one ``rg:practiceCountry`` per country of its regions. For each practice
    type and country: an ``rg:PracticeTally`` with ``rg:tallyType``, ``rg:tallyCountry`` (none
    for the practices without a country) and ``rg:practiceCount``. Written as text, not through
    rdflib, because a large graph has millions of pairs.
    """
    graph, rg = f"<{DERIVED_GRAPH}>", str(RG)
    yield f"{graph} <{RDF.type}> <{PROV.Entity}> .\n"
    yield f'{graph} <{RDFS.comment}> "Derived: regions that share projects, the countries of practices, and practices counted by type and country."@en .\n'
    for pair in pairs:
        a, b = f"<{pair.region_a}>", f"<{pair.region_b}>"
        if a == b:
            continue
        node = f"<{cooperation_iri(pair.region_a, pair.region_b, base)}>"
        yield f"{a} <{rg}cooperatesWith> {b} .\n{b} <{rg}cooperatesWith> {a} .\n"
        yield f"{node} <{RDF.type}> <{rg}Cooperation> .\n{node} <{rg}region> {a} .\n{node} <{rg}region> {b} .\n"
        yield f'{node} <{rg}sharedProjects> "{len(pair.projects)}"^^<{XSD.integer}> .\n'
        for project in pair.projects:
            yield f"{node} <{rg}viaProject> <{project}> .\n"
    for practice, countries in practice_countries.items():
        for code in countries:
            yield f"<{practice}> <{rg}practiceCountry> {_nt_string(code)} .\n"
    for (practice_type, country), count in (tallies or {}).items():
        node = f"<{tally_iri(practice_type, country, base)}>"
        yield f"{node} <{RDF.type}> <{rg}PracticeTally> .\n{node} <{rg}tallyType> <{practice_type}> .\n"
        if country is not None:
            yield f"{node} <{rg}tallyCountry> {_nt_string(country)} .\n"
        yield f'{node} <{rg}practiceCount> "{count}"^^<{XSD.integer}> .\n'


__all__ = [
    "EURIO",
    "KIND_TYPES",
    "ORG",
    "OWL",
    "cooperation_iri",
    "derived_ntriples",
    "document_graph",
    "document_iri",
    "entity_iri",
    "graph_iri",
    "ontology_graph",
    "passage_iri",
    "slug",
    "tally_iri",
    "to_ntriples",
]
