"""Apply progress: a bar on a terminal, one plain line per step otherwise (CI logs)."""

from types import TracebackType
from typing import TYPE_CHECKING

import click

from reconciler.apply import StepResult, StepStatus

if TYPE_CHECKING:
    from rich.progress import Progress


class StepProgress:
    def __init__(self, total: int, *, tty: bool) -> None:
        self._bar: Progress | None = None
        if tty:
            from rich import progress  # only a terminal pays for importing rich
            from rich.console import Console

            self._bar = progress.Progress(
                progress.TextColumn("applying"), progress.BarColumn(),
                progress.MofNCompleteColumn(), progress.TextColumn("{task.description}"),
                console=Console(stderr=True), transient=True,
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
        line = f"{result.project}: {result.action} {result.key} ... {result.status}"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=line)
            if result.status is StepStatus.FAILED:
                self._bar.console.print(line + f": {result.error}")
        else:
            click.echo(line)
