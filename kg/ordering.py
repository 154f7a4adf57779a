"""A query's final ``ORDER BY`` evaluated in memory instead of on the disk store.

Oxigraph's sort reads both terms of every comparison from RocksDB: ordering 1,612 region
labels at 10M triples costs ~34,000 reads (60-80 ms), while reading the rows costs one read per
term. So for a SELECT whose last solution modifiers are ``ORDER BY`` (over projected variables)
and an optional ``LIMIT``/``OFFSET``, the store answers the query without them and the rows are
ordered and sliced here, each term decoded once: by Python's sort when every ordering column
holds one simple kind of term (IRIs, numbers, strings), otherwise by an empty in-memory Oxigraph
store given the rows as ``VALUES``, so SPARQL's ordering rules stay Oxigraph's own.

Anything this module cannot rewrite with certainty (a comment in the modifiers, an ordering
expression over a variable that is not projected, an aggregate, blank nodes in the rows) is
left to Oxigraph as written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from kg.sparql_text import masked

MAX_ROWS = 200_000
"""Rows beyond this are ordered by the store itself (the VALUES text would be too large)."""

_FORM = re.compile(r"\b(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", re.I)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.I)
_SLICE = re.compile(r"\s*((?:LIMIT|OFFSET)\s+\d+\s*){0,2}\Z", re.I)
_SLICE_PART = re.compile(r"(LIMIT|OFFSET)\s+(\d+)", re.I)
_CONDITION_TOKENS = re.compile(r"(?:[?$]\w+|[A-Za-z_]\w*|\d+(?:\.\d+)?|[(),+\-*/<>=!&|]|\s)*\Z")
_AGGREGATE = re.compile(r"\b(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\b", re.I)
_VARIABLE = re.compile(r"[?$](\w+)")
_AS_VARIABLE = re.compile(r"\bAS\s+[?$](\w+)", re.I)


@dataclass(frozen=True)
class FinalOrder:
    """A SELECT split into the part the store answers and the modifiers applied in memory."""

    unordered: str
    """The query up to its ``ORDER BY`` (GROUP BY and HAVING included), without it."""
    conditions: str
    """The ordering conditions, as written."""
    limit: int | None = None
    offset: int = 0

    @property
    def slice(self) -> str:
        """The ``LIMIT``/``OFFSET`` clause, or an empty string."""
        return " ".join(([f"LIMIT {self.limit}"] if self.limit is not None else []) + ([f"OFFSET {self.offset}"] if self.offset else []))


def _last_closing_brace(blanked: str) -> int:
    """Index of the last ``}`` that closes a top-level group, or -1."""
    depth, last = 0, -1
    for i, char in enumerate(blanked):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                last = i
    return last if depth == 0 else -1


def _projected(query: str, blanked: str, select_end: int) -> set[str] | None:
    """Names the outer SELECT projects; None for ``SELECT *`` (every variable in scope)."""
    body = blanked.find("{", select_end)
    if body < 0:
        return set()
    text, text_masked = query[select_end:body], blanked[select_end:body]
    if text_masked.strip().upper().removeprefix("DISTINCT").removeprefix("REDUCED").lstrip().startswith("*"):
        return None
    names = {m.group(1) for m in _AS_VARIABLE.finditer(text)}
    for m in _VARIABLE.finditer(text):
        prefix = text_masked[: m.start()]
        if prefix.count("(") == prefix.count(")"):
            names.add(m.group(1))
    return names


def split_final_order(query: str) -> FinalOrder | None:
    """Split a SELECT whose final modifiers can be applied in memory; None for any other query."""
    blanked = masked(query)
    form = _FORM.search(blanked)
    if form is None or form.group(1).upper() != "SELECT":
        return None
    closing = _last_closing_brace(blanked)
    if closing < 0:
        return None
    order = _ORDER_BY.search(blanked, closing)
    if order is None:
        return None
    rest = query[order.end():]
    slice_match = _SLICE.search(rest)  # it also matches the empty string at the end
    slice_start = slice_match.start() if slice_match else len(rest)
    conditions = rest[:slice_start]
    parts = {kind.upper(): int(number) for kind, number in _SLICE_PART.findall(rest[slice_start:])}
    if not conditions.strip() or not _CONDITION_TOKENS.match(conditions) or _AGGREGATE.search(conditions):
        return None
    projected = _projected(query, blanked, form.end())
    used = {m.group(1) for m in _VARIABLE.finditer(conditions)}
    if not used or (projected is not None and not used <= projected):
        return None
    return FinalOrder(query[: order.start()], conditions.strip(), parts.get("LIMIT"), parts.get("OFFSET", 0))


_NUMERIC = {
    f"http://www.w3.org/2001/XMLSchema#{name}"
    for name in ("integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
                 "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                 "unsignedShort", "unsignedByte")
}
_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_PLAIN_CONDITION = re.compile(r"\s*(?:(ASC|DESC)\s*\(\s*[?$](\w+)\s*\)|[?$](\w+))", re.I)

Row = tuple[object, ...]


def _plain_conditions(conditions: str) -> list[tuple[str, bool]] | None:
    """``[(variable, descending)]`` when every condition is a variable, ASC(var) or DESC(var)."""
    parsed: list[tuple[str, bool]] = []
    position = 0
    while position < len(conditions):
        match = _PLAIN_CONDITION.match(conditions, position)
        if match is None:
            return None if conditions[position:].strip() else parsed
        parsed.append((match.group(2) or match.group(3), (match.group(1) or "").upper() == "DESC"))
        position = match.end()
    return parsed


def _number(lexical: str, datatype: str) -> int | Decimal | float | None:
    """A numeric literal's exact value (Python compares int, Decimal and float exactly); None if ill-formed or NaN/INF."""
    name = datatype.rpartition("#")[2]
    try:
        if name in ("double", "float"):
            number = float(lexical)
            return number if math.isfinite(number) else None
        return Decimal(lexical) if name == "decimal" else int(lexical)
    except (ValueError, ArithmeticError):
        return None


