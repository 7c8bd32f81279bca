"""`make bench`: the reconciler's API economy and speed at fleet scale, side by side with
hand-written scripts, in one run (issues 7 and 16).

    python -m tests.benchmarks.run [--runs 3] [--projects 200] [--pipelines 20]
        [--cpu-projects 500] [--latency-ms 50] [--rate-limit 50] [--out FILE]

Starts `reconciler sandbox serve` on loopback, seeds it with a generated fleet, runs the
CLI as a user would (a fresh process per measurement, the median of --runs), and prints a
Markdown table, also written to --out (default tests/benchmarks/RESULTS.md).
"""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from reconciler import __version__
from tests.benchmarks import report
from tests.benchmarks.fleet import PAGE_SIZE, Fleet
from tests.benchmarks.processes import (
    REPO,
    BenchmarkError,
    Server,
    clean_environment,
    measure,
    sandbox_server,
)
from tests.benchmarks.results import Config, Results, Run, Stages

RESULTS = REPO / "tests" / "benchmarks" / "RESULTS.md"
TOKEN = "bench-token"
TIMEOUT_SECONDS = 1800.0


class Bench:
    """The working folder, the fleets, and the commands measured in it."""

    def __init__(self, config: Config, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.fleet = Fleet(config.projects, config.pipelines)
        self.cpu_fleet = Fleet(config.cpu_projects, config.pipelines)
        self.state = workdir / "fleet.json"
        self.policy_state = workdir / "policy-fleet.json"
        self.with_policies = workdir / "pipelines-policies"
        self.cpu_state = workdir / "cpu-fleet.json"
        self.unchanged = workdir / "pipelines-unchanged"
        self.changed = workdir / "pipelines-changed"
        self.cpu_changed = workdir / "pipelines-cpu-changed"
        self.no_projects = workdir / "pipelines-none"
        self.tiny_state = workdir / "tiny.json"
        self.tiny = workdir / "pipelines-tiny"
        self.plan_file = workdir / "plan.json"
        self.warm_cache = workdir / "cache-warm"
        self._outputs = 0

    def prepare(self) -> None:
        # In child processes, so that this one stays small (see tests.benchmarks.fleet).
        for fleet, state, folders in (
            (self.fleet, self.state, ["--unchanged", self.unchanged, "--changed", self.changed]),
            (self.cpu_fleet, self.cpu_state, ["--changed", self.cpu_changed]),
            (Fleet(1, 1), self.tiny_state, ["--unchanged", self.tiny]),
            (self.fleet, self.policy_state, ["--unchanged", self.with_policies, "--policies"]),
        ):
            subprocess.run([sys.executable, "-m", "tests.benchmarks.fleet", str(fleet.projects),
                            str(fleet.pipelines_per_project), "--state", str(state),
                            *map(str, folders)], cwd=REPO, check=True)
        self.no_projects.mkdir()

    def _output(self) -> Path:
        self._outputs += 1
        return self.workdir / "runs" / f"{self._outputs:03d}"

    def run(self, label: str, module: str, args: Sequence[str], *, expect: int = 0,
            server: Server | None = None, pipelines: Path | None = None,
            cache: Path | None = None, python: Sequence[str] = ()) -> Run:
        """One measured `python [python] -m module args`, with the requests `server` logged.
        The parse cache is `cache`, or a new empty one: every run is cold unless told."""
        output = self._output()
        environ = {"LAUNCHDARKLY_ACCESS_TOKEN": TOKEN,
                   "RECONCILER_CACHE_DIR": str(cache or output / "cache")}
        if server is not None:
            environ["LAUNCHDARKLY_BASE_URI"] = server.url
        if pipelines is not None:
            environ["RECONCILER_PIPELINES_DIR"] = str(pipelines)
        mark = server.mark() if server is not None else 0
        measurement = measure(label, [sys.executable, *python, "-m", module, *args],
                              clean_environment(environ), output, expect=expect,
                              timeout=TIMEOUT_SECONDS)
        return Run(measurement, server.requests_since(mark) if server is not None else [])

    def repeat(self, label: str, once: Callable[[], Run],
               check: Callable[[Run], str | None]) -> list[Run]:
        runs = []
        for index in range(self.config.runs):
            print(f"  {label} run {index + 1}/{self.config.runs}", file=sys.stderr, flush=True)
            run = once()
            problem = check(run)
            if problem:
                raise BenchmarkError(f"{label}: {problem}")
            runs.append(run)
        return runs


def _expect_output(text: str) -> Callable[[Run], str | None]:
    def check(run: Run) -> str | None:
        found = text in run.measurement.stdout
        return None if found else f"output lacks {text!r}:\n{run.measurement.stdout[-2000:]}"

    return check


def _updates(fleet: Fleet) -> Callable[[Run], str | None]:
    return _expect_output(f"Plan: 0 to create, {fleet.changed} to update, 0 to replace, "
                          "0 to delete")


IMPORTTIME = ("-X", "importtime")


def _interpreter_imports() -> frozenset[str]:
    done = subprocess.run([sys.executable, *IMPORTTIME, "-c", "pass"], capture_output=True,
                          text=True, check=True)
    return frozenset(line.split("|")[2].strip() for line in done.stderr.splitlines()
                     if line.count("|") == 2 and line.split("|")[1].strip().isdigit())


def measure_all(bench: Bench) -> Results:
    config, fleet = bench.config, bench.fleet
    latency = ["--latency-ms", str(config.latency_ms)]
    results = Results(config=config, fleet=fleet, cpu_fleet=bench.cpu_fleet)

    print("start-up and imports", file=sys.stderr)
    results.version = bench.repeat(
        "reconciler --version", lambda: bench.run("--version", "reconciler", ["--version"]),
        _expect_output(__version__))
    results.help_imports = bench.repeat("imports of plan --help", lambda: bench.run(
        "plan --help", "reconciler", ["plan", "--help"], python=IMPORTTIME),
        _expect_output("reconciler plan [OPTIONS]"))
    with sandbox_server(bench.tiny_state, bench.workdir) as server:
        results.startup = bench.repeat("start-up: a plan of 1 pipeline", lambda: bench.run(
            "start-up", "reconciler", ["plan", "--detailed-exitcode"], server=server,
            pipelines=bench.tiny), _expect_output("No changes"))
        results.plan_imports = bench.repeat("imports of a 1-pipeline plan", lambda: bench.run(
            "start-up", "reconciler", ["plan", "--detailed-exitcode"], server=server,
            pipelines=bench.tiny, python=IMPORTTIME), _expect_output("No changes"))
    results.floor_imports = bench.repeat("I0 imports a plan cannot do without", lambda: bench.run(
        "I0", "tests.benchmarks.import_floor", [], python=IMPORTTIME),
        _expect_output("imported"))
    results.interpreter_imports = _interpreter_imports()

    with sandbox_server(bench.state, bench.workdir, *latency) as server:
        print("W1, S1, B1, W2", file=sys.stderr)
        results.w1 = bench.repeat("W1 plan, no changes", lambda: bench.run(
            "W1", "reconciler", ["plan", "--detailed-exitcode"], server=server,
            pipelines=bench.unchanged), _expect_output("No changes"))
        bench.run("W1 filling the cache", "reconciler", ["plan"], server=server,
                  pipelines=bench.unchanged, cache=bench.warm_cache)
        results.w1_warm = bench.repeat("W1 plan, no changes, cache warm", lambda: bench.run(
            "W1 warm", "reconciler", ["plan", "--detailed-exitcode"], server=server,
            pipelines=bench.unchanged, cache=bench.warm_cache), _expect_output("No changes"))
        results.s1 = bench.repeat("S1 asyncio + httpx script", lambda: bench.run(
            "S1", "tests.benchmarks.script", [server.url, str(bench.unchanged)],
            server=server), _expect_output(f"{fleet.pipelines} pipelines"))
        results.s1_startup = bench.repeat("S1 start-up", lambda: bench.run(
            "S1 start-up", "tests.benchmarks.script", [server.url, str(bench.no_projects)],
            server=server), _expect_output("0 pipelines"))
        results.b1 = bench.repeat("B1 official client", lambda: bench.run(
            "B1", "tests.benchmarks.baseline", [server.url, str(bench.unchanged)],
            server=server), _expect_output(f"{fleet.pipelines} pipelines"))
        results.b1_startup = bench.repeat("B1 start-up", lambda: bench.run(
            "B1 start-up", "tests.benchmarks.baseline", [server.url, str(bench.no_projects)],
            server=server), _expect_output("0 pipelines"))
        results.w2 = bench.repeat("W2 plan, 10% changed", lambda: bench.run(
            "W2", "reconciler", ["plan", "--detailed-exitcode", "--out", str(bench.plan_file)],
            expect=2, server=server, pipelines=bench.changed), _updates(fleet))

    print("W3", file=sys.stderr)
    done = f"Apply: {fleet.changed} done, 0 failed, 0 not run."
    results.w3 = bench.repeat("W3 apply W2's plan", lambda: _apply_on_fresh_state(bench, []),
                              _expect_output(done))

    print("W4, W6", file=sys.stderr)
    rate = ["--rate-limit", str(config.rate_limit)]
    with sandbox_server(bench.state, bench.workdir, *latency, *rate) as server:
        results.w4 = bench.repeat("W4 plan under a rate limit", lambda: bench.run(
            "W4", "reconciler", ["plan", "--detailed-exitcode"], server=server,
            pipelines=bench.unchanged), _expect_output("No changes"))
    results.w6 = bench.repeat("W6 apply under a rate limit",
                              lambda: _apply_on_fresh_state(bench, rate), _expect_output(done))

    print("W7", file=sys.stderr)
    with sandbox_server(bench.policy_state, bench.workdir, *latency) as server:
        results.w7 = bench.repeat("W7 plan with policies, no changes", lambda: bench.run(
            "W7", "reconciler", ["plan", "--detailed-exitcode"], server=server,
            pipelines=bench.with_policies), _expect_output("No changes"))

    print("W5", file=sys.stderr)
    w5 = ["plan", "--detailed-exitcode", "--sandbox", str(bench.cpu_state)]
    results.w5 = bench.repeat("W5 plan in process", lambda: bench.run(
        "W5", "reconciler", w5, expect=2, pipelines=bench.cpu_changed),
        _updates(bench.cpu_fleet))
    bench.run("W5 filling the cache", "reconciler", w5, expect=2, pipelines=bench.cpu_changed,
              cache=bench.warm_cache)
    results.w5_warm = bench.repeat("W5 plan in process, cache warm", lambda: bench.run(
        "W5 warm", "reconciler", w5, expect=2, pipelines=bench.cpu_changed,
        cache=bench.warm_cache), _updates(bench.cpu_fleet))
    s5 = [str(bench.cpu_changed), str(bench.cpu_state), str(bench.cpu_fleet.projects),
          str(bench.cpu_fleet.pipelines_per_project)]
    results.s5 = bench.repeat("S5 floor of W5", lambda: bench.run(
        "S5", "tests.benchmarks.floor", s5),
        _expect_output(f'"pipelines": {bench.cpu_fleet.pipelines}'))
    phases = bench.run("W5 stages", "tests.benchmarks.phases",
                       [str(bench.cpu_changed), str(bench.cpu_state)])
    answer = json.loads(phases.measurement.stdout)
    results.stages = Stages(answer["pipelines"], answer["steps"], answer["stages"],
                            answer["peaks"])
    return results


def _apply_on_fresh_state(bench: Bench, options: Sequence[str]) -> Run:
    """`apply plan.json` against a server (with `options`) over a fresh copy of the fleet's
    live state (an apply changes live, so each run starts from the state W2 planned
    against)."""
    state = bench.workdir / "apply-state.json"
    shutil.copyfile(bench.state, state)
    latency = ["--latency-ms", str(bench.config.latency_ms)]
    with sandbox_server(state, bench.workdir, *latency, *options) as server:
        return bench.run("W3", "reconciler", ["apply", str(bench.plan_file)], server=server,
                         pipelines=bench.changed)


def machine() -> dict[str, str]:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "load": ", ".join(f"{load:.1f}" for load in os.getloadavg()),
    }


