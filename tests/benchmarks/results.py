"""What a benchmark run measured: the settings, and every run of every workload."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from tests.benchmarks.fleet import Fleet
from tests.benchmarks.processes import Measurement, Request


@dataclass(frozen=True)
class Config:
    runs: int = 3
    projects: int = 200
    pipelines: int = 20
    cpu_projects: int = 500
    latency_ms: int = 50
    rate_limit: int = 50


@dataclass(frozen=True)
class Run:
    measurement: Measurement
    requests: list[Request] = field(default_factory=list)

    def count(self, *, method: str | None = None, status: int | None = None) -> int:
        return sum(1 for r in self.requests
                   if method in (None, r.method) and status in (None, r.status))


@dataclass(frozen=True)
class Stages:
    """tests.benchmarks.phases' answer: CPU seconds by stage of one in-process plan."""

    pipelines: int
    steps: int
    seconds: dict[str, float]  # CPU by stage
    peaks: dict[str, float]  # peak RSS in MB once each step is done, in order


@dataclass
class Results:
    config: Config
    fleet: Fleet  # W1 to W4 and B1
    cpu_fleet: Fleet  # W5
    version: list[Run] = field(default_factory=list)  # `reconciler --version`
    startup: list[Run] = field(default_factory=list)  # a plan of 1 pipeline, no latency
    # Under `python -X importtime`: `plan --help`, and the start-up's plan of 1 pipeline.
    help_imports: list[Run] = field(default_factory=list)
    plan_imports: list[Run] = field(default_factory=list)
    floor_imports: list[Run] = field(default_factory=list)  # I0: what a plan cannot do without
    interpreter_imports: frozenset[str] = frozenset()  # what `python -c pass` imports
    w1: list[Run] = field(default_factory=list)
    w1_warm: list[Run] = field(default_factory=list)  # parse cache filled by an earlier run
    s1: list[Run] = field(default_factory=list)
    s1_startup: list[Run] = field(default_factory=list)  # the script over no projects
    b1: list[Run] = field(default_factory=list)
    b1_startup: list[Run] = field(default_factory=list)  # the script over no projects
    w2: list[Run] = field(default_factory=list)
    w3: list[Run] = field(default_factory=list)
    w4: list[Run] = field(default_factory=list)
    w5: list[Run] = field(default_factory=list)
    w5_warm: list[Run] = field(default_factory=list)
    s5: list[Run] = field(default_factory=list)  # W5's floor: its calls and parsing, no more
    w6: list[Run] = field(default_factory=list)  # W3 under the rate limit
    w7: list[Run] = field(default_factory=list)  # W1 with 2 release policies per project
    stages: Stages = field(default_factory=lambda: Stages(0, 0, {}, {}))


def wall(runs: Sequence[Run]) -> float:
    return median(r.measurement.wall for r in runs)


def cpu(runs: Sequence[Run]) -> float:
    return median(r.measurement.cpu for r in runs)


def rss(runs: Sequence[Run]) -> float:
    return median(r.measurement.max_rss_mb for r in runs)


def answer(runs: Sequence[Run], name: str) -> float:
    """A figure from the JSON object a baseline script printed, as the median of runs."""
    return median(float(json.loads(r.measurement.stdout)[name]) for r in runs)


def calls(runs: Sequence[Run], *, method: str | None = None, status: int | None = None) -> float:
    return median(r.count(method=method, status=status) for r in runs)


def imports(stderr: str, interpreter: frozenset[str]) -> list[tuple[str, float]]:
    """The top-level imports that `python -X importtime` reported in `stderr`, with their
    cumulative seconds, less those the interpreter makes before any code runs."""
    found = []
    for line in stderr.splitlines():
        parts = line.split("|")
        if (line.startswith("import time:") and len(parts) == 3
                and parts[1].strip().isdigit() and parts[2].startswith(" ")
                and not parts[2].startswith("  ") and parts[2].strip() not in interpreter
                and parts[2].strip().split(".")[0] != "tests"):  # I0's own package
            found.append((parts[2].strip(), int(parts[1]) / 1e6))
    return found


def import_seconds(runs: Sequence[Run], interpreter: frozenset[str]) -> float:
    return median(sum(s for _, s in imports(r.measurement.stderr, interpreter)) for r in runs)


def top_imports(stderr: str, interpreter: frozenset[str]) -> list[tuple[str, float]]:
    return sorted(imports(stderr, interpreter), key=lambda item: item[1], reverse=True)
