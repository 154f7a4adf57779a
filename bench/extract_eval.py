"""Precision and recall of ``extract_document`` against a hand annotation, in one table.

Usage::

    .venv/bin/python bench/extract_eval.py                      # the five seeds
    .venv/bin/python bench/extract_eval.py tests/fixtures/unseen  # the unseen test texts
    .venv/bin/python bench/extract_eval.py DIR --gold GOLD.json -v  # -v: list misses and extras

Gold: ``tests/fixtures/gold_seeds.json`` for the seeds, ``DIR/gold.json`` for any other folder.
Rows: every entity type (matched by label, case- and accent-insensitive, alt labels count on
both sides), project partner regions and funding as (project, region/instrument) pairs, and
region links (pairs of regions that share a project, over all documents; a project named in
several documents is one project).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import sys
import time
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
SEED_GOLD = ROOT / "tests/fixtures/gold_seeds.json"

Labels = frozenset[str]


def read_passages(path: Path) -> list[Passage]:
    """The passages of a text file: the project's reader and splitter, else blank-line paragraphs."""
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


def _gold_labels(item: dict[str, Any]) -> Labels:
    return frozenset(fold(x) for x in {item.get("label") or "", *(item.get("alt_labels") or [])} if x)


def _entity_labels(entity: Entity) -> Labels:
    return frozenset({fold(entity.label), *(fold(a) for a, _ in entity.alt_labels), fold(entity.ref.key)})


