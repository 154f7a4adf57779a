"""The library of example SPARQL queries (``queries/*.rq``): the ontology's competency questions.

Each file starts with comment lines: ``# title: …`` (one line) and ``# …`` (what it answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"


@dataclass(frozen=True)
class ExampleQuery:
    name: str
    title: str
    description: str
    query: str


@cache
def example_queries() -> tuple[ExampleQuery, ...]:
    """All example queries, sorted by name."""
    out: list[ExampleQuery] = []
    for path in sorted(QUERIES_DIR.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        title, desc = path.stem.replace("_", " "), []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            body = line.lstrip("#").strip()
            if body.lower().startswith("title:"):
                title = body.split(":", 1)[1].strip()
            elif body:
                desc.append(body)
        out.append(ExampleQuery(path.stem, title, " ".join(desc), text))
    return tuple(out)
