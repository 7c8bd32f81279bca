"""The terminal rendering: a Terraform-like diff, coloured only when asked."""

from collections.abc import Callable
from typing import Any

from reconciler.graph import printable
from reconciler.plan import Plan, ProjectPlan
from reconciler.render.ansi import Colour, style
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
    wording,
)
from reconciler.scope import Scope

Paint = Callable[..., str]

COLOURS: dict[str, Colour] = {"+": "green", "-": "red", "~": "yellow", "-/+": "magenta",
                              "*": "cyan", "^": "cyan"}


def _lines(line: Line, paint: Paint) -> list[str]:
    sign = paint(line.sign, fg=COLOURS[line.sign])
    if isinstance(line, Block):
        head = [f"      {sign} {line.title}" + (":" if line.yaml else "")] if line.title else []
        indent = "  " if line.title else ""
        return head + [f"      {sign} {indent}{text}" for text in line.yaml.split("\n") if text]
    if line.sign == "~":
        return [f"      {sign} {line.path}: {line.old} -> {line.new}"]
    return [f"      {sign} {line.path}: {line.new if line.sign == '+' else line.old}"]


def _preview(project: ProjectPlan, paint: Paint) -> list[str]:
    changing, _ = preview_changes(project)
    if not changing:
        return []
    lines = [f"  {preview_heading(project)}:"]
    for row in changing:
        environment, tag = preview_place(row)
        lines.append(f"      {paint('~', fg=COLOURS['~'])} {environment} / {tag}: "
                     f"{preview_policy(row.before)} -> {preview_policy(row.after)}")
    return lines


def _project(project: ProjectPlan, paint: Paint, label: bool) -> list[str]:
    facts = [f"{project.liveCount} live", f"{project.desiredCount} in git"]
    if (move := default_move(project)) is not None:
        facts.append(move)
    heading = f"Project {printable(project.project)}"
    if label:
        heading += f", {wording(project).title}"
    lines = [paint(heading, bold=True) + f" ({', '.join(facts)})"]
    for reason in project.refusals:
        lines.append(paint(f"  ! refused: {printable(reason)}", fg="red", bold=True))
    for blocked in project.blocked:
        lines.append(paint(f"  ! blocked: {blocked.action} {printable(blocked.key)}: "
                           f"{printable(blocked.reason)}", fg="red", bold=True))
        if blocked.flags:
            flags = ", ".join(printable(flag) for flag in blocked.flags)
            lines.append(paint(f"      flags in flight: {flags}", fg="red"))
    for step in project.steps:
        symbol = SYMBOLS[step.action]
        head = paint(f"{symbol} {step.action}", fg=COLOURS[symbol], bold=True)
        lines.append(f"  {head} {printable(step.key)}: {step_reason(step)}")
        for line in step_lines(project, step):
            lines += _lines(line, paint)
    lines += _preview(project, paint)
    lines += [paint(f"  note: {printable(f.key)}: {not_managed_note(f, printable)}", dim=True)
              for f in project.notManaged]
    if project.unmanaged:
        lines.append(paint(f"  note: not in git, kept: {kept(project)}", dim=True))
    return lines


def render_text(plan: Plan, *, color: bool, scope: Scope | None = None) -> str:
    """Per project a header, its refusals and blocked changes, its steps with their field
    changes, then Terraform's summary line. Deterministic: no timestamps. `scope` says
    which projects were asked for, for a plan that holds none."""

    def paint(text: str, **how: Any) -> str:
        return style(text, **how) if color else text

    lines: list[str] = []
    label = labelled(plan)
    for project in plan.projects:
        if (failure := failure_line(project)) is not None:
            lines.extend([paint(f"! {failure}", fg="red", bold=True), ""])
        elif has_news(project):
            lines.extend(_project(project, paint, label))
            lines.append("")
    lines.append(paint(summary_line(plan, scope), bold=True))
    if (problems := problems_line(plan)) is not None:
        lines.append(paint(problems, fg="red", bold=True))
    return "\n".join(lines)
