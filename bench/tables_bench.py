"""Read every list of operations in the shared corpus and print a per-file summary with timings.

    .venv/bin/python bench/tables_bench.py [CORPUS_DIR]

The table goes into docs/operations.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.tables import read_operations  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "corpus" / "eu-operations"


def main(corpus: Path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".json", ".xlsx"))
    print("| file | rows | projects | organisations | regions resolved % | amounts parsed % | currency | "
          "languages | skipped | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    total = 0.0
    for path in files:
        t0 = time.perf_counter()
        table = read_operations(path)
        secs = time.perf_counter() - t0
        total += secs
        s = table.summary
        langs = ", ".join(f"{k} {v}" for k, v in list(s.languages.items())[:3])
        print(f"| {path.parent.name}/{path.name} | {s.rows_read} | {s.projects} | {s.organisations} | "
              f"{'–' if s.regions_resolved_pct is None else s.regions_resolved_pct} | "
              f"{'–' if s.amounts_parsed_pct is None else s.amounts_parsed_pct} | {s.currency or '?'} | {langs} | "
              f"{len(s.skipped)} | {secs:.2f} |")
    print(f"\ntotal {total:.1f} s for {len(files)} files (first file includes loading the gazetteer and lingua)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