def _column_key(values: list[object]) -> list[tuple[int, Any]] | None:
    """Sort keys for one column in SPARQL order, or None unless its bound values are all of one simple kind.

    The kinds are IRIs (by their text), numbers (by value), simple strings, and language-tagged
    strings (by their text; the order between two languages of the same text is not defined). An
    unbound value sorts first. Anything else (dates, booleans, mixed kinds, NaN) is left to Oxigraph.
    """
    kinds: set[str] = set()
    keys: list[tuple[int, Any]] = []
    for value in values:
        if value is None:
            keys.append((0, ""))
            continue
        if isinstance(value, ox.NamedNode):
            kinds.add("iri")
            keys.append((1, value.value))
        elif isinstance(value, ox.Literal):
            datatype = value.datatype.value
            if datatype in _NUMERIC:
                number = _number(value.value, datatype)
                if number is None:
                    return None
                kinds.add("number")
                keys.append((1, number))
            elif datatype in (_STRING, _LANG_STRING):
                kinds.add(datatype)
                keys.append((1, value.value))
            else:
                return None
        else:
            return None
        if len(kinds) > 1:
            return None
    return keys


def _sorted_in_python(variables: list[str], rows: list[Row], final: FinalOrder) -> list[Row] | None:
    """Rows ordered and sliced by Python's sort, or None unless every condition is a simple column."""
    conditions = _plain_conditions(final.conditions)
    if not conditions or any(name not in variables for name, _ in conditions):
        return None
    order = list(range(len(rows)))
    for name, descending in reversed(conditions):  # stable sorts, last condition first
        keys = _column_key([row[variables.index(name)] for row in rows])
        if keys is None:
            return None
        order.sort(key=keys.__getitem__, reverse=descending)
    stop = final.offset + final.limit if final.limit is not None else None
    return [rows[i] for i in order[final.offset : stop]]


def _values_term(term: object) -> str | None:
    """A solution's term as SPARQL ``VALUES`` text; None for one VALUES cannot hold."""
    if term is None:
        return "UNDEF"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return str(term)
    return None


def _sorted_by_oxigraph(variables: list[str], rows: list[Row], final: FinalOrder) -> list[Row] | None:
    """Rows ordered and sliced by an empty in-memory Oxigraph store; None if a row holds a blank node or triple."""
    lines = []
    for row in rows:
        terms = [_values_term(term) for term in row]
        if None in terms:
            return None
        lines.append("(" + " ".join(terms) + ")")  # type: ignore[arg-type]
    names = " ".join(f"?{name}" for name in variables)
    text = f"SELECT {names} WHERE {{ VALUES ({names}) {{\n" + "\n".join(lines) + f"\n}} }} ORDER BY {final.conditions} {final.slice}"
    try:
        result = ox.Store().query(text)
    except (SyntaxError, RuntimeError):
        return None
    assert isinstance(result, ox.QuerySolutions)
    return [tuple(solution) for solution in result]


def order_in_memory(variables: list[str], rows: list[Row], final: FinalOrder) -> list[Row] | None:
    """The rows in the query's order, sliced; None when the store must order them itself.

    Columns of one simple kind are sorted by Python (a few µs a row); any other ordering by an
    in-memory Oxigraph store, so SPARQL's full ordering rules apply.
    """
    if not variables:
        return None
    ordered = _sorted_in_python(variables, rows, final)
    return ordered if ordered is not None else _sorted_by_oxigraph(variables, rows, final)
