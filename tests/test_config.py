from __future__ import annotations

from pathlib import Path

import pytest

from ocrprep.config import Settings, load_settings
from ocrprep.errors import MalformedRequest


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.limits.max_pixels == 80_000_000
    assert settings.storage.allow_http is False
    assert settings.process.steps == ("validate",)
    assert settings.db_url.startswith("sqlite:///")


def test_precedence_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("process:\n  output: from-file\n  page: 2\nlimits:\n  max_pixels: 1000\n")
    assert load_settings(config).process.output == "from-file"
    monkeypatch.setenv("OCRPREP_PROCESS__OUTPUT", "from-env")
    settings = load_settings(config)
    assert settings.process.output == "from-env"
    assert settings.process.page == 2
    assert settings.limits.max_pixels == 1000
    assert load_settings(config, **{"process.output": "from-arg"}).process.output == "from-arg"


def test_unknown_key_in_file_gets_a_did_you_mean_hint(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("proces:\n  output: x\n")
    with pytest.raises(MalformedRequest, match="did you mean 'process'"):
        load_settings(config)
    config.write_text("process:\n  stpes: [validate]\n")
    with pytest.raises(MalformedRequest, match="did you mean 'steps'"):
        load_settings(config)


def test_unknown_environment_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCRPREP_LIMITS__MAX_PIXEL", "5")
    with pytest.raises(MalformedRequest, match="max_pixels"):
        load_settings()


def test_invalid_value_names_the_field() -> None:
    with pytest.raises(MalformedRequest, match="limits.max_pixels"):
        Settings().with_overrides(**{"limits.max_pixels": -1})


def test_env_values_parse_as_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OCRPREP_STORAGE__ROOTS", f'["{tmp_path}"]')
    monkeypatch.setenv("OCRPREP_PROCESS__STEPS", '["validate", "enhance"]')
    settings = load_settings()
    assert settings.storage.roots == (tmp_path,)
    assert settings.process.steps == ("validate", "enhance")
