"""The reliability suite's workbench: the real CLI as a subprocess against a `sandbox serve`
on loopback, the sandbox's request log, and the invariants every scenario ends with.

The invariants (README, "Reliability"):
- converged: after a final `apply`, `plan --detailed-exitcode` exits 0 (live equals git);
- kept: no pipeline that git does not manage was deleted unless its project prunes, and
  no protected pipeline was ever deleted;
- safe: LaunchDarkly never had to refuse a create (the 20 cap) or a delete (the default,
  active releases): the request log has no 400 on a pipeline POST or DELETE, and every
  project ends with at most 20 pipelines and exactly one default;
- quiet: the access token never appears in anything the CLI printed or wrote.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.builders import dump_yaml, pipeline, project  # noqa: F401  (re-exported)

TOKEN = "ld-canary-5f1e9a3c7b2d4e68"  # a canary: must never be printed or written anywhere
CLI_SECONDS = 120  # a bound for one CLI run; a hang fails the test instead of blocking it
FOREIGN = ("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_", "RECONCILER_")
MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PIPELINES = "release-pipelines"  # the route segment of every pipeline operation
# An extra apply absorbs a run that an injected fault stopped; more would hide a bug.
CONVERGE_ATTEMPTS = 3
LIVE_ATTEMPTS = 50


def base_seed() -> int:
    """The suite's seed: fixed so CI is repeatable; set RECONCILER_RELIABILITY_SEED to
    explore other fault sequences, kill points and scenarios."""
    return int(os.environ.get("RECONCILER_RELIABILITY_SEED", "0"))


@dataclass(frozen=True)
class Logged:
    """One line of the sandbox's request log."""

    time: float  # when the request arrived
    method: str
    path: str
    status: int | None  # None: the connection was dropped (by a fault or a restart)

    @property
    def project(self) -> str | None:
        parts = self.path.split("/")
        return parts[4] if len(parts) > 4 and parts[1:4] == ["api", "v2", "projects"] else None

    @property
    def pipeline_key(self) -> str | None:
        parts = self.path.split("/")
        return parts[6] if len(parts) > 6 and parts[5] == PIPELINES else None

    @property
    def on_pipelines(self) -> bool:
        return self.project is not None and f"/{PIPELINES}" in self.path

    @property
    def mutation(self) -> bool:
        return self.method in MUTATIONS


