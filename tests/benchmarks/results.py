"""What a benchmark run measured: the settings, and every run of every workload."""

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
    w1: list[Run] = field(default_factory=list)
    b1: list[Run] = field(default_factory=list)
    b1_startup: list[Run] = field(default_factory=list)  # the script over no projects
    w2: list[Run] = field(default_factory=list)
    w3: list[Run] = field(default_factory=list)
    w4: list[Run] = field(default_factory=list)
    w5: list[Run] = field(default_factory=list)
    stages: Stages = field(default_factory=lambda: Stages(0, 0, {}, {}))


def wall(runs: Sequence[Run]) -> float:
    return median(r.measurement.wall for r in runs)


def cpu(runs: Sequence[Run]) -> float:
    return median(r.measurement.cpu for r in runs)


def rss(runs: Sequence[Run]) -> float:
    return median(r.measurement.max_rss_mb for r in runs)


def calls(runs: Sequence[Run], *, method: str | None = None, status: int | None = None) -> float:
    return median(r.count(method=method, status=status) for r in runs)
