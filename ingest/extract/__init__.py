"""Free text → :class:`~ingest.extract.model.Extraction`: every extractor, linked and merged.

:func:`extract_document` runs the region, instrument and organisation extractors, then the
project extractor (which links projects to the regions, organisations and instruments found)
and the practice extractor (which links practices to projects and regions). An extractor that
fails on odd text is logged with its name and skipped; the others still run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence

from ingest.document import Passage
from ingest.extract.model import Entity, Extraction

log = logging.getLogger(__name__)

#: (name, module, function) of the extractors that need nothing but the passages
BASE_EXTRACTORS: tuple[tuple[str, str, str], ...] = (
    ("regions", "ingest.extract.regions", "find_regions"),
    ("instruments", "ingest.extract.instruments", "find_instruments"),
    ("organisations", "ingest.extract.organisations", "find_organisations"),
)


def _load(module: str, function: str) -> Callable[..., list[Entity]] | None:
    try:
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        log.warning("extractor %s.%s is not available; skipping it", module, function)
        return None


def _run(name: str, func: Callable[..., list[Entity]] | None, *args: object,
         **kwargs: object) -> list[Entity]:
    """Run one extractor; on failure log a warning with its name and return nothing."""
    if func is None:
        return []
    try:
        return list(func(*args, **kwargs))
    except Exception:
        log.warning("extractor %r failed; continuing without it", name, exc_info=True)
        return []


def _places_only(regions: list[Entity], organisations: list[Entity], passages: list[Passage],
                 instruments: list[Entity] = (),  # type: ignore[assignment]
                 lang: str | None = None) -> list[Entity]:
    """Drop regions named only inside organisation or programme names ("Interreg
    Vlaanderen-Nederland" names no place); an organisation's rg:locatedIn stays."""
    try:
        from ingest.extract.regions import regions_outside_names

        names = [n for org in [*organisations, *instruments] for n in (org.label, *(a for a, _ in org.alt_labels))]
        return regions_outside_names(regions, names, passages, lang)
    except Exception:
        log.warning("region filter failed; keeping all regions", exc_info=True)
        return regions


def _projects_are_not_instruments(found: dict[str, list[Entity]], projects: list[Entity]) -> None:
    """A name the document calls a project is not also a (non-curated) instrument of it, and no
    project is funded by itself."""
    from ingest.extract.linking import fold
    from kg.namespaces import RG

    project_names = {fold(n) for p in projects if p.ref.kind == "Project"
                     for n in (p.label, *(a for a, _ in p.alt_labels))}
    dropped = {i.ref for i in found["instruments"] if i.ref.iri is None and fold(i.label) in project_names}
    found["instruments"] = [i for i in found["instruments"] if i.ref not in dropped]
    for project in projects:
        project.attributes = [(p, v) for p, v in project.attributes
                              if not (p == RG.fundedBy and (v in dropped or v == project.ref))]


def _projects_are_not_organisations(found: dict[str, list[Entity]], projects: list[Entity]) -> list[Entity]:
    """A name the document calls a project ("the Blue Growth Partnership", "the Nordic Network of
    Testbeds") is not also an organisation of it; links to such an organisation are dropped."""
    from ingest.extract.linking import fold

    project_names = {fold(n) for p in projects if p.ref.kind == "Project"
                     for n in (p.label, *(a for a, _ in p.alt_labels))}
    dropped = {o.ref for o in [*found["organisations"], *projects] if o.ref.kind == "Organisation"
               and {fold(n) for n in (o.label, *(a for a, _ in o.alt_labels))} & project_names}
    found["organisations"] = [o for o in found["organisations"] if o.ref not in dropped]
    for project in projects:
        project.attributes = [(p, v) for p, v in project.attributes if v not in dropped]
    return [p for p in projects if p.ref not in dropped]


def extract_document(passages: list[Passage], doc_lang: str) -> Extraction:
    """All entities of one document, linked (project → regions, partners, instruments,
    practices; practice → region) and merged by identity."""
    from ingest.extract.practices import find_practices
    from ingest.extract.projects import find_projects

    ordered: Sequence[Passage] = sorted(passages, key=lambda p: p.position)
    found: dict[str, list[Entity]] = {}
    for name, module, function in BASE_EXTRACTORS:
        # regions and instruments read inflected names in the document's language ("z Litwy")
        kwargs = {"lang": doc_lang} if name in ("regions", "instruments") else {}
        found[name] = _run(name, _load(module, function), list(ordered), **kwargs)
    found["regions"] = _places_only(found["regions"], found["organisations"], list(ordered),
                                    found["instruments"], doc_lang)
    # find_projects also returns the organisations a project page names that the
    # organisation extractor missed (a lead partner field, a partner list)
    projects = _run(
        "projects", find_projects, ordered, doc_lang,
        regions=found["regions"], organisations=found["organisations"],
        instruments=found["instruments"],
    )
    practices = _run(
        "practices", find_practices, ordered, doc_lang,
        projects=[e for e in projects if e.ref.kind == "Project"], regions=found["regions"],
    )
    _projects_are_not_instruments(found, projects)
    projects = _projects_are_not_organisations(found, projects)
    extraction = Extraction()
    for entities in (*found.values(), projects, practices):
        for entity in entities:
            extraction.upsert(entity)
    return extraction


__all__ = ["extract_document"]
