"""Reading and planning overlap (Manager.plan): a project's live reads start as soon as its
files, and every file before them, are valid, while the next project is read. A file that
fails stops every further call, and the run still ends with InvalidFiles listing every
problem; a connection problem shows only once every file is known to be valid."""

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.engine import PlanStream, build_plan, in_shard, select_projects
from reconciler.errors import ApiError, SettingsError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manager import Connection, InvalidFiles, Manager
from reconciler.manifest import DesiredProject, load_desired, loader
from reconciler.manifest.models import MAX_PHASES_PER_PIPELINE
from reconciler.plan import PlanOptions
from reconciler.settings import LaunchDarklySettings
from tests.builders import dump_yaml, pipeline

PROJECTS = [f"p{i}" for i in range(6)]
OPTIONS = PlanOptions()
NO_CACHE = {"RECONCILER_NO_CACHE": "1"}


def settings(concurrency: int = 8) -> LaunchDarklySettings:
    return LaunchDarklySettings(base_uri="https://ld.test", token="t" * 20, max_retries=0,
                                concurrency=concurrency)


def live_a() -> dict[str, Any]:
    return {"key": "a", "name": "A", "isProjectDefault": True, "_isLegacy": False,
            "phases": [{"id": "x", "name": "Phase 1", "audiences": [
                {"name": "Everyone", "environment": {"key": "test"}}]}]}


def answer(log: list[str], *, refuse: bool = False):
    """LaunchDarkly with pipeline `a` in every project, and no active release; each call
    logged by project."""

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(f"call {request.url.path.split('/')[4]}")
        if refuse:
            return httpx.Response(401, json={"code": "unauthorized", "message": "Bad token"})
        if request.url.path.endswith("/releases"):
            return httpx.Response(200, json={"items": [], "totalCount": 0})
        return httpx.Response(200, json={"items": [live_a()], "totalCount": 1})

    return handler


