"""The terminal rendering: a Terraform-like diff, coloured only when asked."""

from collections.abc import Callable
from typing import Any

import click

from reconciler.graph import printable
from reconciler.plan import Action, Plan, ProjectPlan
from reconciler.render.changes import (
    SYMBOLS,
    FieldLine,
    default_move,
    failure_line,
    field_lines,
    has_news,
    not_managed_note,
    problems_line,
    step_reason,
    summary_line,
)

Paint = Callable[..., str]

COLOURS = {"+": "green", "-": "red", "~": "yellow", "-/+": "magenta", "*": "cyan"}


def _field(line: FieldLine, paint: Paint) -> str:
    sign = paint(line.sign, fg=COLOURS[line.sign])
    if line.sign == "~":
        return f"      {sign} {line.path}: {line.old} -> {line.new}"
    return f"      {sign} {line.path}: {line.new if line.sign == '+' else line.old}"


def _project(project: ProjectPlan, paint: Paint) -> list[str]:
    facts = [f"{project.liveCount} live", f"{project.desiredCount} in git"]
    if (move := default_move(project)) is not None:
        facts.append(move)
    lines = [paint(f"Project {printable(project.project)}", bold=True) + f" ({', '.join(facts)})"]
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
        if step.action is not Action.SET_DEFAULT:
            lines.extend(_field(line, paint) for line in field_lines(step))
    lines += [paint(f"  note: {printable(f.key)}: {not_managed_note(f, printable)}", dim=True)
              for f in project.notManaged]
    if project.unmanaged:
        kept = ", ".join(printable(key) for key in project.unmanaged)
        lines.append(paint(f"  note: not in git, kept (prune is off or a delete is blocked): "
                           f"{kept}", dim=True))
    return lines


def render_text(plan: Plan, *, color: bool) -> str:
    """Per project a header, its refusals and blocked changes, its steps with their field
    changes, then Terraform's summary line. Deterministic: no timestamps."""

    def paint(text: str, **style: Any) -> str:
        return click.style(text, **style) if color else text

    lines: list[str] = []
    for project in plan.projects:
        if (failure := failure_line(project)) is not None:
            lines.extend([paint(f"! {failure}", fg="red", bold=True), ""])
        elif has_news(project):
            lines.extend(_project(project, paint))
            lines.append("")
    lines.append(paint(summary_line(plan), bold=True))
    if (problems := problems_line(plan)) is not None:
        lines.append(paint(problems, fg="red", bold=True))
    return "\n".join(lines)
