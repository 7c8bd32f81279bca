"""The Markdown rendering of a plan, for the PR comment.

A title and the summary table first, then per project its refusals, blocked changes and
unmanaged resources, then one collapsible section per step with the field diff and, for
created, updated and replaced resources of a kind that draws them, a Mermaid diagram
after the change with the changed parts highlighted, then the flag-level preview's rows
that change (a table). It never exceeds `limit` characters: diagrams go first, then steps
shrink to one line each (see `budget`).
"""

from reconciler.plan import Action, Plan, ProjectPlan, Step
from reconciler.render.budget import Piece, Shrinkable, fit
from reconciler.render.changes import (
    SYMBOLS,
    Block,
    Line,
    default_move,
    failure_line,
    has_news,
    kept,
    labelled,
    not_managed_note,
    preview_changes,
    preview_heading,
    preview_place,
    preview_policy,
    problems_line,
    step_lines,
    step_reason,
    summary_line,
    titles,
    wording,
)
from reconciler.render.counts import Counts, count_project
from reconciler.render.markup import code, details, fence, html_code, html_text, table, text
from reconciler.scope import Scope
from reconciler.words import plural

HEADER = ("project", "create", "update", "replace", "delete", "default", "blocked")
REORDER = "reorder"  # a column only in plans with a reorder
DRAWN = (Action.CREATE, Action.UPDATE, Action.REPLACE)


def title(plan: Plan) -> str:
    kinds = titles(plan)
    return f"## {kinds[0].upper()}{kinds[1:]} plan\n\n"


def _row(name: str, counts: Counts, reorders: bool) -> list[str]:
    numbers = [counts.creates, counts.updates, counts.replaces, counts.deletes,
               counts.default_changes, counts.blocked, *([counts.reorders] if reorders else [])]
    return [name, *(str(n) for n in numbers)]


def _project_cell(project: ProjectPlan, label: bool) -> str:
    return (code(project.project) + (f" ({wording(project).title})" if label else "")
            + (" (refused)" if project.refusals else "")
            + (" (not read)" if project.failure else ""))


def _head(plan: Plan, scope: Scope | None) -> list[str]:
    head = [title(plan), f"**{text(summary_line(plan, scope))}**\n\n"]
    if (problems := problems_line(plan)) is not None:
        head.append(f"> [!CAUTION]\n> {text(problems)}\n\n")
    counted = [(project, count_project(project)) for project in plan.projects]
    changing = [(project, counts) for project, counts in counted if counts.projects]
    if not changing:
        return head
    label = labelled(plan)
    reorders = any(counts.reorders for _, counts in changing)
    header = (*HEADER, REORDER) if reorders else HEADER
    rows = [_row(_project_cell(project, label), counts, reorders)
            for project, counts in changing]
    if len(rows) > 1:
        rows.append(_row("**total**", sum((counts for _, counts in changing), Counts()),
                         reorders))
    return [*head, *table(header, rows, numeric=len(header) - 1), "\n"]


def _diff(changes: list[Line]) -> str:
    lines = []
    for line in changes:
        if isinstance(line, Block):
            # A move has no side to colour: it starts with a space, as context does.
            sign = " " if line.sign == "~" else line.sign
            if line.title:
                lines.append(f"{sign} {line.title}" + (":" if line.yaml else ""))
            indent = "  " if line.title else ""
            lines += [f"{sign} {indent}{text}" for text in line.yaml.split("\n") if text]
            continue
        if line.sign != "+":
            lines.append(f"- {line.path}: {line.old}")
        if line.sign != "-":
            lines.append(f"+ {line.path}: {line.new}")
    return fence("\n".join(lines), "diff")


def _action(step: Step, in_html: bool = False) -> str:
    return (html_code if in_html else code)(f"{SYMBOLS[step.action]} {step.action}")


def _step(step: Step, project: ProjectPlan) -> Piece:
    """Three forms: the diff with a diagram, the diff alone, one line."""
    fields = step_lines(project, step)
    count = (f" ({plural(len(fields), 'change')})"
             if step.action in (Action.UPDATE, Action.REPLACE) else "")
    line = f"- {_action(step)} {code(step.key)}: {text(step_reason(step))}{count}\n\n"
    if step.action is Action.SET_DEFAULT:
        return line
    summary = (f"{_action(step, in_html=True)} <b>{html_text(step.key)}</b>: "
               f"{html_text(step_reason(step))}")
    diff = _diff(fields)
    plain = details(summary, diff)
    draw = wording(project).diagram
    if step.action not in DRAWN or step.after is None or draw is None:
        return Shrinkable((plain, plain, line))
    diagram = draw(step.after, [c.path for c in step.changes], project.defaultAfter == step.key)
    return Shrinkable((details(summary, f"{diff}\n{fence(diagram, 'mermaid')}"), plain, line))


def _preview(project: ProjectPlan) -> list[Piece]:
    changing, _ = preview_changes(project)
    if not changing:
        return []
    rows = [[*(text(place) for place in preview_place(row)), code(preview_policy(row.before)),
             code(preview_policy(row.after))] for row in changing]
    body = "".join(table(("environment", "flag tag", "before", "after"), rows))
    heading = preview_heading(project).capitalize()
    full = details(html_text(heading), body)
    return [Shrinkable((full, full, f"{text(heading)}.\n\n"))]


def _project(project: ProjectPlan, label: bool) -> list[Piece]:
    heading = f"### {code(project.project)}"
    if label:
        heading += f" {text(wording(project).title)}"
    if (failure := failure_line(project)) is not None:
        return [f"{heading}\n\n", f"**{text(failure)}**\n\n"]
    facts = [f"{project.liveCount} live", f"{project.desiredCount} in git"]
    if (move := default_move(project)) is not None:
        facts.append(move)
    pieces: list[Piece] = [f"{heading}\n\n", f"{text(', '.join(facts))}\n\n"]
    problems = [f"- **refused**: {text(reason)}\n" for reason in project.refusals]
    for blocked in project.blocked:
        flags = ", ".join(code(flag) for flag in blocked.flags)
        problems.append(f"- **blocked** {code(f'{blocked.action} {blocked.key}')}: "
                        f"{text(blocked.reason)}{f'; flags in flight: {flags}' if flags else ''}\n")
    if problems:
        pieces.extend([*problems, "\n"])
    if project.unmanaged:
        pieces.append(f"Not in git, kept: {text(kept(project))}\n\n")
    pieces += [f"{code(f.key)}: {text(not_managed_note(f, str))}\n\n" for f in project.notManaged]
    pieces.extend(_step(step, project) for step in project.steps)
    pieces += _preview(project)
    return pieces


def render_markdown(plan: Plan, *, limit: int = 65_000,
                    artifact_hint: str = "the JSON plan artifact",
                    scope: Scope | None = None) -> str:
    """The plan as GitHub Markdown of at most `limit` characters. `artifact_hint` (Markdown)
    says where the full plan is when something had to be left out; `scope` which
    projects were asked for, for a plan that holds none."""
    label = labelled(plan)
    body = [piece for project in plan.projects if has_news(project)
            for piece in _project(project, label)]
    notes = [
        "",
        f"Diagrams are left out: with them this plan would be longer than {limit:,} "
        "characters.",
        f"Some steps are shown as one line to keep this plan under {limit:,} characters; "
        f"every field change is in {artifact_hint}.",
    ]

    def cut_note(left_out: int) -> str:
        return (f"\n> This plan is too long to show here: the last {left_out} entries are left "
                f"out. The whole plan is in {artifact_hint}.\n")

    return fit(_head(plan, scope), body, limit=limit, notes=notes, cut_note=cut_note)
