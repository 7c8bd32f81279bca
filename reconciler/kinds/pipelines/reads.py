"""What a pipeline plan reads beyond the project's listing, each only when a step needs
it: the active releases of the pipelines about to be deleted, replaced or re-phased, and
the reference preflight.

Reference preflight: every environment and segment key that a step would send must be
known to exist. Keys that the live pipelines already name are taken as existing, so a
plan whose steps send only those costs nothing more; otherwise one environments call per
project and one segments call per environment with an unseen segment key.
"""

import asyncio
from collections.abc import Iterable, Mapping, Sequence

from reconciler import rules
from reconciler.kinds.pipelines.classify import Classification
from reconciler.kinds.pipelines.inputs import LiveInput
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject
from reconciler.manifest.online import reference_problems
from reconciler.plan import ProjectPlan, Step


async def active_releases(client: LaunchDarklyClient, project: str,
                          classified: Classification) -> dict[str, list[str]]:
    """Flags with active releases, per pipeline the plan must know them for (and has any)."""
    keys = classified.needs_progressions
    found = await asyncio.gather(*(client.active_releases(project, k) for k in keys))
    return {k: flags for k, flags in zip(keys, found, strict=True) if flags}


async def preflight(client: LaunchDarklyClient, project: DesiredProject, live: LiveInput,
                    planned: ProjectPlan) -> ProjectPlan:
    """`planned`, refused for every environment or segment a step would send that is not
    known to exist."""
    sending = [step for step in planned.steps if step.body is not None]
    if not sending:
        return planned
    known = await _known_references(client, project.key, live, sending)
    reasons = [
        f"{step.action} {step.key}: {problem}"
        for step in sending
        for problem in reference_problems(project, step.key, rules.unknown_references(
            project.key, step.body["phases"], known))
    ]
    return planned.refused(reasons) if reasons else planned


def _union(named: Iterable[Mapping[str, set[str]]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for references in named:
        for environment, segments in references.items():
            merged.setdefault(environment, set()).update(segments)
    return merged


async def _known_references(client: LaunchDarklyClient, project: str, live: LiveInput,
                            sending: Sequence[Step]) -> dict[str, set[str]]:
    """Environment -> segment keys known to exist, covering every key that `sending`
    names: what live pipelines name, and a listing for anything they do not."""
    sent = _union(rules.references(step.body["phases"]) for step in sending if step.body)
    known = _union(rules.references(p["phases"]) for p in live.pipelines.values())
    if set(sent) - set(known):
        for environment in await client.list_environments(project):
            known.setdefault(environment, set())
    unseen = sorted(e for e, segments in sent.items() if e in known and segments - known[e])
    listed = await asyncio.gather(*(client.list_segments(project, e) for e in unseen))
    for environment, segments in zip(unseen, listed, strict=True):
        known[environment] = set(segments)
    return known
