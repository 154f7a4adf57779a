"""Settings: one declared table, environment and overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from regiograph.errors import ConfigError
from regiograph.settings import SETTINGS_TABLE, documented_settings, load_settings, settings_fields
from tests.conftest import REPO


def test_every_setting_is_declared_and_documented() -> None:
    assert settings_fields() == documented_settings()


def test_every_setting_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert [s.env for s in SETTINGS_TABLE if f"`{s.env}`" not in readme] == []


def test_environment_then_overrides() -> None:
    s = load_settings(environ={"REGIOGRAPH_DATA": "/tmp/x", "REGIOGRAPH_ROW_LIMIT": "5"})
    assert s.data_dir == Path("/tmp/x") and s.row_limit == 5
    s2 = load_settings(environ={"REGIOGRAPH_DATA": "/tmp/x"}, data_dir=Path("/tmp/y"))
    assert s2.data_dir == Path("/tmp/y")
    assert load_settings(environ={}).data_dir == Path("data")


@pytest.mark.parametrize("env", [{"REGIOGRAPH_ROW_LIMIT": "abc"}, {"REGIOGRAPH_QUERY_TIMEOUT": "-1"}, {"REGIOGRAPH_PORT": "70000"}, {"REGIOGRAPH_RERANK_TOKENS": "-1"}])
def test_bad_values_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ=env)
