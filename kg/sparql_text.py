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
