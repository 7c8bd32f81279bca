"""The I/O edge around the pure planners: read live state, plan, and nothing more.

Each project is planned once per kind it manages (reconciler.kinds): one list call per
kind, then only the further reads that kind's steps need (see each kind's package).
"""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from reconciler.errors import ApiError, SettingsError, Unreachable
from reconciler.kinds import Kind
from reconciler.kinds.registry import managed_kinds
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import DesiredProject, DesiredState
from reconciler.manifest.yamlfile import shown
from reconciler.plan import Plan, PlanOptions, ProjectPlan, ReadFailure, assemble, unread_project

# Projects in flight per request the client may have in flight: each project's list call
# waits in line with at most one other project's.
IN_FLIGHT_PER_REQUEST = 2


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """`i/n` (1-based) into (i, n)."""
    if spec is None:
        return None
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise SettingsError(f"--shard takes i/n, like 1/4; got {spec!r}") from None
    if not 1 <= index <= count:
        raise SettingsError(f"--shard {spec}: i must be between 1 and n")
    return index, count


def in_shard(project: str, shard: tuple[int, int] | None) -> bool:
    """A stable hash, so a project stays in its shard from run to run and machine to machine."""
    if shard is None:
        return True
    index, count = shard
    bucket = int.from_bytes(hashlib.sha256(project.encode()).digest()[:8], "big") % count
    return bucket == index - 1


def selected(project: DesiredProject, shard: tuple[int, int] | None) -> bool:
    """Whether the project is in the shard and manages at least one registered kind."""
    return in_shard(project.key, shard) and bool(managed_kinds(project))


def select_projects(state: DesiredState, shard: tuple[int, int] | None) -> list[DesiredProject]:
    """The selected projects of `state`, by key."""
    return [p for _, p in sorted(state.projects.items()) if selected(p, shard)]


def _folder(project: DesiredProject) -> str:
    return f"{shown(project.directory)}/" if project.directory else f"pipelines/{project.key}/"


async def plan_one(client: LaunchDarklyClient, project: DesiredProject, kind: Kind[Any, Any],
                   options: PlanOptions) -> ProjectPlan:
    """The project's plan for `kind`, or an unread one when its live state cannot be read
    (404, 403, 5xx after retries, an inconsistent listing): one bad project never hides
    the others. A refused token (401) or an unreachable host is every project's problem,
    so it still ends the run."""
    try:
        desired = kind.desired(project)
        live = await kind.fetch(client, project.key)
        return await kind.plan(client, project, desired, live, options)
    except ApiError as error:
        if error.status == 401 or isinstance(error, Unreachable):
            raise
        failure = ReadFailure(folder=_folder(project), reason=str(error))
        return unread_project(project.key, kind.name, kind.desired_count(project), failure)


class PlanStream:
    """Projects planned as they are handed in, while the caller reads the next ones.

    At most IN_FLIGHT_PER_REQUEST x the client's concurrency projects are in flight: enough
    to keep every request slot busy, few enough that only those projects' files, live
    state and canonical forms are held at once (a finished project leaves only its
    ProjectPlans). The client is opened by `connect` when the first project comes (or at
    `finish`), so that a caller can read every file before a connection problem shows.
    A failure (the connection's own, a refused token, an unreachable host) stops
    everything in flight; `finish` raises it."""

    def __init__(self, connect: Callable[[], Awaitable[LaunchDarklyClient]],
                 options: PlanOptions) -> None:
        self._connect = connect
        self._options = options
        self._client: LaunchDarklyClient | None = None
        self._slots = asyncio.Semaphore(0)  # sized once the client is open
        self._tasks: list[asyncio.Task[list[ProjectPlan]]] = []
        self._failure: BaseException | None = None

    async def add(self, project: DesiredProject) -> None:
        """Start planning `project` once a slot is free. The wait, and one turn of the
        event loop after the start, let the reads in flight progress. Nothing starts
        after a failure."""
        if not await self._connected():
            return
        assert self._client is not None
        await self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            return
        task = asyncio.create_task(self._plan(self._client, project))
        task.add_done_callback(self._done)
        self._tasks.append(task)
        await asyncio.sleep(0)

    async def finish(self) -> Plan:
        """Every project's plan, per kind it manages, in one Plan; or the first failure."""
        await self._connected()  # a run that plans no project still opens the client
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._failure is not None:
            raise self._failure
        return assemble([plan for task in self._tasks for plan in task.result()],
                        self._options)

    async def cancel(self) -> None:
        """Stop every project in flight and forget them: their plans are not wanted."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _connected(self) -> bool:
        if self._client is None and self._failure is None:
            try:
                self._client = await self._connect()
            except Exception as error:  # raised by finish, once the caller is done reading
                self._failure = error
            else:
                self._slots = asyncio.Semaphore(IN_FLIGHT_PER_REQUEST * self._client.concurrency)
        return self._failure is None

    async def _plan(self, client: LaunchDarklyClient, project: DesiredProject
                    ) -> list[ProjectPlan]:
        try:
            return list(await asyncio.gather(*(plan_one(client, project, kind, self._options)
                                               for kind in managed_kinds(project))))
        finally:
            self._slots.release()

    def _done(self, task: asyncio.Task[list[ProjectPlan]]) -> None:
        if task.cancelled() or task.exception() is None or self._failure is not None:
            return
        self._failure = task.exception()
        for other in self._tasks:
            other.cancel()


async def build_plan(client: LaunchDarklyClient, projects: Iterable[DesiredProject],
                     options: PlanOptions) -> Plan:
    """Every project's plan, per kind it manages, in one Plan."""

    async def connect() -> LaunchDarklyClient:
        return client

    stream = PlanStream(connect, options)
    for project in projects:
        await stream.add(project)
    return await stream.finish()
