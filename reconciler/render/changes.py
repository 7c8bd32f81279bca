"""What a plan says, as people read it: summary lines, kept resources, step lines and the
flag-level preview (shared by the text, Markdown and drift renderers). A kind's resources
are named and shown only through its Wording (reconciler.kinds)."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.diff import pointer
from reconciler.graph import printable
from reconciler.kinds import Wording
from reconciler.kinds.registry import KINDS, kind_named, kinds_in
from reconciler.normalize import pairs_by_name
from reconciler.plan import Action, NotManaged, Plan, PreviewRow, ProjectPlan, Step
from reconciler.render.counts import Counts, count_by_kind, count_plan
from reconciler.scope import WHOLE, Scope
from reconciler.words import listing, plural

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.SET_DEFAULT: "*",
    Action.REORDER: "^",
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


@dataclass(frozen=True)
class Block:
    """A whole pipeline, phase or audience added (`+`), removed (`-`) or moved (`~`), with
    its YAML as a pipeline file would say it. `title` is None for a whole pipeline."""

    sign: str
    title: str | None
    yaml: str = ""
    value: str | None = None  # the item as one line of JSON, for a table cell


Line = FieldLine | Block


def wording(project: ProjectPlan) -> Wording:
    return kind_named(project.kind).wording


def labelled(plan: Plan) -> bool:
    """Whether each project's heading names its kind: unless the plan holds only the first
    kind (a plan of pipelines alone reads as it did before kinds)."""
    return kinds_in(p.kind for p in plan.projects) != [KINDS[0]]


def titles(plan: Plan) -> str:
    """The kinds a plan holds, for a heading: "release pipelines and release policies"."""
    return listing([kind.wording.title for kind in kinds_in(p.kind for p in plan.projects)])


def nouns(plan: Plan) -> str:
    """The kinds a plan holds, as plain nouns: "pipelines and policies"."""
    return listing([kind.wording.nouns for kind in kinds_in(p.kind for p in plan.projects)])


def per_kind(plan: Plan, count: Callable[[Counts], int],
             forms: Callable[[Wording], tuple[str, str]]) -> list[str]:
    """A count said per kind, kinds with none left out: ["1 pipeline", "2 policies"].
    `forms` gives a kind's noun for one and for several."""
    return [plural(count(counts), *forms(kind_named(name).wording))
            for name, counts in count_by_kind(plan) if count(counts)]


def _yaml_text(text: str) -> str:
    return "\n".join(printable(line) for line in text.rstrip("\n").split("\n"))


def _match(old: list[Any], new: list[Any]) -> list[tuple[int | None, int | None]]:
    """Pairs (old index, new index) by name: the k-th item of a name in `old` pairs with the
    k-th of that name in `new`. Then an unpaired item pairs with an unpaired one at the same
    index (a rename); any other pairs with None. In new order, then the removed ones."""
    partner = dict(pairs_by_name(new, old))
    unpaired = set(range(len(old))) - set(partner.values())
    for index in range(len(new)):
        if index not in partner and index in unpaired:
            partner[index] = index
            unpaired.discard(index)
    return [(partner.get(index), index) for index in range(len(new))] + [
        (index, None) for index in sorted(unpaired)]


def _in_order(indexes: list[int]) -> set[int]:
    """A longest increasing subsequence of `indexes`: the items that kept their order, so
    only the others are reported as moved (a swap of two is one move, not two)."""
    best: list[list[int]] = []  # best[i]: the longest run ending at indexes[i]
    for i, index in enumerate(indexes):
        before = [best[j] for j in range(i) if indexes[j] < index]
        best.append([*max(before, key=len, default=[]), index])
    return set(max(reversed(best), key=len, default=[]))  # ties: the later run


def _named_list(path: str, part: tuple[str, Callable[[Any], str]], old: list[Any],
                new: list[Any], where: str, words: Wording) -> list[Line]:
    noun, part_yaml = part
    pairs = _match(old, new)
    stayed = _in_order([o for o, n in pairs if o is not None and n is not None])
    lines: list[Line] = []
    for old_index, new_index in pairs:
        if new_index is None:
            lines.append(Block("-", f"{noun} {json_value(old[old_index].get('name'))}{where} "
                                    f"removed (was at {old_index})",
                               _yaml_text(part_yaml(old[old_index])), json_value(old[old_index])))
            continue
        item = new[new_index]
        name = json_value(item.get("name"))
        if old_index is None:
            lines.append(Block("+", f"{noun} {name}{where} inserted at {new_index}",
                               _yaml_text(part_yaml(item)), json_value(item)))
            continue
        if old_index not in stayed:
            lines.append(Block("~", f"{noun} {name}{where} moved from {old_index} to "
                                    f"{new_index}"))
        lines += _fields(f"{path}/{new_index}", old[old_index], item, words,
                         f" in {noun} {name}")
    return lines


