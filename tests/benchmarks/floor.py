"""Baseline S5, the floor under W5: what any tool must do in W5's process, and nothing more.
It reads every file of the folder and parses it with the fastest YAML parser the tool has
(yaml-rs), starts the same in-process sandbox over the same state, and makes W5's calls
through it (one list per project, one active-releases list per re-phased pipeline), 8 at
a time, decoding each answer. Nothing is validated, compared or planned.

    python -m tests.benchmarks.floor PIPELINES_DIR SANDBOX_STATE PROJECTS PIPELINES

PROJECTS and PIPELINES give the fleet (tests.benchmarks.fleet), which says which pipelines
were re-phased. Prints one JSON object: how many files, pipelines and releases it read, and
the CPU seconds of its YAML parsing (what a warm parse cache would save a tool).
"""

import time

STARTED = time.process_time()  # before the imports below, as tests.benchmarks.phases counts

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import yaml_rs  # noqa: E402

from reconciler.sandbox.app import create_app, transport  # noqa: E402
from tests.benchmarks.fleet import PHASE_CHANGES, Fleet  # noqa: E402

IMPORTED = time.process_time()
CONCURRENCY = 8
HEADERS = {"Authorization": "bench-token", "LD-API-Version": "beta"}


def parse_files(pipelines_dir: Path) -> tuple[int, float]:
    """How many files, and the CPU seconds spent parsing them (not reading them)."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(pipelines_dir.glob("*/*.yaml"))]
    started = time.process_time()
    for text in texts:
        yaml_rs.loads(text, parse_datetime=False)
    return len(texts), time.process_time() - started


async def fetch(state: Path, fleet: Fleet) -> tuple[int, int]:
    rephased = [(project, key) for project, key, kind in fleet.changes()
                if kind in PHASE_CHANGES]
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url="http://sandbox", headers=HEADERS,
                                 transport=transport(create_app(state))) as client:

        async def count(path: str, params: dict[str, str | int]) -> int:
            async with gate:
                response = await client.get(path, params=params)
            response.raise_for_status()
            return len(response.json()["items"])

        pipelines = asyncio.gather(*(
            count(f"/api/v2/projects/{project}/release-pipelines", {"limit": 20, "offset": 0})
            for project in fleet.project_keys()))
        releases = asyncio.gather(*(
            count(f"/api/v2/projects/{project}/release-pipelines/{key}/releases",
                  {"filter": "status:active"})
            for project, key in rephased))
        found, active = await asyncio.gather(pipelines, releases)
        return sum(found), sum(active)


def main(pipelines_dir: Path, state: Path, fleet: Fleet) -> None:
    files, parsing = parse_files(pipelines_dir)
    pipelines, releases = asyncio.run(fetch(state, fleet))
    print(json.dumps({"files": files, "pipelines": pipelines, "releases": releases,
                      "imports": IMPORTED - STARTED, "parsing": parsing}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Fleet(int(sys.argv[3]), int(sys.argv[4])))