@dataclass(frozen=True)
class Recording(Connection):
    """A connection to canned answers that logs every call, beside the folders read."""

    log: list[str] = field(default_factory=list)
    refuse: bool = False

    @asynccontextmanager
    async def open(self, environ: Mapping[str, str]) -> AsyncIterator[LaunchDarklyClient]:
        transport = httpx.MockTransport(answer(self.log, refuse=self.refuse))
        async with LaunchDarklyClient(settings(), transport=transport) as client:
            yield client


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    for key in PROJECTS:
        folder = tmp_path / "pipelines" / key
        folder.mkdir(parents=True)
        dump_yaml(pipeline("a"), folder / "a.yaml")
    return tmp_path / "pipelines"


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every project folder read ("read p0") and every call ("call p0"), in order."""
    events: list[str] = []
    read = loader._ProjectReader.read

    def logged(reader: loader._ProjectReader) -> None:
        events.append(f"read {reader.key}")
        read(reader)

    monkeypatch.setattr(loader._ProjectReader, "read", logged)
    return events


def calls(log: list[str]) -> list[str]:
    return sorted(event.split()[1] for event in log if event.startswith("call"))


def test_a_project_is_fetched_while_the_next_ones_are_read(pipelines: Path,
                                                          log: list[str]) -> None:
    plan = Manager(pipelines, Recording(log=log), NO_CACHE).plan(
        Manager(pipelines, Recording()).select((), None), OPTIONS)
    assert log.index("call p0") < log.index(f"read {PROJECTS[-1]}")
    assert calls(log) == PROJECTS  # one list call each

    async def all_read_first() -> Any:  # the plan as it was made before the overlap
        async with LaunchDarklyClient(settings(), transport=httpx.MockTransport(
                answer([]))) as client:
            return await build_plan(client, select_projects(load_desired(pipelines), None),
                                    OPTIONS)

    assert plan == asyncio.run(all_read_first())


def test_projects_out_of_the_selection_are_read_but_never_called(pipelines: Path,
                                                                 log: list[str]) -> None:
    manager = Manager(pipelines, Recording(log=log), NO_CACHE)
    manager.plan(manager.select(("p1", "p4"), None), OPTIONS)
    assert calls(log) == ["p1", "p4"]
    log.clear()
    manager.plan(manager.select((), "2/3"), OPTIONS)
    assert calls(log) == [key for key in PROJECTS if in_shard(key, (2, 3))]
    assert len(set(calls(log))) < len(PROJECTS)
    assert [event for event in log if event.startswith("read")] == \
        [f"read {key}" for key in PROJECTS]  # every file is still validated


def test_no_call_once_a_file_fails_and_every_problem_is_listed(pipelines: Path,
                                                               log: list[str]) -> None:
    (pipelines / "p2" / "broken.yaml").write_text("key: [\n")
    (pipelines / "p5" / "b.yaml").write_text("key: b\n")
    manager = Manager(pipelines, Recording(log=log), NO_CACHE)
    with pytest.raises(InvalidFiles) as invalid:
        manager.plan(manager.select((), None), OPTIONS)
    assert sorted({Path(e.path).parent.name for e in invalid.value.report.errors}) == \
        ["p2", "p5"]
    assert set(calls(log)) <= {"p0", "p1"}  # reads of the projects before the first problem


@pytest.mark.parametrize("valid", [True, False])
def test_a_missing_token_shows_only_when_the_files_are_valid(pipelines: Path,
                                                             valid: bool) -> None:
    if not valid:
        (pipelines / "p3" / "b.yaml").write_text("key: b\n")
    manager = Manager(pipelines, Connection(base_uri="https://ld.test"), NO_CACHE)
    with pytest.raises(SettingsError if valid else InvalidFiles):
        manager.plan(manager.select((), None), OPTIONS)


@pytest.mark.parametrize("valid", [True, False])
def test_a_refused_token_shows_only_when_the_files_are_valid(pipelines: Path,
                                                             valid: bool) -> None:
    if not valid:
        (pipelines / "p5" / "b.yaml").write_text("key: b\n")
    manager = Manager(pipelines, Recording(refuse=True), NO_CACHE)
    with pytest.raises(ApiError if valid else InvalidFiles) as caught:
        manager.plan(manager.select((), None), OPTIONS)
    assert valid == isinstance(caught.value, ApiError)


def test_the_files_warnings_are_heard_once_every_file_is_read(pipelines: Path) -> None:
    for key in ("p4", "p1"):  # more phases than LaunchDarkly's UI shows: a warning
        dump_yaml(pipeline("a", phases=MAX_PHASES_PER_PIPELINE + 1), pipelines / key / "a.yaml")
    heard: list[str] = []
    manager = Manager(pipelines, Recording(), NO_CACHE, on_warning=heard.append)
    manager.plan(manager.select((), None), OPTIONS)
    assert [line.split(":")[0] for line in heard] == [
        str(pipelines / "p1" / "a.yaml"), str(pipelines / "p4" / "a.yaml")]
    assert all(": warning: " in line for line in heard)


def test_at_most_two_projects_per_request_slot_are_in_flight() -> None:
    """Later projects wait to be handed in (and so to be read) while the first are planned."""
    gate = asyncio.Event()
    handed: list[str] = []

    async def held(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(200, json={"items": [live_a()], "totalCount": 1})

    def projects() -> Iterator[DesiredProject]:
        for key in PROJECTS:
            handed.append(key)
            yield DesiredProject(key, loader.ProjectSettings(), {}, {}, None)

    async def main() -> int:
        async with LaunchDarklyClient(settings(concurrency=1),
                                      transport=httpx.MockTransport(held)) as client:
            async def connect() -> LaunchDarklyClient:
                return client

            stream = PlanStream(connect, OPTIONS)

            async def feed() -> None:
                for project in projects():
                    await stream.add(project)

            feeding = asyncio.create_task(feed())
            for _ in range(20):
                await asyncio.sleep(0)
            in_flight = len(handed)
            gate.set()
            await feeding
            assert [p.project for p in (await stream.finish()).projects] == PROJECTS
            return in_flight

    # Two started, the third handed in and waiting for a slot; none after it.
    assert asyncio.run(main()) == 3
