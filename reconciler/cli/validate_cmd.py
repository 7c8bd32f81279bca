"""`reconciler validate`: check `pipelines/` offline (no token), or also against live."""

import asyncio
import os
from pathlib import Path

import click

from reconciler.cli import cli
from reconciler.cli.actions import annotate_problems
from reconciler.cli.options import ld_options, open_client, pipelines_dir_option
from reconciler.manifest import DesiredState, online_problems, read_desired
from reconciler.manifest.cache import ParseCache
from reconciler.words import plural

Catalog = dict[str, dict[str, set[str]]]


def _fetch_catalog(state: DesiredState, base_uri: str | None, sandbox: Path | None,
                   concurrency: int | None) -> Catalog:
    """Project -> environment -> segment keys, for the projects in git that exist live."""

    async def project_catalog(client, key: str) -> tuple[str, dict[str, set[str]] | None]:
        if await client.get_project(key) is None:
            return key, None
        environments = await client.list_environments(key)
        segments = await asyncio.gather(*(client.list_segments(key, e) for e in environments))
        return key, {e: set(s) for e, s in zip(environments, segments, strict=True)}

    async def run() -> Catalog:
        async with open_client(base_uri, sandbox, concurrency) as client:
            found = await asyncio.gather(*(project_catalog(client, k) for k in state.projects))
        return {key: envs for key, envs in found if envs is not None}

    return asyncio.run(run())


@cli.command("validate")
@pipelines_dir_option
@click.option("--online", is_flag=True,
              help="Also check that every environmentKey and segmentKeys entry exists live.")
@ld_options
@click.pass_context
def validate_command(ctx: click.Context, pipelines_dir: Path, online: bool,
                     base_uri: str | None, sandbox: Path | None,
                     concurrency: int | None) -> None:
    """Check the pipeline files: syntax, schema and LaunchDarkly's rules.

    Problems go to stderr as file:line:col: message; exit 1 when there is an error.
    Warnings are shown but do not fail the run. Offline, no token is needed."""
    report = read_desired(pipelines_dir, cache=ParseCache.from_environment(os.environ))
    problems = [str(p) for p in sorted(report.errors + report.warnings)]
    errors = len(report.errors)
    files = {error.path for error in report.errors}
    live: list[str] = []
    if online and not report.errors:
        live = online_problems(report.state, _fetch_catalog(report.state, base_uri, sandbox,
                                                            concurrency))
        problems += live
        errors += len(live)
        files |= {line.split(":", 1)[0] for line in live}
    for problem in problems:
        click.echo(problem, err=True)
    annotate_problems(report.errors + report.warnings, live)
    if errors:
        click.echo(f"{plural(errors, 'error')} in {plural(len(files), 'file')}", err=True)
        ctx.exit(1)
    projects = report.state.projects.values()
    pipelines = sum(len(project.pipelines) for project in projects)
    policies = sum(len(project.policies) for project in projects)
    counted = plural(pipelines, "pipeline") + (
        f" and {plural(policies, 'release policy', 'release policies')}" if policies else "")
    checked = " (environments and segments checked live)" if online else ""
    click.echo(f"ok: {counted} in {plural(len(report.state.projects), 'project')}{checked}")
