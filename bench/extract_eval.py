"""Precision and recall of ``extract_document`` on the seed documents, per entity type and for
region links (pairs of regions sharing a project).

Usage: ``.venv/bin/python bench/extract_eval.py [SEEDS_DIR]`` (default: the shared seeds).
Gold: ``tests/fixtures/gold_seeds_projects_practices.json`` and, when present,
``tests/fixtures/gold_seeds_regions_orgs_instruments.json``. Entities match by label
(case- and accent-insensitive; alt labels count on both sides).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.document import Block, Passage, ReadDocument  # noqa: E402
from ingest.extract import extract_document  # noqa: E402
from ingest.extract.linking import fold  # noqa: E402
from ingest.extract.model import KINDS, Entity, EntityRef, Extraction  # noqa: E402
from kg.namespaces import RG  # noqa: E402

SEEDS = Path("/work/shared/corpus/seeds")
GOLD_FILES = (
    ROOT / "tests/fixtures/gold_seeds_projects_practices.json",
    ROOT / "tests/fixtures/gold_seeds_regions_orgs_instruments.json",
)
_KIND_ALIASES = {fold(k): k for k in KINDS} | {
    "regions": "Region", "projects": "Project", "instruments": "Instrument",
    "organisations": "Organisation", "organizations": "Organisation", "practices": "Practice",
    "organization": "Organisation",
}


def read_passages(path: Path) -> list[Passage]:
    """The passages of a seed: the project's reader and splitter, else blank-line paragraphs."""
    try:
        from ingest.passages import split_passages
        from ingest.readers import read_document

        return split_passages(read_document(path))
    except ImportError:
        text = path.read_text(encoding="utf-8")
        doc = ReadDocument(path.name, str(path), path.stem, "text/plain", text, (Block(0, len(text)),))
        passages: list[Passage] = []
        for m in re.finditer(r"\S(?:.|\n(?!\s*\n))*", text):
            passages.append(Passage(doc.doc_id, len(passages), m.start(), m.end(), m.group(0)))
        return passages


def _labels(item: dict[str, Any]) -> set[str]:
    labels = {item.get("label") or "", *(item.get("alt_labels") or [])}
    return {fold(x) for x in labels if x}


def load_gold() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """doc file name -> kind -> gold items (dicts with at least ``label``)."""
    gold: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for path in GOLD_FILES:
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        docs = data.get("documents", data)
        for doc, body in docs.items():
            if not isinstance(body, dict):
                continue
            for key, items in body.items():
                kind = _KIND_ALIASES.get(fold(key))
                if kind is None and key == "entities" and isinstance(items, list):
                    for item in items:
                        k = _KIND_ALIASES.get(fold(str(item.get("kind") or item.get("type"))))
                        if k:
                            gold[doc][k].append(item)
                elif kind is not None and isinstance(items, list):
                    gold[doc][kind].extend(i for i in items if isinstance(i, dict) and "label" in i)
    return gold


def _entity_labels(entity: Entity) -> set[str]:
    return {fold(entity.label), *(fold(a) for a, _ in entity.alt_labels), fold(entity.ref.key)}


def score(pred: list[set[str]], gold: list[set[str]]) -> tuple[int, int, int, int]:
    """(true predictions, predictions, found gold, gold) by label overlap."""
    tp_pred = sum(1 for p in pred if any(p & g for g in gold))
    tp_gold = sum(1 for g in gold if any(p & g for p in pred))
    return tp_pred, len(pred), tp_gold, len(gold)


def region_links(extractions: list[Extraction]) -> set[frozenset[frozenset[str]]]:
    """Pairs of regions (each as its label set) that share a project, over all documents."""
    region_labels: dict[EntityRef, set[str]] = defaultdict(set)
    project_regions: dict[EntityRef, set[EntityRef]] = defaultdict(set)
    for ext in extractions:
        for entity in ext.entities.values():
            if entity.ref.kind == "Region":
                region_labels[entity.ref] |= _entity_labels(entity)
            elif entity.ref.kind == "Project":
                for pred, value in entity.attributes:
                    if pred == RG.partnerRegion and isinstance(value, EntityRef):
                        project_regions[entity.ref].add(value)
    pairs: set[frozenset[frozenset[str]]] = set()
    for regions in project_regions.values():
        for a, b in itertools.combinations(sorted(regions, key=str), 2):
            la = frozenset(region_labels.get(a) or {fold(a.key)})
            lb = frozenset(region_labels.get(b) or {fold(b.key)})
            pairs.add(frozenset((la, lb)))
    return pairs


def gold_region_links(gold: dict[str, dict[str, list[dict[str, Any]]]]) -> list[tuple[str, str]]:
    merged: list[tuple[set[str], set[str]]] = []  # (project labels, region labels)
    for kinds in gold.values():
        for project in kinds.get("Project", []):
            labels = _labels(project)
            regions = {fold(r) for r in project.get("partner_regions") or []}
            for have in merged:
                if have[0] & labels:
                    have[0].update(labels)
                    have[1].update(regions)
                    break
            else:
                merged.append((labels, regions))
    pairs = {tuple(sorted(p)) for _, regions in merged for p in itertools.combinations(regions, 2)}
    return sorted((a, b) for a, b in pairs)


def _pair_matches(pred: frozenset[frozenset[str]], gold: tuple[str, str]) -> bool:
    ends = list(pred)
    if len(ends) != 2:
        return False
    a, b = ends
    return (gold[0] in a and gold[1] in b) or (gold[0] in b and gold[1] in a)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.ERROR)
    seeds = Path(argv[1]) if len(argv) > 1 else SEEDS
    gold = load_gold()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    extractions: list[Extraction] = []
    for path in sorted(seeds.glob("*.txt")):
        doc_gold = gold.get(path.name, {})
        lang = str(doc_gold["lang"]) if isinstance(doc_gold.get("lang"), str) else "en"
        ext = extract_document(read_passages(path), lang)
        extractions.append(ext)
        for kind in KINDS:
            gold_items = doc_gold.get(kind, []) if isinstance(doc_gold, dict) else []
            if not gold_items:
                continue  # a type this gold file does not annotate for this document
            pred = [_entity_labels(e) for e in ext.entities.values() if e.ref.kind == kind]
            result = score(pred, [_labels(g) for g in gold_items])
            for i, v in enumerate(result):
                totals[kind][i] += v
            missed = [g["label"] for g in gold_items
                      if not any(p & _labels(g) for p in pred)]
            if missed:
                print(f"  {path.name} {kind} missed: {missed}")
    print(f"{'type':<14}{'precision':>10}{'recall':>8}   (pred ok/pred, gold found/gold)")
    for kind, (tp_p, n_p, tp_g, n_g) in sorted(totals.items()):
        prec = tp_p / n_p if n_p else 0.0
        rec = tp_g / n_g if n_g else 0.0
        print(f"{kind:<14}{prec:>10.2f}{rec:>8.2f}   ({tp_p}/{n_p}, {tp_g}/{n_g})")
    pred_links = region_links(extractions)
    gold_links = gold_region_links(gold)
    tp_p = sum(1 for p in pred_links if any(_pair_matches(p, g) for g in gold_links))
    tp_g = sum(1 for g in gold_links if any(_pair_matches(p, g) for p in pred_links))
    prec = tp_p / len(pred_links) if pred_links else 0.0
    rec = tp_g / len(gold_links) if gold_links else 0.0
    print(f"{'region links':<14}{prec:>10.2f}{rec:>8.2f}   "
          f"({tp_p}/{len(pred_links)}, {tp_g}/{len(gold_links)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
