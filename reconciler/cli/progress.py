"""Apply progress: a bar on a terminal, one plain line per step otherwise (CI logs)."""

from types import TracebackType

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from reconciler.apply import StepResult, StepStatus


class StepProgress:
    def __init__(self, total: int, *, tty: bool) -> None:
        self._bar: Progress | None = None
        if tty:
            self._bar = Progress(TextColumn("applying"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.description}"),
                                 console=Console(stderr=True), transient=True)
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
        line = f"{result.project}: {result.action} {result.key} ... {result.status}"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=line)
            if result.status is StepStatus.FAILED:
                self._bar.console.print(line + f": {result.error}")
        else:
            click.echo(line)
