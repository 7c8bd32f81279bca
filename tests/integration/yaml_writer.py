"""Write test pipeline files as YAML (what a user would commit)."""

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def dump(data: Any, path: Path) -> None:
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
