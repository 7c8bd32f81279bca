"""`export`: write a live project's pipelines as YAML files that plan to zero changes."""

import asyncio
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import ld_options, open_client, pipelines_dir_option
from reconciler.export import write_export

from . import cli


@cli.command()
@pipelines_dir_option
@ld_options
@click.option("--project", required=True, metavar="KEY", help="The LaunchDarkly project key.")
def export(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
           concurrency: int | None, project: str) -> int:
    """Import a live project: one file per pipeline under PIPELINES_DIR/PROJECT/."""

    async def fetch() -> list[dict[str, Any]]:
        async with open_client(base_uri, sandbox, concurrency) as client:
            return await client.list_pipelines(project)

    live = asyncio.run(fetch())
    default = next((p["key"] for p in live if p.get("isProjectDefault")), None)
    written = write_export(project, live, default, pipelines_dir)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"exported {len(written)} pipeline(s) of {project!r}")
    return 0