def parse(argv: Sequence[str] | None) -> tuple[Config, Path]:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run",
                                     description=__doc__.split("\n\n")[0])
    defaults = Config()
    for name in ("runs", "projects", "pipelines", "cpu_projects", "latency_ms", "rate_limit"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int,
                            default=getattr(defaults, name))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 1 <= args.pipelines <= PAGE_SIZE:
        parser.error(f"--pipelines must be between 1 and {PAGE_SIZE} (LaunchDarkly's cap)")
    config = Config(args.runs, args.projects, args.pipelines, args.cpu_projects,
                    args.latency_ms, args.rate_limit)
    return config, args.out


def main(argv: Sequence[str] | None = None) -> int:
    config, out = parse(argv)
    started = time.monotonic()
    before = machine()
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as workdir:
        bench = Bench(config, Path(workdir))
        print(f"generating {bench.fleet.pipelines} + {bench.cpu_fleet.pipelines} pipelines",
              file=sys.stderr)
        bench.prepare()
        try:
            results = measure_all(bench)
        except BenchmarkError as error:
            print(f"benchmark failed: {error}", file=sys.stderr)
            return 1
    # Every child's peak RSS figure includes this process's peak at the time it started.
    floor_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = report.render(results, before, machine()["load"], time.monotonic() - started,
                         floor_mb)
    print(text)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
