"""One exception hierarchy: every error a user can cause or fix is a RegiographError."""

from __future__ import annotations


class RegiographError(Exception):
    """Base class: the message says what went wrong and what to do."""


class ConfigError(RegiographError):
    """A setting, option or model choice is invalid."""


class InputError(RegiographError):
    """A file cannot be read (empty, binary, corrupt, too large, wrong format)."""


class StoreError(RegiographError):
    """The graph store cannot be opened, locked or written."""


class QueryError(RegiographError):
    """A SPARQL query is invalid, forbidden, too slow or too large."""


class IndexMismatchError(RegiographError):
    """The search index was built with another model or another graph generation."""


class LockedError(StoreError):
    """Another process is writing to the data directory."""
