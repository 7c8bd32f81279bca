"""A long wait is announced by the CLI: the library hands it to the `on_wait` the command
passes (its default is silence), and the command shows it as one line on stderr. The
CLI runs in process against the in-process sandbox, whose first answer is a 429; the
clients run on a fake clock, so nothing is slept."""

import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import respx
from fake_github import API, PULL, REPO, TOKEN, FakeGitHub

import reconciler.github
from reconciler import manager
from reconciler.aviator import settings as aviator_settings
from tests.entry_point import EntryPoint
from tests.faketime import FakeTime

FIXTURE = {
    "projects": {"web": {"environments": ["test"]}},
    "aviator": {"projects": {"web-pipelines": {"environments": ["production"]}}},
}
PIPELINE = """\
key: standard
name: Standard
phases:
  - name: P1
    audiences:
      - name: QA
        environmentKey: test
"""


class FirstAnswerSlowsDown(httpx.AsyncBaseTransport):
    """The sandbox, except that the first request is answered 429 with `Retry-After`;
    its route goes to `refused`."""

    def __init__(self, sandbox: httpx.AsyncBaseTransport, retry_after: int,
                 refused: list[str]) -> None:
        self._sandbox = sandbox
        self._retry_after = retry_after
        self._refused = refused
        self._answered = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._answered:
            return await self._sandbox.handle_async_request(request)
        self._answered = True
        self._refused.append(f"{request.method} {request.url.path}")
        return httpx.Response(429, headers={"Retry-After": str(self._retry_after)},
                              json={"code": "rate_limited", "message": "slow down"})


def slow_down(monkeypatch: pytest.MonkeyPatch, owner: ModuleType, name: str,
              retry_after: int) -> list[str]:
    """Replaces the client class `owner.name`: each client it builds runs on a fake clock,
    over a transport whose first answer is a 429; every other argument, `on_wait` among
    them, is the command's. Returns the routes refused, in order."""
    real, refused = getattr(owner, name), []

    def build(*args: Any, transport: httpx.AsyncBaseTransport, **options: Any) -> Any:
        fake = FakeTime()
        return real(*args, transport=FirstAnswerSlowsDown(transport, retry_after, refused),
                    sleep=fake.sleep, clock=fake.clock, **options)

    monkeypatch.setattr(owner, name, build)
    return refused


@pytest.fixture
def state(tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch) -> str:
    """A workspace whose one pipeline is not live yet, with Aviator (in the sandbox) and
    GitHub (the fake, through respx) configured."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    (tmp_path / "pipelines" / "web" / "standard.yaml").write_text(PIPELINE)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PULL, "head": {"sha": "abc"}}}))
    for name in [n for n in os.environ if n.startswith(("AVIATOR_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    for name, value in {"AVIATOR_API_TOKEN": "aviator-token", "AVIATOR_PROJECT": "web-pipelines",
                        "AVIATOR_ENVIRONMENT": "production", "GITHUB_TOKEN": TOKEN,
                        "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API,
                        "GITHUB_EVENT_PATH": str(event),
                        "GITHUB_SHA": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"}.items():
        monkeypatch.setenv(name, value)
    return str(seeded_state(FIXTURE))


def waits(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("waiting")]


def test_a_long_launchdarkly_wait_is_one_line_on_stderr(
        state: str, monkeypatch: pytest.MonkeyPatch, entry_point: EntryPoint) -> None:
    refused = slow_down(monkeypatch, manager, "LaunchDarklyClient", 20)
    code, _, err = entry_point("plan", "--sandbox", state)
    assert code == 0, err
    (route,) = refused
    assert err == f"waiting 20s: before retrying {route}: 429 slow down (rate_limited)\n"


def test_a_short_launchdarkly_wait_is_not_announced(
        state: str, monkeypatch: pytest.MonkeyPatch, entry_point: EntryPoint) -> None:
    refused = slow_down(monkeypatch, manager, "LaunchDarklyClient", 2)
    code, _, err = entry_point("plan", "--sandbox", state)
    assert code == 0, err
    assert len(refused) == 1  # it did wait, briefly
    assert err == ""


def test_a_long_aviator_wait_is_one_line_on_stderr(
        state: str, monkeypatch: pytest.MonkeyPatch, entry_point: EntryPoint) -> None:
    refused = slow_down(monkeypatch, aviator_settings, "AviatorClient", 20)
    code, out, err = entry_point("aviator", "deployments", "--sandbox", state)
    assert code == 0, err
    assert out == "web-pipelines / production: no deployments\n"
    (route,) = refused
    assert err == f"waiting 20s: before retrying {route}: 429 slow down\n"


def test_a_long_aviator_wait_during_apply_is_one_line_on_stderr(
        state: str, monkeypatch: pytest.MonkeyPatch, entry_point: EntryPoint) -> None:
    refused = slow_down(monkeypatch, aviator_settings, "AviatorClient", 20)
    code, _, err = entry_point("apply", "--yes", "--sandbox", state)
    assert code == 0, err
    # The report opens a client for the start and one for the end: each is refused once.
    assert len(refused) == 2
    assert waits(err) == [f"waiting 20s: before retrying {route}: 429 slow down"
                          for route in refused]


def test_a_long_github_wait_is_one_line_on_stderr(
        state: str, monkeypatch: pytest.MonkeyPatch, entry_point: EntryPoint) -> None:
    github, refused = FakeGitHub(), []

    def first_slows_down(request: httpx.Request) -> httpx.Response:
        if refused:
            return github.handle(request)
        refused.append(f"{request.method} {request.url.path}")
        return httpx.Response(429, headers={"Retry-After": "20"},
                              json={"message": "slow down"})

    fake = FakeTime()
    real = reconciler.github.GitHubClient
    monkeypatch.setattr(reconciler.github, "GitHubClient", lambda *args, **options: real(
        *args, sleep=fake.sleep_blocking, clock=fake.clock, **options))
    with respx.mock(assert_all_called=False) as router:
        router.route(host="api.github.test").mock(side_effect=first_slows_down)
        code, _, err = entry_point("plan", "--sandbox", state, "--github-comment")
    assert code == 0, err
    (route,) = refused
    assert err.splitlines()[0] == f"waiting 20s: before retrying {route}: 429 slow down"
    assert err.splitlines()[1].startswith(f"github: pull request #{PULL}: plan comment")
    assert len(err.splitlines()) == 2
