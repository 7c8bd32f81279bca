"""`export`: write live projects' pipelines as YAML files that plan to zero changes."""

import asyncio
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import ld_options, open_client, pipelines_dir_option
from reconciler.export import write_export
from reconciler.words import plural

from . import cli


@cli.command()
@pipelines_dir_option
@ld_options
@click.option("--project", "projects", required=True, multiple=True, metavar="KEY",
              help="A LaunchDarkly project key (repeatable: a first import of many projects).")
def export(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
           concurrency: int | None, projects: tuple[str, ...]) -> int:
    """Import live projects: one file per pipeline under PIPELINES_DIR/PROJECT/."""
    keys = list(dict.fromkeys(projects))

    async def fetch() -> list[list[dict[str, Any]]]:
        # Every project is read before any file is written: a failure writes nothing.
        async with open_client(base_uri, sandbox, concurrency) as client:
            return list(await asyncio.gather(*(client.list_pipelines(key) for key in keys)))

    for project, live in zip(keys, asyncio.run(fetch()), strict=True):
        default = next((p["key"] for p in live if p.get("isProjectDefault")), None)
        written = write_export(project, live, default, pipelines_dir)
        for path in written:
            click.echo(f"wrote {path}")
        click.echo(f"exported {plural(len(written), 'pipeline')} of {project!r}")
    return 0
