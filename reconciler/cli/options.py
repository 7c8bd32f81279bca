"""Options shared by the commands that read LaunchDarkly, and the client they open."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.cli import announce_wait

if TYPE_CHECKING:  # loaded by open_client: a command's --help needs only the options
    from reconciler.launchdarkly import LaunchDarklyClient

F = TypeVar("F", bound=Callable[..., Any])


def pipelines_dir_option(command: F) -> F:
    return click.option(
        "--pipelines-dir", envvar="RECONCILER_PIPELINES_DIR", default="pipelines",
        show_default=True, type=click.Path(path_type=Path),
        help="Folder of pipelines/<project>/<pipeline>.yaml files [env RECONCILER_PIPELINES_DIR]",
    )(command)


def ld_options(command: F) -> F:
    for option in reversed([
        click.option("--base-uri", default=None,
                     help="LaunchDarkly base URI [env LAUNCHDARKLY_BASE_URI; "
                          "default https://app.launchdarkly.com]"),
        click.option("--sandbox", "sandbox", default=None, metavar="STATE_FILE",
                     type=click.Path(path_type=Path, dir_okay=False),
                     help="Use the embedded sandbox with this state file instead of LaunchDarkly"),
        click.option("--concurrency", type=click.IntRange(1, 64), default=None,
                     help="Requests in flight at once [default 8]"),
    ]):
        command = option(command)
    return command


def open_client(base_uri: str | None, sandbox: Path | None, concurrency: int | None
                ) -> AbstractAsyncContextManager[LaunchDarklyClient]:
    """A LaunchDarkly client: the real API, or the in-process sandbox (no token needed)."""
    from reconciler.manager import Connection

    return Connection(base_uri, sandbox, concurrency, announce_wait).open(os.environ)
