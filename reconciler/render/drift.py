"""The Markdown drift report, for the drift issue: a plan's steps read as drift.

Which pipelines differ and how (a table, always kept), then per changed pipeline a
collapsible table of its fields with the live value beside the git value. Field tables
are left out, last ones first, when the report would exceed `limit` characters.
"""

from reconciler.plan import Action, Plan, ProjectPlan, Step
from reconciler.render.budget import Piece, Shrinkable, fit
from reconciler.render.changes import failure_line, field_lines, not_managed_note
from reconciler.render.markup import code, details, table, text

TITLE = "## Live release pipelines differ from git\n\n"
IN_SYNC = "## No drift\n\nLive release pipelines match git.\n\n"
ABSENT = "(absent)"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _what(step: Step, project: ProjectPlan) -> str:
    fields = len(field_lines(step))
    if step.action is Action.CREATE:
        return "in git, missing in LaunchDarkly"
    if step.action is Action.DELETE:
        return "only in LaunchDarkly; prune would delete it"
    if step.action is Action.SET_DEFAULT:
        return f"should be the project default (live default: {project.defaultBefore or 'none'})"
    differ = f"{_plural(fields, 'field')} {'differs' if fields == 1 else 'differ'}"
    if step.action is Action.REPLACE:
        return f"{differ}; isLegacy is create-only, so a replace"
    return differ


def _fields(step: Step, project: ProjectPlan) -> str:
    rows = [[code(line.path), code(line.old) if line.old is not None else ABSENT,
             code(line.new) if line.new is not None else ABSENT]
            for line in field_lines(step)]
    summary = f"{code(project.project)} / <b>{text(step.key)}</b>: {text(_what(step, project))}"
    return details(summary, "".join(table(("field", "live", "git"), rows)))


def _rows(plan: Plan) -> tuple[list[list[str]], list[str], list[Piece]]:
    """Summary rows, project notes (refusals, unmanaged) and field sections."""
    rows: list[list[str]] = []
    notes: list[str] = []
    sections: list[Piece] = []
    for project in plan.projects:
        for step in project.steps:
            rows.append([code(project.project), code(step.key), text(_what(step, project))])
            if step.action in (Action.UPDATE, Action.REPLACE):
                sections.append(Shrinkable((_fields(step, project), "")))
        for blocked in project.blocked:
            flags = ", ".join(blocked.flags)
            rows.append([code(project.project), code(blocked.key),
                         text(f"differs, but {blocked.action} is blocked"
                              f"{f' (flags in flight: {flags})' if flags else ''}")])
        notes += [f"- {code(project.project)} could not be compared: {text(reason)}\n"
                  for reason in project.refusals]
        if (failure := failure_line(project)) is not None:
            notes.append(f"- {code(project.project)}: {text(failure)}\n")
        notes += [f"- {code(project.project)} / {code(f.key)}: {text(not_managed_note(f, str))}\n"
                  for f in project.notManaged]
        if project.unmanaged:
            kept = ", ".join(code(key) for key in project.unmanaged)
            notes.append(f"- {code(project.project)}: only in LaunchDarkly and not managed "
                         f"here: {kept}\n")
    return rows, notes, sections


def render_drift_markdown(plan: Plan, *, limit: int = 65_000) -> str:
    """Which pipelines drifted, which fields, live vs git, in at most `limit` characters."""
    rows, notes, sections = _rows(plan)
    if rows:
        projects = len({row[0] for row in rows})
        head = [TITLE, f"{_plural(len(rows), 'pipeline')} in {_plural(projects, 'project')} "
                       f"differ from git (plan digest {plan.digest[:12]}).\n\n",
                *table(("project", "pipeline", "drift"), rows), "\n"]
    elif any(p.refusals or p.failure for p in plan.projects):
        head = [TITLE]
    else:
        head = [IN_SYNC]
    if notes:
        head += [*notes, "\n"]
    return fit(head, sections, limit=limit, notes=[
        "",
        f"Field tables are left out for some pipelines to keep this report under {limit:,} "
        "characters; `reconciler plan` shows every field.",
    ], cut_note=lambda left_out: (
        f"\n> This report is too long to show here: the last {left_out} entries are left out; "
        "`reconciler plan` shows everything.\n"))
