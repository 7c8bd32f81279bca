"""One open drift issue per scope while live differs from git: opened, kept current, then
closed.

The issue is ours when it is open, labelled `drift` and its body's first line is the hidden
marker naming its scope; a person's issue with the same label, and another shard's issue,
are never touched (a clean shard never closes the drift another shard found). Should two
of one scope ever be open (two cron runs racing), the newer ones are closed as duplicates
of the oldest.
"""

from typing import Any

from reconciler.github.client import GitHubClient
from reconciler.github.comments import COMMENT_LIMIT
from reconciler.github.markdown import size, split_markdown
from reconciler.scope import WHOLE, Scope

LABEL = "drift"
# The whole repository's marker is the one version 0.1 wrote, so its open issue is kept.
MARKER = "<!-- reconciler:drift -->"
SCOPED_MARKER = "<!-- reconciler:drift scope={scope} -->"
TITLE = "Drift: live LaunchDarkly release pipelines differ from git"


def marker(scope: Scope) -> str:
    return MARKER if scope.whole else SCOPED_MARKER.format(scope=scope.key)


def title(scope: Scope) -> str:
    return TITLE if scope.whole else f"{TITLE} ({scope.label})"
TRUNCATED = "\n\n---\n**Report cut to fit an issue: the full report is in the workflow log.**\n"


def _footer(client: GitHubClient) -> str:
    facts = []
    if client.settings.sha:
        facts.append(f"commit {client.settings.sha[:12]}")
    if client.settings.run_url:
        facts.append(f"[workflow run]({client.settings.run_url})")
    suffix = f" (last checked against {', '.join(facts)})" if facts else ""
    return ("\n\n<sub>Opened and updated by `reconciler drift --github-issue`; closed by it "
            f"when live matches git again{suffix}. Run `reconciler plan` to see the fix, or "
            "change git to accept what is live.</sub>\n")


def issue_body(markdown: str, client: GitHubClient, scope: Scope = WHOLE) -> str:
    """The issue body, within GitHub's limit (an issue cannot be split into parts)."""
    footer = _footer(client)
    head = marker(scope)
    budget = COMMENT_LIMIT - size(head) - 1 - size(footer)
    if size(markdown) > budget:
        markdown = split_markdown(markdown, budget - size(TRUNCATED))[0] + TRUNCATED
    return f"{head}\n{markdown}{footer}"


def _ours(issue: dict[str, Any], scope: Scope) -> bool:
    body = issue.get("body")
    # The issues endpoint lists pull requests too.
    return ("pull_request" not in issue and isinstance(body, str)
            and body.split("\n", 1)[0].rstrip("\r") == marker(scope))


def _open_drift_issues(client: GitHubClient, scope: Scope) -> list[dict[str, Any]]:
    issues = [issue for issue in client.paged(client.repo_path("issues"),
                                              {"state": "open", "labels": LABEL})
              if _ours(issue, scope)]
    return sorted(issues, key=lambda issue: issue["number"])


def _close(client: GitHubClient, number: int, comment: str, reason: str) -> None:
    client.request("POST", client.repo_path(f"issues/{number}/comments"),
                   json={"body": comment})
    client.request("PATCH", client.repo_path(f"issues/{number}"),
                   json={"state": "closed", "state_reason": reason})


def sync_issue(client: GitHubClient, markdown: str | None, scope: Scope = WHOLE) -> str:
    """Open, update or close `scope`'s drift issue; `markdown` None means live matches git
    in that scope."""
    issues = _open_drift_issues(client, scope)
    if markdown is None:
        for issue in issues:
            _close(client, issue["number"],
                   "Live matches git again: closing." + _run_note(client), "completed")
        return ("closed " + ", ".join(f"#{issue['number']}" for issue in issues)
                if issues else "nothing to do")
    body = issue_body(markdown, client, scope)
    if not issues:
        created = client.request("POST", client.repo_path("issues"),
                                 json={"title": title(scope), "body": body, "labels": [LABEL]})
        return f"opened #{created.json()['number']}"
    kept, *duplicates = issues
    for duplicate in duplicates:
        _close(client, duplicate["number"], f"Duplicate of #{kept['number']}.", "not_planned")
    if kept.get("body") != body:
        client.request("PATCH", client.repo_path(f"issues/{kept['number']}"),
                       json={"body": body})
    return f"updated #{kept['number']}"


def _run_note(client: GitHubClient) -> str:
    run_url = client.settings.run_url
    return f" ([workflow run]({run_url}))" if run_url else ""
