"""The command line: thin click commands that wire the modules together.

Exit codes: 0 success / no changes, 1 any error (including usage errors, so that 1 never
collides with 2), 2 changes present (plan with --detailed-exitcode, drift).
"""

import gc
import importlib
import logging
import sys
from typing import TYPE_CHECKING

import click

from reconciler import __version__
from reconciler.cli.colour import color_option, with_color_option
from reconciler.errors import ManifestError, ReconcilerError
from reconciler.words import plural

if TYPE_CHECKING:  # the HTTP layer (httpx) loads only with a command that calls out
    from reconciler.http.pacing import Wait

# httpx imports its own command line (rich and pygments, about 20 ms) whenever they are
# installed, as rich is here for apply's progress bar. The tool never runs httpx's command
# line: marked absent, httpx takes the path it takes without its `cli` extra.
sys.modules.setdefault("httpx._main", None)

# Command name -> the module that defines it. A module is imported only when one of its
# commands runs, so `plan` never pays for the sandbox server's or Aviator's imports.
COMMAND_MODULES = {
    "apply": "plan_cmd", "aviator": "aviator_cmd", "drift": "plan_cmd", "export": "export_cmd",
    "graph": "graph_cmd", "plan": "plan_cmd", "sandbox": "sandbox_cmd", "schema": "schema_cmd",
    "validate": "validate_cmd",
}


GC_THRESHOLDS = (50_000, 100, 100)  # see main()


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            # Importing the module attaches its commands to `cli`.
            importlib.import_module(f"reconciler.cli.{COMMAND_MODULES[name]}")
        command = super().get_command(ctx, name)
        return with_color_option(command) if command is not None else None


def announce_wait(wait: "Wait") -> None:
    """The `on_wait` the commands give every client: one line on stderr per long wait
    (in GitHub Actions too, where the log shows it)."""
    click.echo(str(wait), err=True)


class NoticeLines(logging.Handler):
    """The library's logged notices (a corrected setting), one line each on stderr:
    library code logs them and never prints."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        click.echo(prefix + record.getMessage(), err=True)


def _show_notices() -> None:
    logger = logging.getLogger("reconciler")
    if not any(isinstance(handler, NoticeLines) for handler in logger.handlers):
        logger.addHandler(NoticeLines())
        logger.setLevel(logging.INFO)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Keep LaunchDarkly release pipelines equal to YAML files in git."""
    _show_notices()


cli.params.append(color_option())


def main() -> None:
    # A fleet plan holds millions of small, long-lived objects (files, positions, live
    # and canonical forms); at the default gen-0 threshold of 700 the collector rescans
    # them thousands of times. Measured: loading 4,000 pipeline files, 5.7 s -> 2.8 s CPU.
    # Generation 1 at 100 young passes, not 20: each of its passes rescans every survivor
    # since the last; in W5 (10,000 pipelines) three passes at 20 cost 0.75 s, at 100 none
    # runs before the plan is made.
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(1)
    except ManifestError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        click.echo(f"{plural(len(error.problems), 'error')}; nothing was read from or sent to "
                   "LaunchDarkly", err=True)
        sys.exit(1)
    except ReconcilerError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
