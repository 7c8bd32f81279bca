"""The command line: thin click commands that wire the modules together.

Exit codes: 0 success / no changes, 1 any error (including usage errors, so that 1 never
collides with 2), 2 changes present (plan with --detailed-exitcode, drift).
"""

import sys

import click

from reconciler import __version__
from reconciler.errors import ManifestError, ReconcilerError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Keep LaunchDarkly release pipelines equal to YAML files in git."""


def _register() -> None:
    # Each command lives in its own module; importing it attaches it to `cli`.
    from reconciler.cli import commands  # noqa: F401


def main() -> None:
    _register()
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
        click.echo(f"{len(error.problems)} error(s); nothing was read from or sent to "
                   "LaunchDarkly", err=True)
        sys.exit(1)
    except ReconcilerError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
