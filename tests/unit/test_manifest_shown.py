"""Paths in messages: relative to the current directory when inside it, else as given."""

from pathlib import Path

import pytest

from reconciler.manifest.yamlfile import shown


def test_paths_inside_the_current_directory_are_shown_relative(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "pipelines" / "web" / "a.yaml") == "pipelines/web/a.yaml"
    assert shown(tmp_path) == "."
    # A sibling that shares the directory's name as a prefix is outside it.
    assert shown(Path(f"{tmp_path}-other/a.yaml")) == f"{tmp_path}-other/a.yaml"
    assert shown(Path("relative/a.yaml")) == "relative/a.yaml"
