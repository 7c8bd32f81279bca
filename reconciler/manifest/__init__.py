"""Reading `pipelines/`: YAML with positions, the pydantic models, layout rules, and
errors that read `file:line:col: message`."""

from reconciler.manifest.loader import (
    DesiredProject,
    DesiredState,
    ManifestReading,
    ManifestReport,
    load_desired,
    read_desired,
)
from reconciler.manifest.models import (
    CreateReleasePipelineInput,
    ProjectSettings,
)
from reconciler.manifest.online import online_problems
from reconciler.manifest.yamlfile import Problem

__all__ = [
    "CreateReleasePipelineInput",
    "DesiredProject",
    "DesiredState",
    "ManifestReading",
    "ManifestReport",
    "Problem",
    "ProjectSettings",
    "load_desired",
    "online_problems",
    "read_desired",
]
