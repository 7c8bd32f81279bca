"""GitHub Actions' surfaces for the commands, only under GITHUB_ACTIONS=true: annotations
on stderr (the runner reads workflow commands from both streams, and stdout stays the
report, e.g. JSON) and the Markdown report appended to the job summary."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import click

from reconciler.scope import WHOLE, Scope

# Outside GitHub Actions (every local run) none of this is needed: reconciler.github loads
# only under Actions, after the check.
if TYPE_CHECKING:
    from reconciler.github.workflow import Annotation
    from reconciler.manifest.yamlfile import Problem
    from reconciler.plan import Plan

LOG = "see this step's log"


def in_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _emit(annotations: Sequence[Annotation]) -> None:
    from reconciler.github.workflow import capped

    for line in capped(annotations, LOG):
        click.echo(line, err=True)


def annotate_problems(problems: Iterable[Problem], extra: Iterable[str] = ()) -> None:
    """`validate`'s findings on their files (`extra`: findings with no position)."""
    if not in_actions(os.environ):
        return
    from reconciler.github.workflow import Annotation, problem_annotation

    _emit([*(problem_annotation(p.path, p.line, p.column, p.message, p.warning)
             for p in sorted(problems)),
           *(Annotation("error", line) for line in extra)])


def annotate_plan(plan: Plan, scope: Scope = WHOLE) -> None:
    """A warning per refused project and blocked change."""
    if in_actions(os.environ):
        from reconciler.github.workflow import plan_annotations

        _emit(plan_annotations(plan, scope.label))


def summarize(markdown: Callable[[], str], command: str, scope: Scope = WHOLE) -> None:
    """Append the Markdown report to the job summary, under a line naming the command's
    scope. `markdown` renders it, only here: outside Actions nothing shows it (and a
    fleet's report costs as much CPU to render as its text)."""
    if not in_actions(os.environ):
        return
    from reconciler.github.workflow import append_summary

    head = f"<sub>reconciler {command}{f', {scope.label}' if not scope.whole else ''}</sub>\n\n"
    try:
        append_summary(head + markdown(), os.environ)
    except OSError as error:
        click.echo(f"warning: the job summary was not written: {error.strerror or error}",
                   err=True)
