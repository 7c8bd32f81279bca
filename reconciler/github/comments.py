"""The plan as ONE comment per pull request and scope, updated in place on every push.

Each part of the comment starts with a hidden marker carrying its scope and part number,
so a later run finds its own comments among the discussion and edits them instead of
adding more (the comment spam users of octodns-sync and Atlantis complain about), and the
shards of a matrix never edit each other's. A plan too long for one comment is split into
numbered parts; parts left over from a longer plan are deleted.
"""

import re
from typing import Any

from reconciler.github.client import GitHubClient, PullRequest
from reconciler.github.markdown import size, split_markdown
from reconciler.scope import WHOLE, Scope
from reconciler.words import plural

COMMENT_LIMIT = 65_536  # GitHub: "Body is too long (maximum is 65536 characters)"
# The whole repository's marker is the one version 0.1 wrote, so its comments are kept.
MARKER = "<!-- reconciler:plan part {part} -->"
SCOPED_MARKER = "<!-- reconciler:plan scope={scope} part {part} -->"
MARKER_PATTERN = re.compile(r"<!-- reconciler:plan (?:scope=([A-Za-z0-9._+-]+) )?part (\d+) -->")
# Past this many parts the rest is left to the log and the artifact: a wall of comments
# helps no reviewer.
MAX_PARTS = 10
TRUNCATED = (f"\n\n---\n**The plan is longer than {MAX_PARTS} comments: the rest is in the "
             "workflow log and the JSON plan artifact.**\n")


def _header(scope: Scope, part: int, parts: int) -> str:
    marker = (SCOPED_MARKER.format(scope=scope.key, part=part) if not scope.whole
              else MARKER.format(part=part))
    heading = "Plan" + (f" for {scope.label}" if not scope.whole else "")
    if parts > 1:
        heading += f", part {part} of {parts}"
    heading = f"**{heading}**\n\n" if heading != "Plan" else ""
    return marker + "\n" + heading


def _footer(pull: PullRequest, run_url: str | None) -> str:
    facts = []
    if pull.head_sha:
        facts.append(f"commit {pull.head_sha[:12]}")
    if run_url:
        facts.append(f"[workflow run]({run_url})")
    return f"\n\n<sub>reconciler plan for {', '.join(facts)}</sub>\n" if facts else ""


def comment_bodies(markdown: str, pull: PullRequest, run_url: str | None,
                   scope: Scope = WHOLE) -> list[str]:
    """The bodies of the comment's parts, each within GitHub's limit."""
    footer = _footer(pull, run_url)
    widest = _header(scope, MAX_PARTS, MAX_PARTS)
    budget = COMMENT_LIMIT - size(widest) - size(footer) - size(TRUNCATED)
    chunks = split_markdown(markdown, budget)
    truncated = len(chunks) > MAX_PARTS
    chunks = chunks[:MAX_PARTS]
    bodies = [_header(scope, number, len(chunks)) + chunk
              for number, chunk in enumerate(chunks, start=1)]
    bodies[-1] += (TRUNCATED if truncated else "") + footer
    return bodies


def _part_number(comment: dict[str, Any], scope: Scope) -> int | None:
    """The part number of one of `scope`'s comments; None for any other comment."""
    body = comment.get("body")
    match = MARKER_PATTERN.match(body) if isinstance(body, str) else None
    if match is None or (match.group(1) or "") != scope.key:
        return None
    return int(match.group(2))


def stale_markdown(scope: Scope, errors: int, files: int, run_url: str | None) -> str:
    """What the plan comment says while the files fail validation: a plan from an older
    commit must never look like the plan of this one."""
    where = f" in the [workflow run]({run_url})" if run_url else " in the workflow run"
    whose = f" for {scope.label}" if not scope.whole else ""
    failing = f"{plural(errors, 'error')} in {plural(files, 'file')}"
    return ("## Release pipelines plan\n\n"
            f"> [!WARNING]\n> **Out of date: no current plan{whose}.** The pipeline files of "
            f"this commit fail validation ({failing}), so nothing was planned. The errors are "
            f"annotations on the files (see *Files changed*) and are listed{where}. "
            "Fix them and push: the plan comes back here.\n")


def upsert_plan_comment(client: GitHubClient, pull: PullRequest, markdown: str,
                        scope: Scope = WHOLE) -> str:
    """Make the pull request's plan comment for `scope` say `markdown`; returns what was
    done. Other scopes' comments are never touched."""
    comments_path = client.repo_path(f"issues/{pull.number}/comments")
    existing: dict[int, dict[str, Any]] = {}
    surplus: list[dict[str, Any]] = []
    for comment in client.paged(comments_path, {}):
        number = _part_number(comment, scope)
        if number is None:
            continue
        if number in existing:
            surplus.append(comment)  # two concurrent runs both created this part
        else:
            existing[number] = comment
    bodies = comment_bodies(markdown, pull, client.settings.run_url, scope)
    created = updated = 0
    for number, body in enumerate(bodies, start=1):
        comment = existing.pop(number, None)
        if comment is None:
            client.request("POST", comments_path, json={"body": body})
            created += 1
        elif comment.get("body") != body:
            client.request("PATCH", client.repo_path(f"issues/comments/{comment['id']}"),
                           json={"body": body})
            updated += 1
    surplus.extend(existing.values())
    for comment in surplus:
        client.request("DELETE", client.repo_path(f"issues/comments/{comment['id']}"))
    whose = f" ({scope.label})" if not scope.whole else ""
    return (f"pull request #{pull.number}: plan comment{whose} in {plural(len(bodies), 'part')}, "
            f"{created} created, {updated} updated, {len(surplus)} deleted")
