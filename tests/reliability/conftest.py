"""Fixtures of the reliability suite.

- `workspace(fixture, *serve_args)`: a sandbox server with a request log, a pipelines/
  folder and the CLI pointed at both; at teardown, the canary token must be in no output
  and no file of the test.
- `serve(command, name)`: any server process that prints `listening on <url>`; stopped by
  its pid at teardown.
- `recorder(upstream=None, tls=False)`: tests/reliability/recorder.py (fake GitHub,
  Aviator forwarded to `upstream`, a token-echoing error server), with its request log.
- `certificate`: a self-signed certificate and key for 127.0.0.1, made with openssl.
"""

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import Workspace

HERE = Path(__file__).parent
STARTUP_SECONDS = 30
STOP_SECONDS = 10


@pytest.fixture
def workspace(tmp_path: Path, sandbox_server) -> Iterator[Callable[..., Workspace]]:
    made: list[Workspace] = []

    def make(fixture: dict[str, Any] | None, *serve_args: str) -> Workspace:
        log = tmp_path / f"requests-{len(made)}.jsonl"
        server = sandbox_server(fixture, "--request-log", str(log), *serve_args)
        made.append(Workspace(tmp_path, server, log))
        return made[-1]

    yield make
    for ws in made:
        ws.check_quiet()


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str] = field(repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[list[str], str], Served]]:
    started: list[Served] = []

    def start(command: list[str], name: str) -> Served:
        log = tmp_path / f"{name}.stderr"
        with log.open("w") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr,
                                       text=True, cwd=tmp_path)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_SECONDS)
        line = process.stdout.readline() if ready else ""
        served = Served(line.removeprefix("listening on ").strip(), process)
        started.append(served)
        if not line.startswith("listening on "):
            served.stop()
            pytest.fail(f"{name} did not start: {line!r}\n{log.read_text()}")
        return served

    yield start
    for served in started:
        served.stop()


@dataclass
class Recorder:
    url: str
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def recorder(tmp_path: Path, serve, request: pytest.FixtureRequest) -> Callable[..., Recorder]:
    count = iter(range(1000))

    def start(upstream: str | None = None, tls: bool = False) -> Recorder:
        name = f"recorder-{next(count)}"
        log = tmp_path / f"{name}.jsonl"
        command = [sys.executable, str(HERE / "recorder.py"), "--log", str(log)]
        if upstream:
            command += ["--upstream", upstream]
        if tls:
            cert, key = request.getfixturevalue("certificate")
            command += ["--certfile", str(cert), "--keyfile", str(key)]
        return Recorder(serve(command, name).url, log)

    return start
