"""Baseline S1: W1's fetch as a short hand-written script would make it: asyncio and httpx,
the same one list call per project, 8 in flight at once, JSON decoded, nothing planned.

    python -m tests.benchmarks.script BASE_URL PIPELINES_DIR

reads the token from LAUNCHDARKLY_ACCESS_TOKEN and prints how many pipelines it found.
"""

import asyncio
import os
import sys
from pathlib import Path

import httpx

CONCURRENCY = 8


async def fetch(base_url: str, projects: list[str]) -> int:
    headers = {"Authorization": os.environ["LAUNCHDARKLY_ACCESS_TOKEN"], "LD-API-Version": "beta"}
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:

        async def count(project: str) -> int:
            async with gate:
                response = await client.get(f"/api/v2/projects/{project}/release-pipelines",
                                            params={"limit": 20, "offset": 0})
            response.raise_for_status()
            return len(response.json()["items"])

        return sum(await asyncio.gather(*map(count, projects)))


def main(base_url: str, pipelines_dir: Path) -> None:
    projects = sorted(p.name for p in pipelines_dir.iterdir() if p.is_dir())
    print(f"{asyncio.run(fetch(base_url, projects))} pipelines")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