def load_gold(path: Path) -> dict[str, dict[str, Any]]:
    """doc file name -> {"lang": ..., kind: [items]}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.get("documents", data).items() if not k.startswith("_")}


class Tally:
    """Counts for one row: (true predictions, predictions, found gold, gold)."""

    def __init__(self) -> None:
        self.tp_pred = self.n_pred = self.tp_gold = self.n_gold = 0

    def add(self, pred: list[Labels], gold: list[Labels]) -> tuple[list[Labels], list[Labels]]:
        """Score one document; returns (unmatched predictions, missed gold)."""
        extra = [p for p in pred if not any(p & g for g in gold)]
        missed = [g for g in gold if not any(p & g for p in pred)]
        self.tp_pred += len(pred) - len(extra)
        self.n_pred += len(pred)
        self.tp_gold += len(gold) - len(missed)
        self.n_gold += len(gold)
        return extra, missed

    def row(self, name: str) -> str:
        prec = self.tp_pred / self.n_pred if self.n_pred else 1.0
        rec = self.tp_gold / self.n_gold if self.n_gold else 1.0
        return (f"{name:<18}{prec:>10.2f}{rec:>8.2f}   "
                f"({self.tp_pred}/{self.n_pred}, {self.tp_gold}/{self.n_gold})")


Pair = tuple[Labels, Labels]


def _pair_hit(a: Pair, b: Pair) -> bool:
    return bool(a[0] & b[0]) and bool(a[1] & b[1])


class PairTally(Tally):
    def add_pairs(self, pred: list[Pair], gold: list[Pair]) -> tuple[list[Pair], list[Pair]]:
        extra = [p for p in pred if not any(_pair_hit(p, g) for g in gold)]
        missed = [g for g in gold if not any(_pair_hit(p, g) for p in pred)]
        self.tp_pred += len(pred) - len(extra)
        self.n_pred += len(pred)
        self.tp_gold += len(gold) - len(missed)
        self.n_gold += len(gold)
        return extra, missed


def _linked(ext: Extraction, predicate: Any) -> list[Pair]:
    labels = {ref: _entity_labels(e) for ref, e in ext.entities.items()}
    out: list[Pair] = []
    for entity in ext.entities.values():
        if entity.ref.kind != "Project":
            continue
        for pred, value in entity.attributes:
            if pred == predicate and isinstance(value, EntityRef):
                out.append((labels[entity.ref], labels.get(value) or frozenset({fold(value.key)})))
    return out


def _gold_linked(items: list[dict[str, Any]], field: str) -> list[Pair]:
    return [(_gold_labels(p), frozenset({fold(x)})) for p in items for x in p.get(field) or []]


def _merge_projects(projects: list[tuple[Labels, set[Labels]]]) -> list[set[Labels]]:
    """Regions per project, projects with a shared label merged (across documents)."""
    merged: list[tuple[set[str], set[Labels]]] = []
    for labels, regions in projects:
        for have in merged:
            if have[0] & labels:
                have[0].update(labels)
                have[1].update(regions)
                break
        else:
            merged.append((set(labels), set(regions)))
    return [regions for _, regions in merged]


def _links(per_project: list[set[Labels]]) -> list[Pair]:
    pairs: set[frozenset[Labels]] = set()
    for regions in per_project:
        for a, b in itertools.combinations(sorted(regions, key=sorted), 2):
            if a != b:
                pairs.add(frozenset((a, b)))
    return [tuple(p) for p in pairs if len(p) == 2]  # type: ignore[misc]


def _link_hit(a: Pair, b: Pair) -> bool:
    return _pair_hit(a, b) or _pair_hit(a, (b[1], b[0]))


def _show(items: list[Labels] | list[Pair]) -> list[str]:
    def one(x: Any) -> str:
        if isinstance(x, tuple):
            return f"{one(x[0])}->{one(x[1])}"
        return min(x, key=len) if x else "?"
    return [one(x) for x in items]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=SEEDS)
    parser.add_argument("--gold", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv[1:])
    logging.basicConfig(level=logging.ERROR)
    gold_path = args.gold or (SEED_GOLD if args.folder == SEEDS else args.folder / "gold.json")
    gold = load_gold(gold_path)
    tallies: dict[str, Tally] = {kind: Tally() for kind in KINDS}
    pairs = {"partnerRegion": PairTally(), "fundedBy": PairTally()}
    pred_projects: list[tuple[Labels, set[EntityRef]]] = []
    region_labels: dict[EntityRef, set[str]] = defaultdict(set)
    gold_projects: list[tuple[Labels, set[Labels]]] = []
    seconds = 0.0
    for name, doc_gold in sorted(gold.items()):
        path = args.folder / name
        if not path.exists():
            print(f"  {name}: not found in {args.folder}, skipped")
            continue
        passages = read_passages(path)
        start = time.perf_counter()
        ext = extract_document(passages, str(doc_gold.get("lang") or "en"))
        seconds += time.perf_counter() - start
        for kind in KINDS:
            pred = [_entity_labels(e) for e in ext.entities.values() if e.ref.kind == kind]
            extra, missed = tallies[kind].add(pred, [_gold_labels(g) for g in doc_gold.get(kind, [])])
            if args.verbose and (extra or missed):
                print(f"  {name} {kind}: missed={_show(missed)} extra={_show(extra)}")
        gold_items = doc_gold.get("Project", [])
        for key, predicate, field in (("partnerRegion", RG.partnerRegion, "partner_regions"),
                                      ("fundedBy", RG.fundedBy, "funded_by")):
            extra_p, missed_p = pairs[key].add_pairs(_linked(ext, predicate), _gold_linked(gold_items, field))
            if args.verbose and (extra_p or missed_p):
                print(f"  {name} {key}: missed={_show(missed_p)} extra={_show(extra_p)}")
        for entity in ext.entities.values():
            if entity.ref.kind == "Region":
                region_labels[entity.ref] |= _entity_labels(entity)
            if entity.ref.kind == "Project":
                refs = {v for p, v in entity.attributes if p == RG.partnerRegion and isinstance(v, EntityRef)}
                pred_projects.append((_entity_labels(entity), refs))
        for item in gold_items:
            gold_projects.append((_gold_labels(item), {frozenset({fold(r)}) for r in item.get("partner_regions") or []}))
    links = PairTally()
    as_labels = [(labels, {frozenset(region_labels.get(r) or {fold(r.key)}) for r in refs})
                 for labels, refs in pred_projects]
    pred_links = _links(_merge_projects(as_labels))
    gold_links = _links(_merge_projects(gold_projects))
    extra_l = [p for p in pred_links if not any(_link_hit(p, g) for g in gold_links)]
    missed_l = [g for g in gold_links if not any(_link_hit(p, g) for p in pred_links)]
    links.tp_pred, links.n_pred = len(pred_links) - len(extra_l), len(pred_links)
    links.tp_gold, links.n_gold = len(gold_links) - len(missed_l), len(gold_links)
    if args.verbose and (extra_l or missed_l):
        print(f"  region links: missed={_show(missed_l)} extra={_show(extra_l)}")
    print(f"{'row':<18}{'precision':>10}{'recall':>8}   (pred ok/pred, gold found/gold)")
    for kind in KINDS:
        print(tallies[kind].row(kind))
    for key, tally in pairs.items():
        print(tally.row(f"project {key}"))
    print(links.row("region links"))
    print(f"extraction time: {seconds:.1f} s for {len(gold)} documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
