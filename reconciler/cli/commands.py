"""Imports every command module so that each registers itself on the `cli` group."""

from reconciler.cli import (  # noqa: F401
    aviator_cmd,
    export_cmd,
    graph_cmd,
    plan_cmd,
    sandbox_cmd,
    schema_cmd,
    validate_cmd,
)
