"""GitHub Actions' own surfaces: annotations (workflow commands) and the job summary.

Pure functions that return the text to print or append; the CLI prints and writes it.

Workflow commands ("Workflow commands for GitHub Actions"): `::error file=F,line=L,col=C,
title=T::message`. The runner reads every line of a step's output, so each value is escaped
as GitHub's toolkit does: in the message `%`, CR and LF; in a property also `:` and `,`.
A file name or a YAML value can then never end the command early or start a new one.
GitHub shows at most 10 error and 10 warning annotations per step: past that, the last one
shown says how many more there are and where to read them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.github.markdown import split_markdown
from reconciler.plan import Plan

ANNOTATIONS_PER_KIND = 10  # GitHub: 10 error and 10 warning annotations per step
SUMMARY_LIMIT = 1024 * 1024  # bytes a step's summary may hold: over it, none is shown
TITLE = "reconciler"
SUMMARY_CUT = ("\n\n---\n**The report is longer than a job summary may be: the rest is in the "
               "workflow log.**\n")


def escape_data(value: str) -> str:
    # Other control characters (an escape sequence in a YAML value) are shown, not sent.
    shown = "".join(c if c.isprintable() or c in "\r\n" else repr(c)[1:-1] for c in value)
    return shown.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    kind: str  # "error", "warning" or "notice"
    message: str
    title: str = TITLE
    file: str | None = None
    line: int = 0  # 0: the file as a whole
    col: int = 0

    def command(self) -> str:
        properties = []
        if self.file:
            properties.append(f"file={escape_property(self.file)}")
            if self.line:
                properties.append(f"line={self.line}")
                if self.col:
                    properties.append(f"col={self.col}")
        properties.append(f"title={escape_property(self.title)}")
        return f"::{self.kind} {','.join(properties)}::{escape_data(self.message)}"


def capped(annotations: Sequence[Annotation], where: str) -> list[str]:
    """The commands to print: per kind, the first ones GitHub will show, the last shown
    replaced by one saying how many more there are (`where` says where to read them)."""
    lines = []
    for kind in ("error", "warning", "notice"):
        of_kind = [a for a in annotations if a.kind == kind]
        if len(of_kind) > ANNOTATIONS_PER_KIND:
            rest = len(of_kind) - (ANNOTATIONS_PER_KIND - 1)
            of_kind = [*of_kind[:ANNOTATIONS_PER_KIND - 1],
                       Annotation(kind, f"{rest} more {kind}s not shown as annotations "
                                        f"(GitHub shows {ANNOTATIONS_PER_KIND} per step): "
                                        f"{where}", title=f"{TITLE}: {rest} more")]
        lines += [a.command() for a in of_kind]
    return lines


def problem_annotation(path: str, line: int, column: int, message: str,
                       warning: bool = False) -> Annotation:
    """One `validate` finding on its file, line and column."""
    return Annotation("warning" if warning else "error", message, file=path, line=line,
                      col=column)


def plan_annotations(plan: Plan, scope_label: str = "") -> list[Annotation]:
    """An error per project whose live state could not be read, a warning per refused
    project and per blocked pipeline change."""
    suffix = f" ({scope_label})" if scope_label else ""
    found = []
    for project in plan.projects:
        if project.failure is not None:
            found.append(Annotation(
                "error", f"{project.failure.folder} not planned: live could not be read: "
                         f"{project.failure.reason}",
                title=f"{TITLE}: {project.project} not read{suffix}"))
        for reason in project.refusals:
            found.append(Annotation("warning", f"project {project.project} refused: {reason}",
                                    title=f"{TITLE}: {project.project} refused{suffix}"))
        for blocked in project.blocked:
            flags = f"; flags in flight: {', '.join(blocked.flags)}" if blocked.flags else ""
            found.append(Annotation(
                "warning", f"{blocked.action} {blocked.key} blocked: {blocked.reason}{flags}",
                title=f"{TITLE}: {project.project} blocked{suffix}"))
    return found


def summary_text(markdown: str, used: int) -> str:
    """`markdown` (plus a blank line) cut to fit what is left of the step summary after
    `used` bytes; "" when nothing useful fits."""
    text = markdown.rstrip("\n") + "\n\n"
    room = SUMMARY_LIMIT - used
    if len(text.encode()) <= room:
        return text
    # split_markdown counts UTF-16 units; a unit is at most 3 UTF-8 bytes.
    budget = (room - len(SUMMARY_CUT.encode())) // 3
    if budget < 100:
        return ""
    return split_markdown(text, budget)[0] + SUMMARY_CUT


def append_summary(markdown: str, environ: Mapping[str, str]) -> bool:
    """Append to $GITHUB_STEP_SUMMARY when Actions set it; False when not in Actions."""
    path = environ.get("GITHUB_STEP_SUMMARY", "")
    if not path:
        return False
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    with target.open("a", encoding="utf-8") as summary:
        summary.write(summary_text(markdown, used))
    return True