def _fields(path: str, old: Any, new: Any, words: Wording, where: str = "") -> list[Line]:
    """The differences between two values: mappings field by field, named lists matched by
    name, other lists and scalars as whole values."""
    if old == new:
        return []
    if isinstance(old, dict) or isinstance(new, dict):
        old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
        lines: list[Line] = []
        for key in [*new, *(key for key in old if key not in new)]:
            child = path + pointer((key,))
            if key in words.parts and isinstance(old.get(key, []), list) \
                    and isinstance(new.get(key, []), list):
                lines += _named_list(child, words.parts[key], old.get(key, []),
                                     new.get(key, []), where, words)
            elif key not in old:
                if not _is_empty(new[key]):
                    lines.append(FieldLine("+", printable(child), new=json_value(new[key])))
            elif key not in new:
                if not _is_empty(old[key]):
                    lines.append(FieldLine("-", printable(child), old=json_value(old[key])))
            elif isinstance(old[key], dict) or isinstance(new[key], dict):
                lines += _fields(child, old[key], new[key], words, where)
            elif key in words.positional and isinstance(old[key], list) \
                    and isinstance(new[key], list) and len(old[key]) == len(new[key]):
                for index, (was, now) in enumerate(zip(old[key], new[key], strict=True)):
                    lines += _fields(f"{child}/{index}", was, now, words, where)
            elif old[key] != new[key]:
                lines.append(FieldLine("~", printable(child), old=json_value(old[key]),
                                       new=json_value(new[key])))
        return lines
    return [FieldLine("~", printable(path), old=json_value(old), new=json_value(new))]


def _is_empty(value: Any) -> bool:
    return isinstance(value, dict | list) and not value


def ranking(keys: list[str]) -> str:
    return ", ".join(printable(key) for key in keys) or "(none)"


def step_lines(project: ProjectPlan, step: Step) -> list[Line]:
    """What a step changes, as people read it: a created or deleted resource as the YAML
    of its file; an update or replace field by field, with named lists (a pipeline's
    phases and audiences) matched by name (an inserted phase is one insertion, not a
    change at every later index); a reorder as the ranking before and after it. The JSON
    plan's `changes` stay pointer by pointer for tools."""
    words = wording(project)
    if step.action is Action.CREATE and step.after is not None:
        return [Block("+", None, _yaml_text(words.document(step.after, step.makeDefault)))]
    if step.action is Action.DELETE and step.before is not None:
        return [Block("-", None, _yaml_text(words.document(step.before, False)))]
    if step.action is Action.SET_DEFAULT:
        return []
    if step.action is Action.REORDER:
        return [FieldLine("~", "order", old=ranking(project.orderBefore),
                          new=ranking(step.order or []))]
    return _fields("", step.before or {}, step.after or {}, words)


def kept(project: ProjectPlan) -> str:
    """The live resources with no file that stay, each with why: "a (prune is off), b
    (protected)"."""
    blocked = {b.key for b in project.blocked if b.action is Action.DELETE}

    def why(key: str) -> str:
        if (default_kept := wording(project).default_kept) and key == project.defaultAfter:
            return default_kept
        if key in blocked:
            return "blocked: active releases"
        return "protected" if key in project.protected else "prune is off"

    return ", ".join(f"{printable(key)} ({why(key)})" for key in project.unmanaged)


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


def summary_line(plan: Plan, scope: Scope | None = None) -> str:
    """Terraform's closing line: what the plan does, and its digest."""
    if not plan.projects:
        return f"Nothing to plan: {(scope or WHOLE).empty_message()}."
    counts = count_plan(plan)
    if not counts.projects:
        return NO_CHANGES
    reorders = f", {plural(counts.reorders, 'reorder')}" if counts.reorders else ""
    return (f"Plan: {counts.creates} to create, {counts.updates} to update, "
            f"{counts.replaces} to replace, {counts.deletes} to delete, "
            f"{plural(counts.default_changes, 'default change')}{reorders}. "
            f"digest {plan.digest[:12]}")


def problems_line(plan: Plan) -> str | None:
    """Why the plan cannot be applied as it is, if it cannot."""
    counts = count_plan(plan)
    parts = []
    if counts.blocked:
        blocked = per_kind(plan, lambda c: c.blocked,
                           lambda w: (f"{w.noun} change", f"{w.noun} changes"))
        parts.append(f"{listing(blocked)} blocked")
    if counts.refused:
        parts.append(f"{plural(counts.refused, 'project')} refused")
    if counts.unread:
        parts.append(f"{plural(counts.unread, 'project')} not read")
    if not parts:
        return None
    return f"Not applicable: {' and '.join(parts)}; nothing will be applied until this is resolved."


def preview_place(row: PreviewRow) -> tuple[str, str]:
    """A preview row's environment and flag tag; None (not named by any scope) in words."""
    return (printable(row.environment) if row.environment is not None
            else "(other environments)",
            printable(row.flagTag) if row.flagTag is not None else "(other tags)")


def preview_policy(key: str | None) -> str:
    return printable(key) if key is not None else "(none)"


def preview_changes(project: ProjectPlan) -> tuple[list[PreviewRow], int]:
    """The preview rows whose applying resource changes, and how many rows stay."""
    changing = [row for row in project.preview if row.before != row.after]
    return changing, len(project.preview) - len(changing)


def preview_heading(project: ProjectPlan) -> str:
    """What the preview's changing rows are, and how many rows stay."""
    changing, staying = preview_changes(project)
    return (f"preview, the {wording(project).noun} a flag gets by environment / flag tag: "
            f"{len(changing)} {'changes' if len(changing) == 1 else 'change'}, "
            f"{staying} {'stays' if staying == 1 else 'stay'}")
