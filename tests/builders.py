"""Builders shared by the tests that drive the CLI: sandbox fixtures and pipeline files."""

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def pipeline(key: str, *, name: str | None = None, env: str = "test", phases: int = 1,
             **extra: Any) -> dict[str, Any]:
    """A CreateReleasePipelineInput body with `phases` one-audience phases."""
    return {
        "key": key, "name": name or key.title(), **extra,
        "phases": [{"name": f"Phase {i + 1}",
                    "audiences": [{"name": "Everyone", "environmentKey": env}]}
                   for i in range(phases)],
    }


def project(pipelines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A sandbox fixture project."""
    return {"environments": ["test", "production"], "pipelines": pipelines, **extra}


def dump_yaml(data: Any, path: Path) -> None:
    """Write `data` as block-style YAML, as a user would commit it."""
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
