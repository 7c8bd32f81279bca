"""GitHub: the plan as one pull-request comment, drift as one issue, per scope (DESIGN.md
section 9).

`post_plan_comment` and `sync_drift_issue` raise SettingsError when the Actions variables
are missing and ApiError when GitHub refuses. `publish_plan_comment` and
`publish_drift_issue` are what the CLI calls: the plan or drift report is already printed,
so a GitHub failure becomes a warning and leaves the exit code alone (the log still has
the plan), while a missing setting still fails the command. They return the line for the
CLI to show on stderr: what was done, or the warning.
"""

from collections.abc import Mapping

from reconciler.errors import ApiError, ReconcilerError
from reconciler.github.client import GitHubClient, pull_request_from_event, settings_from_environ
from reconciler.github.comments import stale_markdown, upsert_plan_comment
from reconciler.github.issues import sync_issue
from reconciler.http.pacing import OnWait, ignore_wait
from reconciler.scope import WHOLE, Scope

__all__ = [
    "post_plan_comment",
    "publish_drift_issue",
    "publish_plan_comment",
    "publish_stale_plan_comment",
    "sync_drift_issue",
]


def post_plan_comment(markdown: str, environ: Mapping[str, str],
                      scope: Scope = WHOLE, on_wait: OnWait = ignore_wait) -> str:
    """Upsert `scope`'s plan comment on the workflow's pull request; returns what was
    done. Long waits go to `on_wait`, here and below."""
    settings = settings_from_environ(environ)
    pull = pull_request_from_event(environ)
    with GitHubClient(settings, on_wait=on_wait) as client:
        return upsert_plan_comment(client, pull, markdown, scope)


def sync_drift_issue(markdown: str | None, environ: Mapping[str, str],
                     scope: Scope = WHOLE, on_wait: OnWait = ignore_wait) -> str:
    """Open, update or close `scope`'s drift issue (`markdown` None: in sync). Returns
    "opened #N", "updated #N", "closed #N" or "nothing to do"."""
    settings = settings_from_environ(environ)
    with GitHubClient(settings, on_wait=on_wait) as client:
        return sync_issue(client, markdown, scope)


def publish_plan_comment(markdown: str, environ: Mapping[str, str],
                         scope: Scope = WHOLE, on_wait: OnWait = ignore_wait) -> str:
    """`plan --github-comment`, after the plan is printed."""
    try:
        return f"github: {post_plan_comment(markdown, environ, scope, on_wait)}"
    except ApiError as error:
        return f"warning: the plan was not posted to the pull request: {error}"


def publish_stale_plan_comment(errors: int, files: int, environ: Mapping[str, str],
                               scope: Scope = WHOLE, on_wait: OnWait = ignore_wait) -> str:
    """`plan --github-comment` on files that fail validation: the comment says it is out
    of date. Best effort: the validation errors are what fails the run."""
    try:
        run_url = settings_from_environ(environ).run_url
        done = post_plan_comment(stale_markdown(scope, errors, files, run_url), environ, scope,
                                 on_wait)
    except ReconcilerError as error:
        return f"warning: the plan comment was not marked out of date: {error}"
    return f"github: marked out of date: {done}"


def publish_drift_issue(markdown: str | None, environ: Mapping[str, str],
                        scope: Scope = WHOLE, on_wait: OnWait = ignore_wait) -> str:
    """`drift --github-issue`, after the drift report is printed."""
    try:
        return f"github: drift issue: {sync_drift_issue(markdown, environ, scope, on_wait)}"
    except ApiError as error:
        return f"warning: the drift issue was not updated: {error}"
