"""What extractors produce: entities with identity, labels, provenance and attributes.

Extractors never mint IRIs. They give each entity an :class:`EntityRef` (its kind and a
normalised key, or a fixed IRI when the entity is known, e.g. a NUTS region or a curated
instrument concept); ``kg.writer`` turns refs into IRIs, so the same key from any document
gives the same IRI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from rdflib import Literal, URIRef

KINDS = ("Region", "Project", "Instrument", "Organisation", "Practice")


@dataclass(frozen=True)
class EntityRef:
    """Identity of an entity: ``kind`` is one of :data:`KINDS`."""

    kind: str
    key: str  # normalised identity (e.g. "eis", "kent-county-council"); minted into an IRI
    iri: str | None = None  # fixed IRI when known (NUTS code IRI, curated concept)


Value = Union[Literal, EntityRef, URIRef]


@dataclass
class Entity:
    """One entity found in a document, with everything the document says about it."""

    ref: EntityRef
    label: str
    lang: str | None = None
    alt_labels: list[tuple[str, str | None]] = field(default_factory=list)
    passages: set[int] = field(default_factory=set)  # positions of passages that mention it
    confidence: float = 1.0
    # (predicate, value) pairs: e.g. (RG.countryCode, Literal("DK")),
    # (RG.partnerRegion, EntityRef("Region", "DK04", NUTS.DK04)), (DCTERMS.description, Literal(..., lang="en"))
    attributes: list[tuple[URIRef, Value]] = field(default_factory=list)

    def add(self, predicate: URIRef, value: Value) -> None:
        """Add an attribute once (duplicates are ignored)."""
        if (predicate, value) not in self.attributes:
            self.attributes.append((predicate, value))


@dataclass
class Extraction:
    """All entities extracted from one document (merged by ref)."""

    entities: dict[EntityRef, Entity] = field(default_factory=dict)

    def upsert(self, entity: Entity) -> Entity:
        """Add an entity or merge it into the one with the same ref."""
        have = self.entities.get(entity.ref)
        if have is None:
            self.entities[entity.ref] = entity
            return entity
        have.passages |= entity.passages
        have.confidence = max(have.confidence, entity.confidence)
        for alt in entity.alt_labels:
            if alt not in have.alt_labels and alt[0] != have.label:
                have.alt_labels.append(alt)
        for pred, val in entity.attributes:
            have.add(pred, val)
        return have
