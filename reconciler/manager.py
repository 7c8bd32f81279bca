"""The orchestrator (octoDNS's Manager is the model): read git, plan against live, refuse a
saved plan that is no longer current, apply and report to Aviator. It returns values and
raises ReconcilerErrors; the CLI renders them, asks for confirmation and draws progress,
so every contract here is tested in process."""

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from reconciler.engine import PlanStream, parse_shard, selected
from reconciler.errors import ManifestError, StalePlan
from reconciler.http.pacing import OnWait, ignore_wait
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import ManifestReading, ManifestReport
from reconciler.manifest.cache import ParseCache
from reconciler.plan import Plan, PlanOptions
from reconciler.planfile import read_plan
from reconciler.scope import Scope
from reconciler.settings import resolve_settings, sandbox_settings

if TYPE_CHECKING:  # apply's modules load in Manager.apply: a plan never needs them
    from reconciler.apply import ApplyReport, OnResult

T = TypeVar("T")


@dataclass(frozen=True)
class Connection:
    """Where LaunchDarkly is: the API at `base_uri` (or the environment's), or the
    in-process sandbox on the state file `sandbox`; `on_wait` hears of every long wait,
    on LaunchDarkly and on Aviator alike."""

    base_uri: str | None = None
    sandbox: Path | None = None
    concurrency: int | None = None
    on_wait: OnWait = ignore_wait

    @asynccontextmanager
    async def open(self, environ: Mapping[str, str]) -> AsyncIterator[LaunchDarklyClient]:
        """A client: the real API, or the in-process sandbox (no token needed)."""
        if self.sandbox is not None:
            from reconciler.sandbox import create_app, transport

            settings = sandbox_settings(self.concurrency)
            async with LaunchDarklyClient(
                    settings, transport=transport(create_app(self.sandbox)),
                    on_wait=self.on_wait) as client:
                yield client
            return
        settings = resolve_settings(self.base_uri, self.concurrency, environ)
        async with LaunchDarklyClient(settings, on_wait=self.on_wait) as client:
            yield client


class InvalidFiles(ManifestError):
    """The files under the pipelines folder failed validation: every error, and the whole
    report (warnings too) for the annotations, and the scope that was asked for."""

    def __init__(self, report: ManifestReport, scope: Scope) -> None:
        self.report = report
        self.scope = scope
        super().__init__([str(error) for error in report.errors])


@dataclass(frozen=True)
class Selection:
    """What one run covers: the projects asked for (all when none) in a shard. Nothing is
    read yet: planning reads the files, and plans each project as soon as it is read."""

    scope: Scope


@dataclass(frozen=True)
class SavedPlan:
    """A reviewed plan read back from its file (intact, of this format, or refused)."""

    plan: Plan
    source: Path

    @classmethod
    def load(cls, path: Path) -> "SavedPlan":
        return cls(read_plan(path), path)

    def projects(self, asked: Sequence[str]) -> tuple[str, ...]:
        """The projects to re-plan: those asked for, else the plan's own."""
        return tuple(asked) or tuple(dict.fromkeys(p.project for p in self.plan.projects))

    def options(self, given: PlanOptions) -> PlanOptions:
        """The plan's own options: what was reviewed is what runs. A flag given now can
        only add a permission (--force, --allow-active-releases); the delete threshold is
        the plan's."""
        saved = self.plan.options
        return PlanOptions(force=given.force or saved.force,
                           allowActiveReleases=given.allowActiveReleases
                           or saved.allowActiveReleases,
                           maxDeletePercent=saved.maxDeletePercent)


class ApplyListener(Protocol):
    """What the caller sees of an apply, in this order: notices (Aviator's lines) at any
    time; `steps` around the execution, taking each step's result; `outcome` with the
    report, before Aviator is told it."""

    def notice(self, line: str) -> None: ...

    def steps(self) -> AbstractContextManager["OnResult"]: ...

    def outcome(self, report: "ApplyReport") -> None: ...


