"""The plan as ONE comment per pull request, updated in place on every push.

Each part of the comment starts with a hidden marker carrying its part number, so a later
run finds its own comments among the discussion and edits them instead of adding more
(the comment spam users of octodns-sync and Atlantis complain about). A plan too long for
one comment is split into numbered parts; parts left over from a longer plan are deleted.
"""

import re
from typing import Any

from reconciler.github.client import GitHubClient, PullRequest
from reconciler.github.markdown import size, split_markdown

COMMENT_LIMIT = 65_536  # GitHub: "Body is too long (maximum is 65536 characters)"
MARKER = "<!-- reconciler:plan part {part} -->"
MARKER_PATTERN = re.compile(r"<!-- reconciler:plan part (\d+) -->")
# Past this many parts the rest is left to the log and the artifact: a wall of comments
# helps no reviewer.
MAX_PARTS = 10
TRUNCATED = (f"\n\n---\n**The plan is longer than {MAX_PARTS} comments: the rest is in the "
             "workflow log and the JSON plan artifact.**\n")


def _header(part: int, parts: int) -> str:
    heading = f"**Plan, part {part} of {parts}**\n\n" if parts > 1 else ""
    return MARKER.format(part=part) + "\n" + heading


def _footer(pull: PullRequest, run_url: str | None) -> str:
    facts = []
    if pull.head_sha:
        facts.append(f"commit {pull.head_sha[:12]}")
    if run_url:
        facts.append(f"[workflow run]({run_url})")
    return f"\n\n<sub>reconciler plan for {', '.join(facts)}</sub>\n" if facts else ""


def comment_bodies(markdown: str, pull: PullRequest, run_url: str | None) -> list[str]:
    """The bodies of the comment's parts, each within GitHub's limit."""
    footer = _footer(pull, run_url)
    widest = _header(MAX_PARTS, MAX_PARTS)
    budget = COMMENT_LIMIT - size(widest) - size(footer) - size(TRUNCATED)
    chunks = split_markdown(markdown, budget)
    truncated = len(chunks) > MAX_PARTS
    chunks = chunks[:MAX_PARTS]
    bodies = [_header(number, len(chunks)) + chunk
              for number, chunk in enumerate(chunks, start=1)]
    bodies[-1] += (TRUNCATED if truncated else "") + footer
    return bodies


def _part_number(comment: dict[str, Any]) -> int | None:
    body = comment.get("body")
    match = MARKER_PATTERN.match(body) if isinstance(body, str) else None
    return int(match.group(1)) if match else None


def upsert_plan_comment(client: GitHubClient, pull: PullRequest, markdown: str) -> str:
    """Make the pull request's plan comment say `markdown`; returns what was done."""
    comments_path = client.repo_path(f"issues/{pull.number}/comments")
    existing: dict[int, dict[str, Any]] = {}
    surplus: list[dict[str, Any]] = []
    for comment in client.paged(comments_path, {}):
        number = _part_number(comment)
        if number is None:
            continue
        if number in existing:
            surplus.append(comment)  # two concurrent runs both created this part
        else:
            existing[number] = comment
    bodies = comment_bodies(markdown, pull, client.settings.run_url)
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
    return (f"pull request #{pull.number}: plan comment in {len(bodies)} part(s), "
            f"{created} created, {updated} updated, {len(surplus)} deleted")
