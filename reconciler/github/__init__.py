"""GitHub: the plan as one pull-request comment, drift as one issue (DESIGN.md section 9).

`post_plan_comment` and `sync_drift_issue` raise SettingsError when the Actions variables
are missing and ApiError when GitHub refuses. `publish_plan_comment` and
`publish_drift_issue` are what the CLI calls: the plan or drift report is already printed,
so a GitHub failure becomes a warning and leaves the exit code alone (the log still has
the plan), while a missing setting still fails the command.
"""

from collections.abc import Mapping

import click

from reconciler.errors import ApiError
from reconciler.github.client import GitHubClient, pull_request_from_event, settings_from_environ
from reconciler.github.comments import upsert_plan_comment
from reconciler.github.issues import sync_issue

__all__ = [
    "post_plan_comment",
    "publish_drift_issue",
    "publish_plan_comment",
    "sync_drift_issue",
]


def post_plan_comment(markdown: str, environ: Mapping[str, str]) -> str:
    """Upsert the plan comment on the workflow's pull request; returns what was done."""
    settings = settings_from_environ(environ)
    pull = pull_request_from_event(environ)
    with GitHubClient(settings) as client:
        return upsert_plan_comment(client, pull, markdown)


def sync_drift_issue(markdown: str | None, environ: Mapping[str, str]) -> str:
    """Open, update or close the drift issue (`markdown` None: in sync). Returns
    "opened #N", "updated #N", "closed #N" or "nothing to do"."""
    settings = settings_from_environ(environ)
    with GitHubClient(settings) as client:
        return sync_issue(client, markdown)


def publish_plan_comment(markdown: str, environ: Mapping[str, str]) -> None:
    """`plan --github-comment`, after the plan is printed."""
    try:
        click.echo(f"github: {post_plan_comment(markdown, environ)}", err=True)
    except ApiError as error:
        click.echo(f"warning: the plan was not posted to the pull request: {error}", err=True)


def publish_drift_issue(markdown: str | None, environ: Mapping[str, str]) -> None:
    """`drift --github-issue`, after the drift report is printed."""
    try:
        click.echo(f"github: drift issue: {sync_drift_issue(markdown, environ)}", err=True)
    except ApiError as error:
        click.echo(f"warning: the drift issue was not updated: {error}", err=True)