class RequestLog:
    """The sandbox's request log, read incrementally (scenarios poll it while it grows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._records: list[Logged] = []

    def records(self) -> list[Logged]:
        """Every request so far, in the order they arrived (the file has them in the
        order they finished)."""
        if self.path.exists():
            with self.path.open("rb") as file:
                file.seek(self._offset)
                chunk = file.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a last line may be half written
            self._offset += len(complete)
            for line in complete.decode("utf-8").splitlines():
                raw = json.loads(line)
                self._records.append(
                    Logged(raw["time"], raw["method"], raw["path"], raw["status"]))
            self._records.sort(key=lambda record: record.time)
        return list(self._records)


@dataclass
class Managed:
    """What git has said about one project during a scenario (it may change mid-way)."""

    keys: set[str] = field(default_factory=set)
    protected: set[str] = field(default_factory=set)
    prune: bool = False


class Cli:
    """Runs `python -m reconciler` with the canary token; remembers every output."""

    def __init__(self, root: Path, url: str, pipelines_dir: Path) -> None:
        self.root = root
        self.url = url
        self.pipelines_dir = pipelines_dir
        self.outputs: list[str] = []
        self.env: dict[str, str] = {}

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
        environ.update({"LAUNCHDARKLY_BASE_URI": self.url, "LAUNCHDARKLY_ACCESS_TOKEN": TOKEN,
                        "RECONCILER_PIPELINES_DIR": str(self.pipelines_dir), **self.env})
        environ.update(extra or {})
        return environ

    def run(self, *args: str, env: Mapping[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "reconciler", *args],
                                env=self.environ(env), capture_output=True, text=True,
                                timeout=CLI_SECONDS, cwd=self.root)
        self.note(result.stdout, result.stderr)
        return result

    def start(self, *args: str, name: str, env: Mapping[str, str] | None = None
              ) -> "Running":
        """The CLI in the background, its output in files (a pipe could fill and block it)."""
        out, err = self.root / f"{name}.out", self.root / f"{name}.err"
        with out.open("w") as stdout, err.open("w") as stderr:
            process = subprocess.Popen([sys.executable, "-m", "reconciler", *args],
                                       env=self.environ(env), stdout=stdout, stderr=stderr,
                                       text=True, cwd=self.root)
        return Running(self, process, out, err)

    def note(self, stdout: str, stderr: str) -> None:
        self.outputs += [stdout, stderr]
        assert "Traceback" not in stderr, stderr
        assert TOKEN not in stdout + stderr


@dataclass
class Running:
    cli: Cli
    process: subprocess.Popen[str]
    out: Path
    err: Path

    def kill(self) -> bool:
        """SIGKILL, if the process is still running; whether it was sent."""
        if self.process.poll() is not None:
            return False
        os.kill(self.process.pid, signal.SIGKILL)
        return True

    def wait(self) -> subprocess.CompletedProcess[str]:
        try:
            code = self.process.wait(CLI_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        stdout, stderr = self.out.read_text(), self.err.read_text()
        self.cli.note(stdout, stderr)
        return subprocess.CompletedProcess(self.process.args, code, stdout, stderr)


class Workspace:
    """A pipelines/ folder, one sandbox server with a request log, and the CLI on both."""

    def __init__(self, root: Path, server: Any, request_log: Path) -> None:
        self.root = root
        self.server = server
        self.request_log = request_log
        self._log = RequestLog(request_log)
        self.dir = root / "pipelines"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cli = Cli(root, server.url, self.dir)
        self.managed: dict[str, Managed] = {}
        self.by_hand: list[tuple[str, str, float, float]] = []  # method, path, sent, answered

    def use(self, server: Any) -> None:
        """Point the CLI at another server (a restarted sandbox)."""
        self.server = server
        self.cli.url = server.url

    def write(self, project_key: str, pipelines: Iterable[Mapping[str, Any]],
              settings: Mapping[str, Any] | None = None, *, into: Path | None = None) -> None:
        """Write a project's files into pipelines/ (or `into`: another checkout of git)."""
        folder = (into or self.dir) / project_key
        if folder.exists():
            for old in folder.glob("*.yaml"):
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        seen = self.managed.setdefault(project_key, Managed())
        for body in pipelines:
            dump_yaml(dict(body), folder / f"{body['key']}.yaml")
            seen.keys.add(body["key"])
        if settings:
            dump_yaml(dict(settings), folder / "_project.yaml")
            seen.prune = seen.prune or bool(settings.get("prune"))
            seen.protected.update(settings.get("protected", []))

    def run(self, *args: str, env: Mapping[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        return self.cli.run(*args, env=env)

    def log(self) -> list[Logged]:
        return self._log.records()

    def live(self, project_key: str) -> dict[str, dict[str, Any]]:
        """The project's pipelines, read past the sandbox's injected faults and 429s."""
        headers = {"Authorization": TOKEN, "LD-API-Version": "beta"}
        url = f"{self.server.url}/api/v2/projects/{project_key}/release-pipelines"
        for _ in range(LIVE_ATTEMPTS):
            try:
                response = httpx.get(url, params={"limit": 50}, headers=headers, timeout=30)
            except httpx.TransportError:
                continue
            if response.status_code != 429 and response.status_code < 500:
                response.raise_for_status()
                return {p["key"]: p for p in response.json()["items"]}
            time.sleep(0.2)
        raise AssertionError(f"could not read {url}")

    def edit(self, method: str, path: str, body: Any = None) -> None:
        """A change made by hand (in LaunchDarkly's UI), straight to the sandbox; the
        invariants, which are about the CLI, leave it out."""
        version = "beta" if f"/{PIPELINES}" in path else "20240415"
        sent = time.time()
        response = httpx.request(method, f"{self.server.url}{path}", json=body, timeout=30,
                                 headers={"Authorization": TOKEN, "LD-API-Version": version})
        response.raise_for_status()
        self.by_hand.append((method, path, sent, time.time()))

    def _by_hand(self, record: Logged) -> bool:
        return any(record.method == method and record.path == path and sent <= record.time <= done
                   for method, path, sent, done in self.by_hand)

    def converge(self, *args: str) -> None:
        """Re-run apply until it succeeds (a run may be stopped by injected faults), then
        require a plan with no changes."""
        for _ in range(CONVERGE_ATTEMPTS):
            applied = self.run("apply", "--yes", *args)
            assert applied.returncode in (0, 1), applied.stderr
            if applied.returncode == 0:
                break
        assert applied.returncode == 0, applied.stdout + applied.stderr
        again = self.run("plan", "--detailed-exitcode", *args)
        assert again.returncode == 0, again.stdout + again.stderr

    def check_invariants(self, *, refusals_allowed: bool = False) -> None:
        """Every invariant but convergence (see `converge`), over the whole request log.
        `refusals_allowed`: a scenario that races two applies may see LaunchDarkly refuse
        a step (the sandbox keeps its rules); the other invariants still hold."""
        log = self.log()
        for record in log:
            if not (record.on_pipelines and record.mutation) or self._by_hand(record):
                continue
            if not refusals_allowed:
                assert not (record.method in ("POST", "DELETE") and record.status == 400), (
                    f"LaunchDarkly had to refuse {record.method} {record.path}")
            if record.method == "DELETE" and record.project in self.managed:
                seen = self.managed[record.project]
                assert record.pipeline_key not in seen.protected, f"deleted {record.path}"
                assert seen.prune or record.pipeline_key in seen.keys, (
                    f"deleted unmanaged {record.path} without prune")
        for project_key in self.managed:
            live = self.live(project_key)
            assert len(live) <= 20, project_key
            if live:
                defaults = [k for k, p in live.items() if p.get("isProjectDefault")]
                assert len(defaults) == 1, (project_key, defaults)

    def check_quiet(self) -> None:
        """The canary is in no output and no file the CLI or the sandbox wrote."""
        assert all(TOKEN not in text for text in self.cli.outputs)
        for written in self.root.rglob("*"):
            if written.is_file():
                assert TOKEN.encode() not in written.read_bytes(), written


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `condition()` until true; fail after `seconds` (a bound, not a measurement)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)
