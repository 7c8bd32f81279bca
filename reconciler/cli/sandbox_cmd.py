"""`reconciler sandbox serve` and `reconciler sandbox seed`."""

import sys
from pathlib import Path

import click

from reconciler.cli import cli
from reconciler.sandbox import create_app, load_fixture, seed_state
from reconciler.sandbox.policies import DEFAULT_MARKERS
from reconciler.sandbox.server import serve as serve_app
from reconciler.settings import check_token, is_loopback
from reconciler.words import plural

STATE_FILE = click.Path(dir_okay=False, path_type=Path)


@cli.group()
def sandbox() -> None:
    """A local LaunchDarkly API emulator over a JSON state file."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on; 0 picks a free one (printed at startup).")
@click.option("--state", "state_path", type=STATE_FILE, required=True,
              help="The sandbox's JSON state file (created on the first change).")
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Delay added to every request.")
@click.option("--rate-limit", type=click.FloatRange(min=1), default=None,
              help="Requests allowed per one-second window; the excess gets 429.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests that fail with 500/502/503 or a dropped connection.")
@click.option("--seed", type=int, default=None, help="Seed for the fault sequence.")
@click.option("--request-log", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append one JSON line per request (method, path, status, ms) to this file.")
@click.option("--slow-mutations-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Answer mutations this late, after applying them (clients may time out "
                   "on a change that landed).")
@click.option("--slow-mutations", type=click.IntRange(min=0), default=None,
              help="Only the first N mutations are slow [default: all].")
@click.option("--inconsistent-listings", type=click.Choice(["short", "long"]), default=None,
              help="Listings disagree with their totalCount: short drops each page's last "
                   "item, long repeats its first.")
@click.option("--inconsistent-listings-count", type=click.IntRange(min=0), default=None,
              help="Only the first N listings are inconsistent [default: all].")
@click.option("--legacy-by-default", is_flag=True,
              help="A create that omits isLegacy makes a legacy pipeline (LaunchDarkly does "
                   "not document its default; without this flag it is false).")
@click.option("--token", default=None, metavar="TOKEN",
              help="Answer 401 to any other LaunchDarkly access token, as LaunchDarkly does "
                   "[default: accept any token].")
@click.option("--refuse-mutations", is_flag=True,
              help="Refuse every LaunchDarkly change with 400 (reads still work): an apply "
                   "that fails however well it was planned.")
@click.option("--default-policy-marker", type=click.Choice(DEFAULT_MARKERS),
              default="field", show_default=True,
              help="How release-policy listings mark the project's default policy "
                   "(LaunchDarkly does not document it): isDefault: true, rank 0, or "
                   "left out of listings.")
@click.option("--policy-config-required", is_flag=True,
              help="Refuse (400) a guarded or progressive release policy without its config "
                   "object; the spec makes it optional.")
def serve(host: str, port: int, state_path: Path, latency_ms: int, rate_limit: float | None,
          fault_rate: float, seed: int | None, request_log: Path | None,
          slow_mutations_ms: int, slow_mutations: int | None,
          inconsistent_listings: str | None, inconsistent_listings_count: int | None,
          legacy_by_default: bool, token: str | None, refuse_mutations: bool,
          default_policy_marker: str, policy_config_required: bool) -> None:
    """Serve the sandbox over HTTP until SIGTERM or Ctrl-C."""
    if token is not None:
        check_token("--token", token)
    if not is_loopback(host):
        guarded = ("its Aviator routes accept any token" if token is not None
                   else "the sandbox accepts any token")
        click.echo(f"warning: {host} is not loopback; {guarded}", err=True)
    app = create_app(state_path, latency_ms=latency_ms, rate_limit=rate_limit,
                     fault_rate=fault_rate, seed=seed, request_log=request_log,
                     slow_mutations_ms=slow_mutations_ms, slow_mutations=slow_mutations,
                     inconsistent_listings=inconsistent_listings,
                     inconsistent_listings_count=inconsistent_listings_count,
                     legacy_by_default=legacy_by_default, token=token,
                     refuse_mutations=refuse_mutations,
                     default_policy_marker=default_policy_marker,
                     policy_config_required=policy_config_required)

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    serve_app(app, host, port, announce)


@sandbox.command()
@click.option("--state", "state_path", type=STATE_FILE, required=True,
              help="The sandbox's JSON state file (created if missing).")
@click.argument("fixture", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def seed(state_path: Path, fixture: Path) -> None:
    """Load a fixture's projects into the state file, replacing projects of the same key."""
    loaded = load_fixture(fixture)
    seed_state(state_path, loaded)
    keys = ", ".join(loaded["projects"])
    click.echo(f"seeded {plural(len(loaded['projects']), 'project')} into {state_path}: {keys}")
