"""Shared fixtures.

- `seeded_state(fixture_dict)`: a state file in tmp_path loaded with a sandbox fixture.
- `sandbox_app(fixture=None, **create_app_options)`: the sandbox in process, with a
  synchronous `.request(method, path, ...)` and an async `.client()`.
- `sandbox_server(fixture=None, *serve_args, state_path=None)`: a real
  `python -m reconciler sandbox serve --port 0` on loopback, stopped by pid at teardown.
- `entry_point(*args)`: the CLI in process as its entry point runs it (tests/entry_point.py):
  (exit code, stdout, stderr).

In-process and server requests carry LD_HEADERS unless a test passes its own headers.
"""

import asyncio
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from reconciler.sandbox import create_app, seed_state, transport
from tests.entry_point import EntryPoint

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
LD_HEADERS = {"Authorization": "sandbox-token", "LD-API-Version": "beta"}
STARTUP_SECONDS = 30
STOP_SECONDS = 10


@pytest.fixture(autouse=True, scope="session")
def _parse_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CLI's parse cache, for runs in process and in child processes alike: in the
    session's temporary folder, never the user's ~/.cache. Shared by the whole session,
    so most runs read some files from it, as they would in use."""
    os.environ["RECONCILER_CACHE_DIR"] = str(tmp_path_factory.mktemp("parse-cache"))


@pytest.fixture
def entry_point(monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> EntryPoint:
    return EntryPoint(monkeypatch, capsys)


@pytest.fixture
def seeded_state(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1_000_000))

    def seed(fixture: Mapping[str, Any], name: str | None = None) -> Path:
        path = tmp_path / (name or f"state-{next(counter)}.json")
        seed_state(path, fixture)
        return path

    return seed


@dataclass
class InProcessSandbox:
    app: Starlette
    state_path: Path

    def client(self, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=transport(self.app), base_url="http://sandbox",
            headers=LD_HEADERS if headers is None else headers,
        )

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                **kwargs: Any) -> httpx.Response:
        """One request; `headers` replaces LD_HEADERS rather than adding to them."""

        async def send() -> httpx.Response:
            async with self.client(headers) as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(send())


@pytest.fixture
def sandbox_app(tmp_path: Path) -> Callable[..., InProcessSandbox]:
    counter = iter(range(1_000_000))

    def start(fixture: Mapping[str, Any] | None = None, **options: Any) -> InProcessSandbox:
        state_path = tmp_path / f"in-process-{next(counter)}.json"
        if fixture is not None:
            seed_state(state_path, fixture)
        return InProcessSandbox(create_app(state_path, **options), state_path)

    return start


@dataclass
class SandboxServer:
    url: str
    state_path: Path
    pid: int
    log_path: Path  # the server's stderr
    process: subprocess.Popen[str] = field(repr=False)

    def stop(self) -> int:
        """SIGTERM, SIGKILL if it has not exited after STOP_SECONDS; its exit status."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
        status = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[Callable[..., SandboxServer]]:
    servers: list[SandboxServer] = []

    def start(fixture: Mapping[str, Any] | None = None, *args: str,
              state_path: Path | None = None) -> SandboxServer:
        index = len(servers)
        state_path = state_path or tmp_path / f"server-{index}.json"
        if fixture is not None:
            seed_state(state_path, fixture)
        log_path = tmp_path / f"server-{index}.log"
        command = [sys.executable, "-m", "reconciler", "sandbox", "serve",
                   "--host", "127.0.0.1", "--port", "0", "--state", str(state_path), *args]
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True
            )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_SECONDS)
        line = process.stdout.readline() if ready else ""
        server = SandboxServer(line.removeprefix("listening on ").strip(), state_path,
                               process.pid, log_path, process)
        servers.append(server)
        if not line.startswith("listening on http://"):
            server.stop()
            pytest.fail(f"the sandbox did not start: {line!r}\n{log_path.read_text()}")
        return server

    yield start
    for server in servers:
        server.stop()
