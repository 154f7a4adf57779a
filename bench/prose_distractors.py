"""Distractor documents of real prose in many languages: the project descriptions of lists of
operations, written out as plain-text documents of a few projects each.

A list's rows are read as records (one-line passages, a search channel of their own); the same
texts in a report are prose passages among the seeds' own, with sentence vectors and token
states, in Danish, Dutch, Swedish, German and English. That is the harder distractor corpus:
a Danish question meets Danish paragraphs about regional business support on equal terms.

    .venv/bin/python bench/prose_distractors.py OUT_DIR            # every list under ../shared/corpus/eu-operations
    .venv/bin/python bench/prose_distractors.py OUT_DIR --lists ../shared/corpus/eu-operations/dk
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

OPERATIONS = REPO.parent / "shared" / "corpus" / "eu-operations"
#: Descriptions shorter than this many words are left out (lists of titles give no prose).
MIN_WORDS = 30
#: Projects per written document.
PER_DOCUMENT = 8


def write_documents(lists: Path, out: Path, min_words: int = MIN_WORDS, per_document: int = PER_DOCUMENT) -> list[Path]:
    """Write the distinct descriptions of at least ``min_words`` words of every list of operations
    under ``lists`` (a file or a folder) to ``out``, ``per_document`` projects ("title, blank line,
    description") to a UTF-8 text file; the files written, in order."""
    from ingest.pipeline import TABLE_SUFFIXES
    from ingest.tables import is_operations_table, read_operations

    out.mkdir(parents=True, exist_ok=True)
    files = [lists] if lists.is_file() else sorted(p for p in lists.rglob("*") if p.is_file())
    written: list[Path] = []
    for path in files:
        if path.suffix.lower() not in TABLE_SUFFIXES or not is_operations_table(path):
            continue
        seen: set[str] = set()
        blocks: list[str] = []
        for record in read_operations(path).records:
            text = record.description or ""
            if len(text.split()) >= min_words and text not in seen:
                seen.add(text)
                blocks.append(f"{record.title}\n\n{text}")
        stem = f"{path.parent.name}_{path.stem[:20]}"
        for i in range(0, len(blocks), per_document):
            target = out / f"{stem}_{i // per_document:03d}.txt"
            target.write_text("\n\n".join(blocks[i : i + per_document]), encoding="utf-8")
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to write the documents to")
    parser.add_argument("--lists", type=Path, default=OPERATIONS, help="a list of operations or a folder of them")
    args = parser.parse_args()
    written = write_documents(args.lists, args.out)
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in written)
    print(f"{len(written)} documents, {words} words, in {args.out}")


if __name__ == "__main__":
    main()
