"""Baseline I0, the floor under a plan's imports: what a plan cannot do without, imported
and nothing of the tool's own. The command line (click), the HTTP client and its event
loop (httpx with a client opened, asyncio), validation (pydantic, with one model built,
which loads its plug-in lookup), the YAML parser (yaml-rs), the parse cache (sqlite3) and
digests (hashlib).

    python -X importtime -m tests.benchmarks.import_floor

prints "imported". Its own package (tests.benchmarks) is left out of the count.
"""

import asyncio
import hashlib  # noqa: F401
import sqlite3  # noqa: F401

import click  # noqa: F401
import httpx
import pydantic
import yaml_rs  # noqa: F401


class Built(pydantic.BaseModel):
    key: str


async def connect() -> None:
    """An HTTP client opened and closed: httpx loads its transport (httpcore, h11, anyio)
    only then."""
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9"):
        pass


if __name__ == "__main__":
    asyncio.run(connect())
    print("imported")
