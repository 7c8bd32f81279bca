"""The Markdown drift report, for the drift issue: a plan's steps read as drift.

Which resources differ and how (a table, always kept), then per changed resource a
collapsible table of its fields with the live value beside the git value. Field tables
are left out, last ones first, when the report would exceed `limit` characters.
"""

from reconciler.plan import Action, Plan, ProjectPlan, Step
from reconciler.render.budget import Piece, Shrinkable, fit
from reconciler.render.changes import (
    Block,
    Line,
    failure_line,
    kept,
    not_managed_note,
    nouns,
    per_kind,
    preview_changes,
    preview_heading,
    ranking,
    step_lines,
    titles,
    wording,
)
from reconciler.render.counts import count_project
from reconciler.render.markup import code, details, html_code, html_text, table, text
from reconciler.scope import WHOLE, Scope
from reconciler.words import listing, plural

NOTHING_SELECTED = "## Nothing to compare\n\n"
ABSENT = "(absent)"


def title(plan: Plan) -> str:
    return f"## Live {titles(plan)} differ from git\n\n"


def in_sync(plan: Plan) -> str:
    return f"## No drift\n\nLive {titles(plan)} match git.\n\n"


def _what(step: Step, project: ProjectPlan) -> str:
    differences = len(step_lines(project, step))
    if step.action is Action.CREATE:
        return "in git, missing in LaunchDarkly"
    if step.action is Action.DELETE:
        return "only in LaunchDarkly; prune would delete it"
    if step.action is Action.SET_DEFAULT:
        return f"should be the project default (live default: {project.defaultBefore or 'none'})"
    if step.action is Action.REORDER:
        return (f"ranked differently: live {ranking(project.orderBefore)}; "
                f"git {ranking(step.order or [])}")
    differ = plural(differences, "difference")
    if step.action is Action.REPLACE:
        return f"{differ}; isLegacy is create-only, so a replace"
    return differ


def _row(line: Line) -> list[str]:
    """A field, or a whole phase or audience, live beside git."""
    if isinstance(line, Block):
        live = code(line.value) if line.value is not None and line.sign == "-" else ABSENT
        git = code(line.value) if line.value is not None and line.sign == "+" else ABSENT
        if line.sign == "~":
            live, git = "", ""
        return [text(line.title or ""), live, git]
    return [code(line.path), code(line.old) if line.old is not None else ABSENT,
            code(line.new) if line.new is not None else ABSENT]


def _fields(step: Step, project: ProjectPlan) -> str:
    rows = [_row(line) for line in step_lines(project, step)]
    summary = (f"{html_code(project.project)} / <b>{html_text(step.key)}</b>: "
               f"{html_text(_what(step, project))}")
    return details(summary, "".join(table(("field", "live", "git"), rows)))


def _rows(plan: Plan) -> tuple[list[list[str]], list[str], list[Piece]]:
    """Summary rows (one per resource, one per ranking), project notes (refusals,
    unmanaged, the flags whose policy would change) and field sections."""
    rows: list[list[str]] = []
    notes: list[str] = []
    sections: list[Piece] = []
    for project in plan.projects:
        drifts: dict[str, list[str]] = {}  # resource -> what differs, in step order
        for step in project.steps:
            drifts.setdefault(step.key, []).append(_what(step, project))
            if step.action in (Action.UPDATE, Action.REPLACE):
                sections.append(Shrinkable((_fields(step, project), "")))
        for blocked in project.blocked:
            flags = ", ".join(blocked.flags)
            drifts.setdefault(blocked.key, []).append(
                f"differs, but {blocked.action} is blocked"
                f"{f' (flags in flight: {flags})' if flags else ''}")
        rows += [[code(project.project), code(key), text("; ".join(what))]
                 for key, what in drifts.items()]
        notes += [f"- {code(project.project)} could not be compared: {text(reason)}\n"
                  for reason in project.refusals]
        if (failure := failure_line(project)) is not None:
            notes.append(f"- {code(project.project)}: {text(failure)}\n")
        notes += [f"- {code(project.project)} / {code(f.key)}: {text(not_managed_note(f, str))}\n"
                  for f in project.notManaged]
        if project.unmanaged:
            notes.append(f"- {code(project.project)}: only in LaunchDarkly, kept: "
                         f"{text(kept(project))}\n")
        if preview_changes(project)[0]:
            notes.append(f"- {code(project.project)}: {text(preview_heading(project))}; "
                         "`reconciler plan` shows which\n")
    return rows, notes, sections


def render_drift_markdown(plan: Plan, *, limit: int = 65_000,
                          scope: Scope | None = None) -> str:
    """Which resources drifted, which fields, live vs git, in at most `limit` characters.
    `scope` says which projects were asked for, for a plan that holds none."""
    rows, notes, sections = _rows(plan)
    per_project = [count_project(project) for project in plan.projects]
    differ = sum(counts.differ + counts.reorders for counts in per_project)
    if not plan.projects:
        why = (scope or WHOLE).empty_message()
        head = [NOTHING_SELECTED, f"{text(why[0].upper() + why[1:])}.\n\n"]
    elif differ:
        projects = len({project.project for project, counts in zip(plan.projects, per_project,
                                                                    strict=True)
                        if counts.differ or counts.reorders})
        what = listing([
            *per_kind(plan, lambda c: c.differ, lambda w: (w.noun, w.nouns)),
            *per_kind(plan, lambda c: c.reorders,
                      lambda w: (f"{w.noun} ranking", f"{w.noun} rankings"))])
        column = " / ".join(dict.fromkeys(wording(p).noun for p in plan.projects))
        head = [title(plan), f"{what} in {plural(projects, 'project')} "
                             f"{'differs' if differ == 1 else 'differ'} from git "
                             f"(plan digest {plan.digest[:12]}).\n\n",
                *table(("project", column, "drift"), rows), "\n"]
    elif any(p.refusals or p.failure for p in plan.projects):
        head = [title(plan)]
    else:
        head = [in_sync(plan)]
    if notes:
        head += [*notes, "\n"]
    return fit(head, sections, limit=limit, notes=[
        "",
        f"Field tables are left out for some {nouns(plan)} to keep this report under {limit:,} "
        "characters; `reconciler plan` shows every field.",
    ], cut_note=lambda left_out: (
        f"\n> This report is too long to show here: the last {left_out} entries are left out; "
        "`reconciler plan` shows everything.\n"))
