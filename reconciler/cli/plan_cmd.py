"""`plan`, `apply` and `drift`: read git and live, plan, and (for apply) execute."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.actions import annotate_plan, annotate_problems, summarize
from reconciler.cli.colour import colour_for, draws_bar
from reconciler.cli.options import ld_options, pipelines_dir_option
from reconciler.errors import ReconcilerError, SettingsError
from reconciler.words import plural

from . import announce_wait, cli

# The plan path (pydantic, httpx, the kinds, the renderers) is imported where a command
# runs, not here: `plan --help` then loads click and the CLI modules alone.
if TYPE_CHECKING:
    from reconciler.apply import ApplyReport, OnResult
    from reconciler.manager import Manager
    from reconciler.plan import Plan
    from reconciler.scope import Scope

EXIT_CHANGES = 2


def _manager(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
             concurrency: int | None) -> Manager:
    """The run's manager; the files' warnings go to stderr."""
    from reconciler.manager import Connection, Manager

    return Manager(pipelines_dir, Connection(base_uri, sandbox, concurrency, announce_wait),
                   on_warning=lambda line: click.echo(line, err=True))


def _planned(plan: Callable[[], Plan], *, stale_comment: bool = False) -> Plan:
    """`plan()`; when the files fail, their problems are annotated in GitHub Actions (and
    with `stale_comment`, the plan comment says it is out of date) before the error goes
    on up."""
    from reconciler.manager import InvalidFiles

    try:
        return plan()
    except InvalidFiles as invalid:
        report = invalid.report
        annotate_problems(report.errors + report.warnings)
        if stale_comment:
            from reconciler.github import publish_stale_plan_comment

            click.echo(publish_stale_plan_comment(len(report.errors),
                                                  len({error.path for error in report.errors}),
                                                  os.environ, invalid.scope, announce_wait),
                       err=True)
        raise


def _report_unread(plan: Plan, fmt: str) -> None:
    """The text rendering shows unread projects; JSON and Markdown go to files and PR
    comments, so their failures are also said on stderr, where a CI log shows them."""
    if fmt == "text":
        return
    from reconciler.render.changes import failure_line

    for project in plan.failed:
        click.echo(f"error: {failure_line(project)}", err=True)


def _render(plan: Plan, fmt: str, scope: Scope, *, drift: bool = False) -> str:
    from reconciler.render import render_json, render_text

    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return _markdown(plan, scope, drift=drift)
    return render_text(plan, color=colour_for(sys.stdout), scope=scope)


def _colour(fmt: str) -> bool:
    """Colour for the text format only; passed to click.echo, which would otherwise strip
    the colour that FORCE_COLOR or --color always asked for when stdout is not a terminal."""
    return fmt == "text" and colour_for(sys.stdout)


def _markdown(plan: Plan, scope: Scope, *, drift: bool = False) -> str:
    from reconciler.render import render_drift_markdown, render_markdown

    return (render_drift_markdown(plan, scope=scope) if drift
            else render_markdown(plan, scope=scope))


def _selection(command):
    command = click.option("--shard", default=None, metavar="I/N",
                           help="Only the projects in shard I of N (stable hash).")(command)
    return click.option("--project", "projects", multiple=True, metavar="KEY",
                        help="Only this project (repeatable).")(command)


def _safety(command):
    command = click.option("--allow-active-releases", is_flag=True,
                           help="Allow phase changes on pipelines with active releases.")(command)
    command = click.option("--max-delete-percent", type=click.FloatRange(0, 100), default=30.0,
                           show_default=True,
                           help="Deleting (a replace deletes too) more than this share of a "
                                "project's pipelines (with 4 or more) needs --force.")(command)
    return click.option("--force", is_flag=True,
                        help="Allow deleting over the threshold, or every pipeline.")(command)


@cli.command()
@pipelines_dir_option
@ld_options
@_selection
@_safety
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the JSON plan to this file (for apply PLAN_FILE).")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes (0 none, 1 error).")
@click.option("--github-comment", is_flag=True,
              help="Also keep the plan as one comment on the pull request (in GitHub Actions).")
def plan(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
         concurrency: int | None, projects: tuple[str, ...], shard: str | None, force: bool,
         max_delete_percent: float, allow_active_releases: bool, fmt: str, out: Path | None,
         detailed_exitcode: bool, github_comment: bool) -> int:
    """Show what apply would change, field by field."""
    from reconciler.plan import PlanOptions
    from reconciler.planfile import write_plan

    options = PlanOptions(force=force, allowActiveReleases=allow_active_releases,
                          maxDeletePercent=max_delete_percent)
    manager = _manager(pipelines_dir, base_uri, sandbox, concurrency)
    selection = manager.select(projects, shard)
    scope = selection.scope
    result = _planned(lambda: manager.plan(selection, options), stale_comment=github_comment)
    if out is not None:
        write_plan(result, out)
    shown = _render(result, fmt, scope)
    click.echo(shown, color=_colour(fmt))
    _report_unread(result, fmt)
    markdown = functools.cache(lambda: shown if fmt == "markdown" else _markdown(result, scope))
    annotate_plan(result, scope)
    summarize(markdown, "plan", scope)
    if github_comment:
        from reconciler.github import publish_plan_comment  # only this flag needs GitHub

        click.echo(publish_plan_comment(markdown(), os.environ, scope, announce_wait), err=True)
    if not result.applicable:
        return 1
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else 0


@cli.command()
@pipelines_dir_option
@ld_options
@_selection
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@click.option("--github-issue", is_flag=True,
              help="Also open, update or close the `drift` issue (in GitHub Actions).")
def drift(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
          concurrency: int | None, projects: tuple[str, ...], shard: str | None,
          fmt: str, github_issue: bool) -> int:
    """Report whether live differs from git: exit 0 in sync, 2 drift, 1 error."""
    from reconciler.plan import PlanOptions

    manager = _manager(pipelines_dir, base_uri, sandbox, concurrency)
    selection = manager.select(projects, shard)
    scope = selection.scope
    result = _planned(lambda: manager.plan(selection, PlanOptions(force=True)))
    shown = _render(result, fmt, scope, drift=True)
    click.echo(shown, color=_colour(fmt))
    _report_unread(result, fmt)
    report = functools.cache(
        lambda: shown if fmt == "markdown" else _markdown(result, scope, drift=True))
    annotate_plan(result, scope)
    summarize(report, "drift", scope)
    if not result.applicable and not result.has_changes:
        return 1
    if github_issue:
        from reconciler.github import publish_drift_issue  # only this flag needs GitHub

        click.echo(publish_drift_issue(report() if result.has_changes else None, os.environ,
                                       scope, announce_wait), err=True)
    if result.failed:
        return 1  # drift in the projects that were read is reported above, but not all were
    return EXIT_CHANGES if result.has_changes else 0


def _confirm(result: Plan, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise SettingsError("apply needs --yes when not run on a terminal (as in CI)")
    click.confirm(f"Apply {plural(result.step_count, 'step')}?", abort=True)


def _outcome(report: ApplyReport) -> str:
    from reconciler.apply import StepStatus

    return (f"Apply: {report.count(StepStatus.DONE)} done, "
            f"{report.count(StepStatus.FAILED)} failed, "
            f"{report.count(StepStatus.NOT_RUN)} not run.")


def _report(report: ApplyReport) -> None:
    from reconciler.apply import StepStatus

    click.echo(_outcome(report))
    if report.ok:
        return
    for result in report.results:
        if result.status is not StepStatus.DONE:
            detail = f": {result.error}" if result.error else ""
            click.echo(f"  {result.status:<7} {result.project}: {result.action} "
                       f"{result.key}{detail}", err=True)
    click.echo("Run apply again once the cause is fixed: it re-plans from live and converges.",
               err=True)


class _Terminal:
    """What apply shows: Aviator's lines on stderr, a line per step (and a bar on a
    terminal), then the outcome."""

    def __init__(self, steps: int) -> None:
        from reconciler.cli.progress import StepProgress

        self._progress = StepProgress(steps, bar=draws_bar(sys.stderr.isatty(), os.environ),
                                      colour=colour_for(sys.stderr))

    def notice(self, line: str) -> None:
        click.echo(line, err=True)

    @contextmanager
    def steps(self) -> Iterator[OnResult]:
        with self._progress:
            yield self._progress.advance

    def outcome(self, report: ApplyReport) -> None:
        _report(report)


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@pipelines_dir_option
@ld_options
@_selection
@_safety
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required in CI).")
@click.option("--aviator-trigger", is_flag=True,
              help="Report to Aviator with create-deployment, which runs the environment's "
                   "deploy workflow, instead of a status update.")
def apply(plan_file: Path | None, pipelines_dir: Path, base_uri: str | None,
          sandbox: Path | None, concurrency: int | None, projects: tuple[str, ...],
          shard: str | None, force: bool, max_delete_percent: float,
          allow_active_releases: bool, yes: bool, aviator_trigger: bool) -> int:
    """Make live equal git. With PLAN_FILE, run exactly that reviewed plan or refuse."""
    from reconciler.manager import SavedPlan
    from reconciler.plan import PlanOptions

    options = PlanOptions(force=force, allowActiveReleases=allow_active_releases,
                          maxDeletePercent=max_delete_percent)
    manager = _manager(pipelines_dir, base_uri, sandbox, concurrency)
    saved = SavedPlan.load(plan_file) if plan_file is not None else None
    selection = manager.select(saved.projects(projects) if saved else projects, shard)
    scope = selection.scope
    result = _planned(lambda: (manager.replan(saved, selection, options) if saved
                               else manager.plan(selection, options)))
    click.echo(_render(result, "text", scope), color=_colour("text"))
    annotate_plan(result, scope)
    if not result.applicable:
        summarize(lambda: _markdown(result, scope) + "\n**Nothing was applied: the plan is "
                  "blocked or refused, or a project could not be read.**\n", "apply", scope)
        raise ReconcilerError("the plan is blocked or refused, or a project could not be read "
                              "(see above); nothing was applied")
    if not result.has_changes:
        summarize(lambda: _markdown(result, scope), "apply", scope)
        return 0
    if saved is None:
        _confirm(result, yes)
    report = manager.apply(result, scope, _Terminal(result.step_count),
                           trigger=aviator_trigger)
    summarize(lambda: f"{_markdown(result, scope)}\n**{_outcome(report)}**\n", "apply", scope)
    return 0 if report.ok else 1
