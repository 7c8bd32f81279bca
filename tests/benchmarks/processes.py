"""Measured child processes, and `reconciler sandbox serve` as a real server.

A measured command is spawned and reaped with wait4, which gives that one child's CPU
time and peak RSS (RUSAGE_CHILDREN would mix in every earlier child, the servers
included). Every process started here is stopped by its pid.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
STOP_SECONDS = 10
QUIET_SECONDS = 0.1
# Variables that would point the CLI at a real account or make it act as in CI.
FOREIGN_PREFIXES = ("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_", "RECONCILER_")


class BenchmarkError(Exception):
    """A command failed or answered wrongly: its figures would mean nothing."""


@dataclass(frozen=True)
class Measurement:
    wall: float  # seconds from spawn to exit
    cpu: float  # user + system seconds of the child
    max_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    return {**environ, **extra}


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.splitlines()[-lines:])


def measure(label: str, argv: Sequence[str], environ: Mapping[str, str], output: Path, *,
            expect: int, timeout: float) -> Measurement:
    """Run `argv` to completion with stdout and stderr in files under `output`; raises
    BenchmarkError (naming the run `label`) unless it exits with `expect`."""
    output.mkdir(parents=True, exist_ok=True)
    out_path, err_path = output / "stdout", output / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err, \
            open(os.devnull, "rb") as null:
        actions = [(os.POSIX_SPAWN_DUP2, null.fileno(), 0),
                   (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                   (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        started = time.perf_counter()
        pid = os.posix_spawn(argv[0], list(argv), dict(environ), file_actions=actions)
    exited = os.pidfd_open(pid)
    try:
        if not select.select([exited], [], [], timeout)[0]:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            raise BenchmarkError(f"{label} did not finish in {timeout:.0f} s")
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - started
    finally:
        os.close(exited)
    result = Measurement(
        wall=wall, cpu=usage.ru_utime + usage.ru_stime, max_rss_mb=usage.ru_maxrss / 1024,
        exit_code=os.waitstatus_to_exitcode(status),
        stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"),
    )
    if result.exit_code != expect:
        raise BenchmarkError(
            f"{label} exited {result.exit_code}, expected {expect}:\n"
            f"{_tail(result.stdout)}\n{_tail(result.stderr)}")
    return result


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int | None


class Server:
    """A running `reconciler sandbox serve`; `requests_since(mark)` reads its request log."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def _lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def mark(self) -> int:
        return len(self._lines())

    def requests_since(self, mark: int) -> list[Request]:
        """The requests logged after `mark`. The log line is written just after the response
        is sent, so wait until the log is quiet before counting."""
        lines = self._lines()
        while True:
            time.sleep(QUIET_SECONDS)
            again = self._lines()
            if len(again) == len(lines):
                break
            lines = again
        records: list[dict[str, Any]] = [json.loads(line) for line in lines[mark:]]
        return [Request(r["method"], r["path"], r["status"]) for r in records]


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def sandbox_server(state: Path, workdir: Path, *options: str) -> Iterator[Server]:
    """`reconciler sandbox serve` on a free loopback port over `state`, stopped on exit."""
    log = workdir / f"{state.stem}-requests.jsonl"
    log.unlink(missing_ok=True)
    errors = workdir / f"{state.stem}-server.log"
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--host", "127.0.0.1",
               "--port", "0", "--state", str(state), "--request-log", str(log), *options]
    with errors.open("w") as stderr:
        process = subprocess.Popen(command, cwd=REPO, env=clean_environment({}), text=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=stderr)
    try:
        assert process.stdout is not None
        ready = select.select([process.stdout], [], [], STARTUP_SECONDS)[0]
        line = process.stdout.readline() if ready else ""
        if not line.startswith("listening on http://"):
            raise BenchmarkError(f"the sandbox did not start: {line!r}\n"
                                 f"{_tail(errors.read_text())}")
        yield Server(line.removeprefix("listening on ").strip(), log)
    finally:
        _stop(process)
