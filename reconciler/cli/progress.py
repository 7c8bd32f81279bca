"""Apply progress: one line per step, always kept (the log), with a bar under them on a
terminal that can draw one."""

from types import TracebackType
from typing import TYPE_CHECKING

import click

from reconciler.apply import StepResult, StepStatus
from reconciler.graph import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

STATUS_COLOURS = {StepStatus.DONE: "green", StepStatus.FAILED: "red",
                  StepStatus.NOT_RUN: "yellow"}


def step_line(result: StepResult) -> tuple[str, str, str]:
    """A step's log line in three parts: what ran, its status (to colour), why it failed."""
    detail = f": {printable(result.error)}" if result.error else ""
    return (f"{printable(result.project)}: {result.action} {printable(result.key)} ... ",
            str(result.status), detail)


class StepProgress:
    """`bar`: draw a bar on this terminal (a line per step is printed above it, so the bar
    never erases the log); otherwise plain lines for CI logs. `colour` paints the status."""

    def __init__(self, total: int, *, bar: bool, colour: bool,
                 console: "Console | None" = None) -> None:
        self._colour = colour
        self._bar: Progress | None = None
        if bar:
            from rich import progress  # only a terminal pays for importing rich
            from rich.console import Console

            console = console or Console(stderr=True, color_system="auto" if colour else None)
            self._bar = progress.Progress(
                progress.TextColumn("applying"), progress.BarColumn(),
                progress.MofNCompleteColumn(), console=console, transient=True,
            )
            self._task = self._bar.add_task("", total=total)

    def __enter__(self) -> "StepProgress":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, result: StepResult) -> None:
        head, status, detail = step_line(result)
        colour = STATUS_COLOURS[result.status] if self._colour else None
        if self._bar is None:
            painted = click.style(status, fg=colour) if colour else status
            click.echo(f"{head}{painted}{detail}", color=self._colour)
            return
        from rich.text import Text

        # Printed above the bar, which stays at the bottom: the log is never erased.
        self._bar.console.print(Text.assemble(head, (status, colour or ""), detail))
        self._bar.update(self._task, advance=1)
