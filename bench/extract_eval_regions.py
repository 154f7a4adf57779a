"""Precision/recall of the region, instrument and organisation extractors on the annotated seeds.

Usage: .venv/bin/python bench/extract_eval_regions.py  (skips seeds that are not present)
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest.document import Passage
from ingest.extract.instruments import find_instruments
from ingest.extract.organisations import find_organisations
from ingest.extract.regions import find_regions
from ingest.extract.text_utils import name_key

GOLD = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "gold_seeds_regions_orgs_instruments.json"
SEEDS = Path("/work/shared/corpus/seeds")


def passages(text: str) -> list[Passage]:
    out, pos = [], 0
    for i, chunk in enumerate(text.split("\n\n")):
        out.append(Passage("seed", i, pos, pos + len(chunk), chunk))
        pos += len(chunk) + 2
    return out


def predicted(kind: str, ps: list[Passage]) -> set[str]:
    if kind == "Region":
        return {e.ref.key for e in find_regions(ps)}
    if kind == "Instrument":
        return {e.ref.key for e in find_instruments(ps)}
    return {name_key(e.label) for e in find_organisations(ps)}


def main() -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    totals: dict[str, list[int]] = {}
    for name, per_kind in gold.items():
        path = SEEDS / name
        if name.startswith("_") or not path.exists():
            continue
        ps = passages(path.read_text(encoding="utf-8"))
        for kind, labels in per_kind.items():
            want = set(labels) if kind != "Organisation" else {name_key(x) for x in labels}
            got = predicted(kind, ps)
            tp = len(want & got)
            t = totals.setdefault(kind, [0, 0, 0])
            t[0] += tp
            t[1] += len(got)
            t[2] += len(want)
            print(f"{name} {kind}: missed={sorted(want - got)} extra={sorted(got - want)}")
    for kind, (tp, npred, ngold) in totals.items():
        p = tp / npred if npred else 1.0
        r = tp / ngold if ngold else 1.0
        print(f"{kind:13s} precision={p:.2f} recall={r:.2f} (tp={tp}, predicted={npred}, gold={ngold})")


if __name__ == "__main__":
    main()
