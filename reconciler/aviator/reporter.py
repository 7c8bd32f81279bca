"""Reporting an apply to Aviator Releases as a deployment (DESIGN.md section 8).

Before the first step, the commit's release candidate is created (one that exists is
reused) and the environment's deployment is marked in_progress; with --aviator-trigger it
is created with create-deployment instead, which runs the environment's deploy workflow.
After the last step: success or failure. Aviator's status update takes no error text, so
the details of a failure stay in apply's own output.

Best effort: each problem is one `warning:` line, handed to the caller's `echo` (the CLI
shows it on stderr), and apply's exit code never changes. What could not be reported at
the start is tried again at the end, so an Aviator blip still leaves the outcome recorded.

A sharded apply (`--shard`, `--project`) is one part of the commit's deployment, and every
part reports to the same environment and version. So that a failed part is never masked
by a part that starts or succeeds later, a part first reads the version's deployment and
leaves a `failure` as it is; only a failure is always written.
"""

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyReport
from reconciler.aviator.client import AviatorClient, DeploymentStatus
from reconciler.aviator.release import Commit, current_commit
from reconciler.aviator.settings import AviatorSettings, open_client, settings_from_environ
from reconciler.errors import ReconcilerError, SettingsError
from reconciler.http.pacing import OnWait, ignore_wait
from reconciler.scope import WHOLE, Scope

Echo = Callable[[str], None]
Finished = Callable[[ApplyReport], None]
RECENT = 20  # deployments read to find this version's: parts of one apply run together


class ApplyDeployment:
    """One apply of `commit`, reported to the environment in `settings`."""

    def __init__(self, settings: AviatorSettings, commit: Commit,
                 connect: Callable[[], AviatorClient], *, trigger: bool,
                 echo: Echo, scope: Scope = WHOLE) -> None:
        self.settings = settings
        self.commit = commit
        self.version = commit.version
        self._connect = connect
        self._trigger = trigger
        self._echo = echo
        self._scope = scope
        self._release_ready = False

    def start(self) -> None:
        action = "create the deployment" if self._trigger else "mark the deployment in_progress"
        self._best_effort(self._start(), action)

    def finish(self, status: DeploymentStatus) -> None:
        self._best_effort(self._finish(status), f"report the deployment's {status}")

    def _best_effort(self, work: Coroutine[Any, Any, None], action: str) -> None:
        try:
            asyncio.run(work)
        except ReconcilerError as error:
            self._echo(f"warning: Aviator: could not {action} (apply is not affected): {error}")

    async def _current_status(self, client: AviatorClient) -> str | None:
        """The status of this version's deployment to the environment, if it has one."""
        recent = await client.recent_deployments(self.settings.project,
                                                 self.settings.environment, RECENT)
        return next((d.status for d in recent if d.release_candidate_version == self.version),
                    None)

    async def _keeps_failure(self, client: AviatorClient) -> bool:
        """For one part of a sharded apply: whether another part already failed."""
        if self._scope.whole or await self._current_status(client) != DeploymentStatus.FAILURE:
            return False
        self._echo(f"aviator: {self.settings.environment}: {self.version} stays failure: "
                   f"another part of this apply failed ({self._scope.label} does not mask it)")
        return True

    async def _start(self) -> None:
        async with self._connect() as client:
            await self._ensure_release(client)
            project, environment = self.settings.project, self.settings.environment
            if await self._keeps_failure(client):
                return
            if self._trigger and not self._scope.whole and await self._current_status(client):
                # Another part created the deployment (and ran its workflow) already.
                await client.update_deployment_status(project, environment, self.version,
                                                      DeploymentStatus.IN_PROGRESS)
                self._echo(f"aviator: {environment}: {self.version} in_progress")
            elif self._trigger:
                await client.create_deployment(project, environment, self.version)
                self._echo(f"aviator: {environment}: deployment of {self.version} created")
            else:
                await client.update_deployment_status(project, environment, self.version,
                                                      DeploymentStatus.IN_PROGRESS)
                self._echo(f"aviator: {environment}: {self.version} in_progress")

    async def _finish(self, status: DeploymentStatus) -> None:
        async with self._connect() as client:
            await self._ensure_release(client)
            if status is not DeploymentStatus.FAILURE and await self._keeps_failure(client):
                return
            await client.update_deployment_status(self.settings.project,
                                                  self.settings.environment, self.version, status)
            self._echo(f"aviator: {self.settings.environment}: {self.version} {status}")

    async def _ensure_release(self, client: AviatorClient) -> None:
        if self._release_ready:
            return
        created = await client.create_release(self.settings.project, self.version,
                                              repo=self.commit.repo, commit=self.commit.sha)
        self._release_ready = True
        outcome = "created" if created else "exists, reused"
        self._echo(f"aviator: {self.settings.project}: release candidate {self.version} "
                   f"({self.commit.repo}@{self.commit.sha[:7]}) {outcome}")


def apply_deployment(environ: Mapping[str, str], *, sandbox: Path | None, trigger: bool,
                     echo: Echo, scope: Scope = WHOLE, on_wait: OnWait = ignore_wait
                     ) -> ApplyDeployment | None:
    """The deployment to report, or None when Aviator is not configured (or is configured
    unusably, which is one warning)."""
    try:
        settings = settings_from_environ(environ)
        if settings is None:
            return None
        commit = current_commit(environ)
    except SettingsError as error:
        echo(f"warning: Aviator: not reporting this apply: {error}")
        return None
    return ApplyDeployment(settings, commit, lambda: open_client(settings, sandbox, on_wait),
                           trigger=trigger, echo=echo, scope=scope)


@contextmanager
def report_apply(environ: Mapping[str, str], *, sandbox: Path | None, trigger: bool,
                 echo: Echo, scope: Scope = WHOLE, on_wait: OnWait = ignore_wait
                 ) -> Iterator[Finished]:
    """Around apply's execution: reports the start on entry; call what it yields with the
    ApplyReport to report success or failure. An exception out of the block reports
    failure (an interrupt: canceled) and goes on up."""
    deployment = apply_deployment(environ, sandbox=sandbox, trigger=trigger, echo=echo,
                                  scope=scope, on_wait=on_wait)
    if deployment is None:
        yield lambda report: None
        return
    deployment.start()
    try:
        yield lambda report: deployment.finish(
            DeploymentStatus.SUCCESS if report.ok else DeploymentStatus.FAILURE
        )
    except KeyboardInterrupt:
        deployment.finish(DeploymentStatus.CANCELED)
        raise
    except Exception:
        deployment.finish(DeploymentStatus.FAILURE)
        raise
