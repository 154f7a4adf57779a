"""Reading a SPARQL query's text without parsing it: where its strings, IRIs and names are."""

from __future__ import annotations

import re

_OPAQUE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r'|<[^<>"{}|^`\\\s]*>|#[^\n]*|[?$][\w]+|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]+',
)
"""Strings, IRIs, comments, variables and prefixed names: text in which keywords and braces mean nothing."""


def masked(query: str) -> str:
    """The query with its opaque tokens blanked out, same length, so keywords and braces found in it are real."""
    return _OPAQUE.sub(lambda m: " " * len(m.group(0)), query)


SIMILAR = "https://w3id.org/regiograph/ontology#similar"
"""The IRI of ``rg:similar(?text, "query")``, the semantic similarity function (search/api.py)."""

_PREFIX = re.compile(r"PREFIX\s+([A-Za-z_][\w.-]*)?:\s*<([^<>\s]*)>", re.IGNORECASE)


def calls_similar(query: str) -> bool:
    """Whether the query calls ``rg:similar``: by its IRI, as ``rg:similar`` or under another
    prefix the query binds to the ontology's namespace; not inside strings or comments. Only
    such a query needs the search index (and loads it)."""
    namespace = SIMILAR.removesuffix("similar")
    prefixes = {"rg"} | {m.group(1) or "" for m in _PREFIX.finditer(masked_strings(query)) if m.group(2) == namespace}
    for m in _OPAQUE.finditer(query):
        token = m.group(0)
        named = token == f"<{SIMILAR}>" or (token.endswith(":similar") and token.removesuffix(":similar") in prefixes)
        if named and query[m.end() :].lstrip().startswith("("):
            return True
    return False


def masked_strings(query: str) -> str:
    """The query with its strings and comments blanked out (IRIs and names kept), same length."""
    return _OPAQUE.sub(lambda m: m.group(0) if m.group(0)[:1] not in "\"'#" else " " * len(m.group(0)), query)
