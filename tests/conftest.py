"""Shared fixtures: the seed corpus ingested once per session into a real store and index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from regiograph.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "corpus" / "seeds"
OPERATIONS = REPO.parent / "shared" / "corpus" / "eu-operations"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def require_seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/corpus/seeds is not present")
    return SEEDS


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a data directory holding the five seeds, with the search index built."""
    from ingest.pipeline import ingest

    seeds = require_seeds()
    data = tmp_path_factory.mktemp("seed-data")
    settings = load_settings(environ={}, data_dir=data)
    report = ingest([seeds], settings)
    assert not report.failed, [f.reason for f in report.failed]
    return settings


@pytest.fixture(scope="session")
def seed_store(seed_settings: Settings):  # type: ignore[no-untyped-def]
    """The published generation of the seed data, opened read-only."""
    from kg.store import DataDir

    store = DataDir(seed_settings.data_dir).open_reader()
    yield store
    store.close()


@pytest.fixture()
def empty_settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, data_dir=tmp_path / "data")