def run_to_result(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(work), the result kept out of the main task: Python 3.11's asyncio.run
    formats the main task, result included, on its way out (for a plan of 10,000
    pipelines, 51,000 model reprs)."""
    done: list[T] = []

    async def main() -> None:
        done.append(await work)

    asyncio.run(main())
    return done[0]


def _ignore(line: str) -> None:
    pass


class Manager:
    """One run's git folder, LaunchDarkly connection and environment (for settings and
    Aviator)."""

    def __init__(self, pipelines_dir: Path, connection: Connection,
                 environ: Mapping[str, str] = os.environ,
                 on_warning: Callable[[str], None] = _ignore) -> None:
        self.pipelines_dir = pipelines_dir
        self.connection = connection
        self.environ = environ
        self.on_warning = on_warning  # "file:line:col: warning: ..." lines, once all are read

    def select(self, projects: Sequence[str], shard: str | None) -> Selection:
        """The projects asked for (all when none), in shard `shard`."""
        return Selection(Scope.of(parse_shard(shard), tuple(projects)))

    def plan(self, selection: Selection, options: PlanOptions) -> Plan:
        """Read the files and plan the selected projects against live; InvalidFiles when
        any file fails validation (every file is read first: see _read_and_plan)."""
        return run_to_result(self._read_and_plan(selection.scope, options))

    async def _read_and_plan(self, scope: Scope, options: PlanOptions) -> Plan:
        """A project's live reads start as soon as its files are read and every file so far
        is valid, while the next project is read; once any file fails, nothing more is
        started, what is in flight is stopped, and the rest of the files are still read so
        that InvalidFiles lists every problem. Only reads can have been made by then."""
        reading = ManifestReading(self.pipelines_dir, scope.projects or None,
                                  cache=ParseCache.from_environment(self.environ))
        async with AsyncExitStack() as stack:
            async def connect() -> LaunchDarklyClient:
                return await stack.enter_async_context(self.connection.open(self.environ))

            stream = PlanStream(connect, options)
            for project in reading.projects():
                if reading.errors:
                    await stream.cancel()
                elif selected(project, scope.shard):
                    await stream.add(project)
            report = reading.report({})  # the projects are in the stream, or planned
            if report.errors:
                await stream.cancel()
                raise InvalidFiles(report, scope)
            for warning in report.state.warnings:
                self.on_warning(warning)
            return await stream.finish()

    def replan(self, saved: SavedPlan, selection: Selection, given: PlanOptions) -> Plan:
        """The plan again, from live and git now, with the saved plan's options; StalePlan
        unless it is the saved plan to the digest."""
        current = self.plan(selection, saved.options(given))
        if current.digest != saved.plan.digest:
            raise StalePlan(f"plan is stale: live state or git changed since {saved.source} "
                            f"was made (digest {saved.plan.digest[:12]}, now "
                            f"{current.digest[:12]}); plan again")
        return current

    def apply(self, plan: Plan, scope: Scope, listener: ApplyListener, *,
              trigger: bool = False) -> "ApplyReport":
        """Run `plan`'s steps, reported to Aviator when AVIATOR_* are set (best effort:
        the report is apply's own whatever Aviator says)."""
        from reconciler.apply import apply_plan
        from reconciler.aviator import report_apply  # only an apply that changes things

        with report_apply(self.environ, sandbox=self.connection.sandbox, trigger=trigger,
                          echo=listener.notice, scope=scope,
                          on_wait=self.connection.on_wait) as finished:
            with listener.steps() as on_result:
                report = self._run(lambda client: apply_plan(client, plan, on_result))
            listener.outcome(report)
            finished(report)
        return report

    def _run(self, work: Callable[[LaunchDarklyClient], Coroutine[Any, Any, T]]) -> T:
        async def run() -> T:
            async with self.connection.open(self.environ) as client:
                return await work(client)

        return run_to_result(run())
