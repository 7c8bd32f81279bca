"""Colour on the terminal: one decision for every command (flag, NO_COLOR, FORCE_COLOR,
TERM=dumb, a terminal or not)."""

import os
from collections.abc import Mapping
from typing import IO

import click

COLOR_KEY = "reconciler.color"  # in click's context meta, shared by a group and its commands


def wants_colour(choice: str, is_terminal: bool, environ: Mapping[str, str]) -> bool:
    """The one place that decides colour. --color always/never wins; then NO_COLOR turns
    colour off and FORCE_COLOR on (each when set and not empty, as no-color.org and
    force-color.org say; NO_COLOR wins over FORCE_COLOR); then TERM=dumb turns it off;
    otherwise colour goes to a terminal only."""
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return is_terminal and not dumb_terminal(environ)


def dumb_terminal(environ: Mapping[str, str]) -> bool:
    """TERM=dumb: a terminal that cannot move the cursor, so no colour and no progress bar."""
    return environ.get("TERM") == "dumb"


def draws_bar(is_terminal: bool, environ: Mapping[str, str]) -> bool:
    """Whether a progress bar can be drawn: on a terminal that can move the cursor."""
    return is_terminal and not dumb_terminal(environ)


def colour_for(stream: IO[str]) -> bool:
    """Whether to colour what goes to `stream`, for the command running now."""
    context = click.get_current_context(silent=True)
    choice = context.meta.get(COLOR_KEY, "auto") if context is not None else "auto"
    return wants_colour(choice, stream.isatty(), os.environ)


def _remember_colour(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:  # given here: it wins over a --color given to the group
        ctx.meta[COLOR_KEY] = value


def color_option() -> click.Option:
    """`--color auto|always|never`, accepted by the group and by every command."""
    return click.Option(
        ["--color"], type=click.Choice(["auto", "always", "never"]), default=None,
        expose_value=False, is_eager=True, callback=_remember_colour,
        help="Colour the output: auto (a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR "
             "forces it), always or never [default: auto].")


def with_color_option(command: click.Command) -> click.Command:
    """`command` (and, for a group, each of its commands) with the --color option."""
    if not any(param.name == "color" for param in command.params):
        command.params.append(color_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_color_option(sub)
    return command
