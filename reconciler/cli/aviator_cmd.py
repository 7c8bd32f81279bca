"""`reconciler aviator deployments`: the Aviator environment's recent deployments."""

import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from reconciler.aviator import Deployment, open_client, settings_from_environ
from reconciler.aviator.settings import REQUIRED
from reconciler.errors import SettingsError
from reconciler.words import plural

from . import announce_wait, cli

COLUMNS = ("STATUS", "VERSION", "FROM VERSION", "STARTED (UTC)", "ENDED (UTC)", "ACTOR")


def _when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp  # shown as Aviator wrote it
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def deployments_table(deployments: Sequence[Deployment]) -> str:
    rows = [COLUMNS, *(
        (d.status, d.release_candidate_version or "-", d.from_release_candidate_version or "-",
         _when(d.deploy_start_at), _when(d.deploy_end_at), d.actor or "-")
        for d in deployments
    )]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@cli.group()
def aviator() -> None:
    """Aviator Releases, where apply reports itself (AVIATOR_* variables)."""


@aviator.command()
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many of the most recent deployments to show.")
@click.option("--sandbox", "sandbox", default=None, metavar="STATE_FILE",
              type=click.Path(path_type=Path, dir_okay=False),
              help="Read the embedded sandbox's state file (when AVIATOR_BASE_URL is unset).")
def deployments(limit: int, sandbox: Path | None) -> None:
    """List the environment's recent deployments, newest first.

    The environment is AVIATOR_ENVIRONMENT of AVIATOR_PROJECT, read with AVIATOR_API_TOKEN
    from AVIATOR_BASE_URL (default https://api.aviator.co)."""
    settings = settings_from_environ(os.environ)
    if settings is None:
        raise SettingsError(f"Aviator is not configured: set {', '.join(REQUIRED)}")

    async def fetch() -> list[Deployment]:
        async with open_client(settings, sandbox, announce_wait) as client:
            return await client.recent_deployments(settings.project, settings.environment,
                                                   limit)

    found = asyncio.run(fetch())
    where = f"{settings.project} / {settings.environment}"
    if not found:
        click.echo(f"{where}: no deployments")
        return
    click.echo(f"{where}: {plural(len(found), 'most recent deployment')}")
    click.echo(deployments_table(found))
