"""What a plan says, in counts and field lines: shared by the text and Markdown renderers."""

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.diff import pointer
from reconciler.graph import printable
from reconciler.plan import Action, NotManaged, Plan, ProjectPlan, Step

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.SET_DEFAULT: "*",
}
NO_CHANGES = "No changes. Live matches git."


def json_value(value: Any) -> str:
    """A value as one line of JSON, with hidden characters escaped."""
    return printable(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True)
class FieldLine:
    """One field of a step: `+` added (new only), `-` removed (old only), `~` changed."""

    sign: str
    path: str
    old: str | None = None
    new: str | None = None


def _is_tree(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _is_empty(value: Any) -> bool:
    return isinstance(value, dict | list) and not value


def _leaves(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    # A whole pipeline, phase or audience added or removed reads better field by field.
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(path + pointer((key,)), item)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(f"{path}/{index}", item)
    else:
        yield path, value


def field_lines(step: Step) -> list[FieldLine]:
    """The fields a step changes; for a delete, every field of the live pipeline."""
    if step.action is Action.DELETE:
        return [FieldLine("-", printable(path), old=json_value(value))
                for path, value in _leaves("", step.before or {})]
    lines: list[FieldLine] = []
    for change in step.changes:
        with_old, with_new = change.kind != "added", change.kind != "removed"
        if change.kind == "changed":
            if not (_is_tree(change.old) or _is_tree(change.new)):
                lines.append(FieldLine("~", printable(change.path), old=json_value(change.old),
                                       new=json_value(change.new)))
                continue
            # A container replaced whole (a create is {} -> the pipeline, at the root):
            # what it held is removed and what it holds is added; an empty side is absent.
            with_old, with_new = not _is_empty(change.old), not _is_empty(change.new)
        if with_old:
            lines += [FieldLine("-", printable(path), old=json_value(value))
                      for path, value in _leaves(change.path, change.old)]
        if with_new:
            lines += [FieldLine("+", printable(path), new=json_value(value))
                      for path, value in _leaves(change.path, change.new)]
    return lines


def step_reason(step: Step) -> str:
    reason = printable(step.reason)
    if step.makeDefault:
        reason += "; it becomes the project default"
    return reason


def has_news(project: ProjectPlan) -> bool:
    """Whether a project has anything to show: quiet projects are left out of renderings."""
    return bool(project.steps or project.blocked or project.refusals or project.unmanaged
                or project.failure or project.notManaged)


def failure_line(project: ProjectPlan) -> str | None:
    """The one line that a project whose live state could not be read gets."""
    if project.failure is None:
        return None
    return (f"{printable(project.failure.folder)} not planned: live could not be read: "
            f"{printable(project.failure.reason)}")


def not_managed_note(fields: NotManaged, show: Callable[[str], str]) -> str:
    """The fields of a pipeline that git cannot name, each shown with `show`."""
    note = f"not managed by git: {', '.join(show(f) for f in fields.fields)}"
    if fields.dropped:
        note += (f"; dropped, as git removes or renames their phase or audience: "
                 f"{', '.join(show(f) for f in fields.dropped)}")
    return note


def default_move(project: ProjectPlan) -> str | None:
    before, after = project.defaultBefore, project.defaultAfter
    if before == after:
        return f"default {printable(before)}" if before else None
    return f"default {printable(before or '(none)')} -> {printable(after or '(none)')}"


def action_counts(steps: list[Step]) -> Counter[Action]:
    return Counter(step.action for step in steps)


def summary_line(plan: Plan) -> str:
    """Terraform's closing line: what the plan does, and its digest."""
    if not any(p.steps or p.blocked or p.refusals or p.failure for p in plan.projects):
        return NO_CHANGES
    counts = action_counts([s for p in plan.projects for s in p.steps])
    defaults = counts[Action.SET_DEFAULT]
    return (f"Plan: {counts[Action.CREATE]} to create, {counts[Action.UPDATE]} to update, "
            f"{counts[Action.REPLACE]} to replace, {counts[Action.DELETE]} to delete, "
            f"{defaults} default change{'' if defaults == 1 else 's'}. "
            f"digest {plan.digest[:12]}")


def problems_line(plan: Plan) -> str | None:
    """Why the plan cannot be applied as it is, if it cannot."""
    blocked = sum(len(p.blocked) for p in plan.projects)
    refused = sum(1 for p in plan.projects if p.refusals)
    unread = len(plan.failed)
    if not blocked and not refused and not unread:
        return None
    parts = []
    if blocked:
        parts.append(f"{blocked} pipeline change{'' if blocked == 1 else 's'} blocked")
    if refused:
        parts.append(f"{refused} project{'' if refused == 1 else 's'} refused")
    if unread:
        parts.append(f"{unread} project{'' if unread == 1 else 's'} not read")
    return f"Not applicable: {' and '.join(parts)}; nothing will be applied until this is resolved."
