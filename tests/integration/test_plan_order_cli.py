"""Ordering and the delete threshold through the real CLI, in process against
`--sandbox STATE`. Every expectation is worked out by hand from the fixture."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.errors import ReconcilerError
from reconciler.sandbox import create_app, seed_state, transport
from tests.builders import dump_yaml, pipeline, project

KEYS = "abcdef"
HEADERS = {"Authorization": "sandbox-token", "LD-API-Version": "beta"}


class Repo:
    def __init__(self, root: Path, live: list[dict[str, Any]], default: str) -> None:
        self.state, self.dir = root / "state.json", root / "pipelines"
        seed_state(self.state, {"projects": {"web": project(live, default=default)}})
        (self.dir / "web").mkdir(parents=True)

    def write(self, *pipelines: dict[str, Any]) -> None:
        for body in pipelines:
            dump_yaml(body, self.dir / "web" / f"{body['key']}.yaml")

    def cli(self, command: str, *args: str) -> tuple[int, str]:
        """The exit code main() gives (the command's return value, or 1 for the
        ReconcilerError it prints) and the output."""
        result = CliRunner().invoke(cli, [command, "--sandbox", str(self.state),
                                          "--pipelines-dir", str(self.dir), *args],
                                    standalone_mode=False)
        if isinstance(result.exception, ReconcilerError):
            return 1, result.output
        assert result.exception is None, result.output
        return result.return_value, result.output

    def live(self) -> tuple[dict[str, bool], list[str]]:
        """isLegacy by key, and the keys marked as the project's default."""

        async def listing() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(transport=transport(create_app(self.state)),
                                         base_url="http://sandbox", headers=HEADERS) as client:
                answer = await client.get("/api/v2/projects/web/release-pipelines")
                items: list[dict[str, Any]] = answer.json()["items"]
                return items

        pipelines = asyncio.run(listing())
        return ({p["key"]: p["_isLegacy"] for p in pipelines},
                [p["key"] for p in pipelines if p.get("isProjectDefault")])


def test_replacing_five_of_six_needs_force_and_names_them(tmp_path: Path) -> None:
    repo = Repo(tmp_path, [pipeline(k, isLegacy=False) for k in KEYS], default="a")
    repo.write(pipeline("a", isLegacy=False), *(pipeline(k, isLegacy=True) for k in "fedcb"))
    code, output = repo.cli("plan")
    assert code == 1
    assert ("the plan deletes 5 of 6 pipelines (over 30%: b, c, d, e, f); pass --force to "
            "allow it") in output
    assert repo.cli("apply", "--yes")[0] == 1
    assert repo.live()[0] == dict.fromkeys(KEYS, False)  # nothing ran
    assert repo.cli("plan", "--max-delete-percent", "90")[0] == 0
    assert repo.cli("apply", "--yes", "--force")[0] == 0
    assert repo.live() == ({"a": False, **dict.fromkeys("bcdef", True)}, ["a"])


def test_flipping_every_pipeline_keeps_a_default_git_does_not_manage(tmp_path: Path) -> None:
    repo = Repo(tmp_path, [pipeline(k, isLegacy=False) for k in "abc"], default="b")
    repo.write(*(pipeline(k, isLegacy=True) for k in "abc"))
    code, output = repo.cli("plan")
    assert code == 1 and "deletes all 3 pipelines of the project (a, b, c)" in output
    code, output = repo.cli("apply", "--yes", "--force")
    assert code == 0, output
    assert repo.live() == (dict.fromkeys("abc", True), ["b"])
    assert repo.cli("plan", "--detailed-exitcode") == (0, "No changes. Live matches git.\n")
