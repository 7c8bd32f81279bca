"""`graph`: draw release pipelines and each project's release policies in rank order, from
git or (with --live) from LaunchDarkly."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.cli import cli
from reconciler.cli.options import ld_options, open_client, pipelines_dir_option
from reconciler.errors import SettingsError
from reconciler.graph import mermaid, printable, text_tree
from reconciler.kinds.pipelines.inputs import desired_input, live_input
from reconciler.kinds.policies.canonical import canonical_desired
from reconciler.kinds.policies.graph import ranking_mermaid, ranking_text
from reconciler.kinds.policies.inputs import live_policies
from reconciler.manifest import load_desired
from reconciler.normalize import Canonical
from reconciler.render.markup import fence, text


@dataclass(frozen=True)
class Drawing:
    """One pipeline (`key`), or a project's policies in rank order (`key` None)."""

    project: str
    key: str | None
    pipeline: Canonical
    default: bool
    ranked: Sequence[Canonical] = ()
    default_policy: Canonical | None = None

    def mermaid(self) -> str:
        if self.key is None:
            return ranking_mermaid(self.project, self.ranked, self.default_policy)
        return mermaid(self.pipeline, default=self.default)

    def text(self) -> str:
        if self.key is None:
            return ranking_text(self.ranked, self.default_policy)
        return text_tree(self.pipeline, default=self.default)


def _policies(project: str, ranked: Sequence[Canonical],
              default: Canonical | None) -> list[Drawing]:
    if not ranked and default is None:
        return []
    return [Drawing(project, None, {}, False, ranked, default)]


def _desired(pipelines_dir: Path, projects: Sequence[str]) -> list[Drawing]:
    state = load_desired(pipelines_dir, list(projects) or None)
    for warning in state.warnings:
        click.echo(warning, err=True)
    drawings = []
    for project_key, project in state.projects.items():
        desired = desired_input(project)
        drawings += [Drawing(project_key, key, form, key == desired.default_key)
                     for key, form in desired.pipelines.items()]
        # Files do not say which policy is the default: every file is drawn ranked.
        order = project.policy_order or list(project.policies)
        drawings += _policies(project_key, [canonical_desired(project.policies[key])
                                            for key in order], None)
    return drawings


def _live(projects: Sequence[str], base_uri: str | None, sandbox: Path | None,
          concurrency: int | None) -> list[Drawing]:
    async def fetch() -> list[tuple[list[dict], list[dict]]]:
        async with open_client(base_uri, sandbox, concurrency) as client:
            async def read(project: str) -> tuple[list[dict], list[dict]]:
                pipelines, policies = await asyncio.gather(client.list_pipelines(project),
                                                           client.list_policies(project))
                return pipelines, policies
            return list(await asyncio.gather(*(read(p) for p in projects)))

    drawings = []
    for project_key, (raw, raw_policies) in zip(projects, asyncio.run(fetch()), strict=True):
        live = live_input(raw)
        drawings += [Drawing(project_key, key, live.pipelines[key], key == live.default_key)
                     for key in sorted(live.pipelines)]
        policies = live_policies(raw_policies)
        default = policies.default_key
        drawings += _policies(project_key, [policies.policies[key] for key in policies.ranked],
                              policies.policies[default] if default is not None else None)
    return drawings


def _mermaid_output(drawings: Sequence[Drawing]) -> str:
    if len(drawings) == 1:
        return drawings[0].mermaid()
    # Several diagrams cannot share one Mermaid document: one Markdown section each.
    return "\n".join(
        f"### {text(d.project)} / {text(d.key or 'release policies')}\n\n"
        f"{fence(d.mermaid(), 'mermaid')}"
        for d in drawings)


def _text_output(drawings: Sequence[Drawing]) -> str:
    parts = []
    project = None
    for drawing in drawings:
        if drawing.project != project:
            project = drawing.project
            parts.append(f"Project {printable(project)}\n")
        parts.append(drawing.text())
    return "\n".join(parts)


@cli.command()
@pipelines_dir_option
@ld_options
@click.option("--project", "projects", multiple=True, metavar="KEY",
              help="Only this project (repeatable). With --live and no --project, the "
                   "projects found in the pipelines folder.")
@click.option("--pipeline", default=None, metavar="KEY",
              help="Only this pipeline (and no release policies).")
@click.option("--policies", "policies_only", is_flag=True,
              help="Only the release policies, in rank order.")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "text"]), default="mermaid",
              show_default=True,
              help="mermaid: one pipeline prints a Mermaid document, several print Markdown "
                   "with one Mermaid block each; text: a tree for the terminal.")
@click.option("--live", is_flag=True, help="Draw the live pipelines instead of the files.")
def graph(pipelines_dir: Path, base_uri: str | None, sandbox: Path | None,
          concurrency: int | None, projects: tuple[str, ...], pipeline: str | None,
          policies_only: bool, fmt: str, live: bool) -> None:
    """Draw release pipelines (phases left to right, each with its audiences) and each
    project's release policies in rank order, the default last."""
    if live:
        keys = list(projects) or list(load_desired(pipelines_dir).projects)
        drawings = _live(keys, base_uri, sandbox, concurrency)
    else:
        drawings = _desired(pipelines_dir, projects)
    if pipeline is not None and policies_only:
        raise SettingsError("--pipeline and --policies draw different things: give one")
    if pipeline is not None:
        drawings = [d for d in drawings if d.key == pipeline]
    if policies_only:
        drawings = [d for d in drawings if d.key is None]
    if not drawings:
        where = "in LaunchDarkly" if live else f"in {pipelines_dir}"
        named = (f"pipeline '{printable(pipeline)}'" if pipeline is not None
                 else "release policy" if policies_only else "pipeline")
        raise SettingsError(f"no {named} to draw {where}")
    click.echo(_mermaid_output(drawings) if fmt == "mermaid" else _text_output(drawings),
               nl=False)
