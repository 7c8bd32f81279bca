"""`export`: write live projects' pipelines and release policies as YAML files that plan
to zero changes."""

import asyncio
from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import ld_options, open_client, pipelines_dir_option
from reconciler.errors import ApiError
from reconciler.export import write_export
from reconciler.kinds.policies.export import write_policy_export
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.words import plural

from . import cli

Listed = list[dict[str, Any]]


async def _policies(client: LaunchDarklyClient, project: str) -> Listed | ApiError:
    """The project's release policies, or the 403 of an account without the policies beta:
    pipelines are still exported then, since they need no beta."""
    try:
        return await client.list_policies(project)
    except ApiError as error:
        if error.status == 403:
            return error
        raise


@cli.command()
@pipelines_dir_option
@ld_options
@click.option("--project", "projects", required=True, multiple=True, metavar="KEY",
              help="A LaunchDarkly project key (repeatable: a first import of many projects).")
@click.option("--default-policy", is_flag=True,
              help="Also write the project's default release policy as a file (git then "
                   "manages it), when the listing shows it.")
def export(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
           concurrency: int | None, projects: tuple[str, ...], default_policy: bool) -> int:
    """Import live projects: one file per pipeline under PIPELINES_DIR/PROJECT/, one per
    release policy under PIPELINES_DIR/PROJECT/release-policies/ with their order in
    _project.yaml."""
    keys = list(dict.fromkeys(projects))

    async def fetch() -> list[tuple[Listed, Listed | ApiError]]:
        # Every project is read before any file is written: a failure writes nothing.
        async with open_client(base_uri, sandbox, concurrency) as client:
            async def read(key: str) -> tuple[Listed, Listed | ApiError]:
                pipelines, policies = await asyncio.gather(client.list_pipelines(key),
                                                           _policies(client, key))
                return pipelines, policies
            return list(await asyncio.gather(*(read(key) for key in keys)))

    for project, (live, policies) in zip(keys, asyncio.run(fetch()), strict=True):
        if isinstance(policies, ApiError):
            click.echo(f"notice: release policies of {project!r} not exported: {policies}",
                       err=True)
            policies = []
        default = next((p["key"] for p in live if p.get("isProjectDefault")), None)
        written = write_export(project, live, default, pipelines_dir)
        for path in written:
            click.echo(f"wrote {path}")
        policy_files = write_policy_export(project, policies, pipelines_dir,
                                           with_default=default_policy)
        for path in policy_files:
            click.echo(f"wrote {path}")
        exported = plural(len(written), "pipeline")
        if policy_files:
            exported += f" and {plural(len(policy_files), 'release policy', 'release policies')}"
        click.echo(f"exported {exported} of {project!r}")
    return 0
