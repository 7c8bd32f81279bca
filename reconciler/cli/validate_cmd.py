"""`reconciler validate`: check `pipelines/` offline, no token needed."""

from pathlib import Path

import click

from reconciler.cli import cli
from reconciler.cli.options import pipelines_dir_option
from reconciler.manifest import read_desired


@cli.command("validate")
@pipelines_dir_option
@click.pass_context
def validate_command(ctx: click.Context, pipelines_dir: Path) -> None:
    """Check the pipeline files: syntax, schema and LaunchDarkly's rules.

    Problems go to stderr as file:line:col: message; exit 1 when there is an error.
    Warnings are shown but do not fail the run."""
    report = read_desired(pipelines_dir)
    for problem in sorted(report.errors + report.warnings):
        click.echo(str(problem), err=True)
    if report.errors:
        files = {error.path for error in report.errors}
        click.echo(f"{len(report.errors)} error(s) in {len(files)} file(s)", err=True)
        ctx.exit(1)
    pipelines = sum(len(project.pipelines) for project in report.state.projects.values())
    click.echo(f"ok: {pipelines} pipelines in {len(report.state.projects)} projects")
