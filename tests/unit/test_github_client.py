"""The GitHub client: settings from the Actions environment, the pull request from the
event file, rate-limit retries, paging, errors. Sleeps are recorded, never slept."""

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler import USER_AGENT
from reconciler.errors import ApiError, SettingsError
from reconciler.github.client import (
    MAX_RETRIES,
    GitHubClient,
    GitHubSettings,
    pull_request_from_event,
    rate_limit_wait,
    settings_from_environ,
)

TOKEN = "ghs_canary0123456789abcdefghijkl"
API = "https://api.github.test"
NOW = 1_700_000_000.0
ENVIRON = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/pipelines"}


def client_for(handler: Callable[[httpx.Request], httpx.Response],
               sleeps: list[float]) -> GitHubClient:
    settings = GitHubSettings(api_url=API, repository="acme/pipelines", token=TOKEN)
    return GitHubClient(settings, transport=httpx.MockTransport(handler),
                        sleep=sleeps.append, clock=lambda: NOW)


def answers(*responses: httpx.Response) -> tuple[
        Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """A handler giving these responses in order, and the requests it saw."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return handler, seen


def test_settings_come_from_the_actions_environment() -> None:
    settings = settings_from_environ({
        **ENVIRON, "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        "GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_RUN_ID": "42",
        "GITHUB_SHA": "abc123",
    })
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert settings.repository == "acme/pipelines"
    assert settings.run_url == "https://ghe.example.com/acme/pipelines/actions/runs/42"
    assert settings.sha == "abc123"
    assert TOKEN not in repr(settings)
    assert settings_from_environ(ENVIRON).api_url == "https://api.github.com"


@pytest.mark.parametrize(("environ", "message"), [
    ({"GITHUB_REPOSITORY": "acme/pipelines"}, "GITHUB_TOKEN is not set"),
    ({**ENVIRON, "GITHUB_TOKEN": "  "}, "GITHUB_TOKEN is not set"),
    ({**ENVIRON, "GITHUB_TOKEN": "ab cd"}, "whitespace"),
    ({"GITHUB_TOKEN": TOKEN}, "GITHUB_REPOSITORY is not set"),
    ({**ENVIRON, "GITHUB_REPOSITORY": "acme"}, "OWNER/NAME"),
    ({**ENVIRON, "GITHUB_API_URL": "http://api.github.com"}, "https://"),
    ({**ENVIRON, "GITHUB_API_URL": "ftp://x"}, "https://"),
    ({**ENVIRON, "GITHUB_API_URL": "http://127.attacker.test"}, "https://"),
])
def test_bad_settings_are_one_line_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        settings_from_environ(environ)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://[::1]:80", "http://localhost"])
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    assert settings_from_environ({**ENVIRON, "GITHUB_API_URL": url}).api_url == url


def write_event(tmp_path: Path, event: object) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {"GITHUB_EVENT_PATH": str(path)}


def test_pull_request_event(tmp_path: Path) -> None:
    environ = write_event(tmp_path, {"number": 7, "pull_request": {
        "number": 7, "head": {"sha": "f00d"}}})
    pull = pull_request_from_event(environ)
    assert (pull.number, pull.head_sha) == (7, "f00d")


def test_issue_comment_event_on_a_pull_request(tmp_path: Path) -> None:
    environ = write_event(tmp_path, {"issue": {"number": 9, "pull_request": {"url": "x"}}})
    assert pull_request_from_event(environ).number == 9


@pytest.mark.parametrize("event", [
    {"ref": "refs/heads/main"},  # a push
    {"issue": {"number": 3}},  # a comment on an issue, not a pull request
    [1, 2],
])
def test_events_that_are_not_about_a_pull_request(tmp_path: Path, event: object) -> None:
    with pytest.raises(SettingsError, match="not about a pull request"):
        pull_request_from_event(write_event(tmp_path, event))


def test_missing_or_broken_event_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="GITHUB_EVENT_PATH is not set"):
        pull_request_from_event({})
    with pytest.raises(SettingsError, match="cannot read the event file"):
        pull_request_from_event({"GITHUB_EVENT_PATH": str(tmp_path / "missing.json")})
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(SettingsError, match="cannot read the event file"):
        pull_request_from_event({"GITHUB_EVENT_PATH": str(broken)})


def test_requests_carry_auth_and_api_headers() -> None:
    handler, seen = answers(httpx.Response(200, json={}))
    with client_for(handler, []) as client:
        client.request("GET", client.repo_path("issues/1"))
    request = seen[0]
    assert request.url == f"{API}/repos/acme/pipelines/issues/1"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.headers["User-Agent"] == USER_AGENT


def test_api_url_with_a_path_prefix_is_kept() -> None:
    handler, seen = answers(httpx.Response(200, json={}))
    settings = GitHubSettings(api_url="https://ghe.test/api/v3", repository="a/b", token=TOKEN)
    with GitHubClient(settings, transport=httpx.MockTransport(handler)) as client:
        client.request("GET", client.repo_path("issues"))
    assert str(seen[0].url) == "https://ghe.test/api/v3/repos/a/b/issues"


def limited(status: int, headers: dict[str, str], message: str = "") -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"message": message})


@pytest.mark.parametrize(("response", "wait"), [
    (limited(403, {"Retry-After": "7"}, "secondary rate limit"), 7.0),
    (limited(429, {"Retry-After": "0"}), 0.0),
    (limited(403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)},
             "API rate limit exceeded"), 31.0),
    # A reset in the past: retry (almost) at once.
    (limited(429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) - 5)}), 1.0),
    (limited(403, {}, "You have exceeded a secondary rate limit."), 60.0),
    (limited(429, {}), 60.0),
    (limited(403, {}, "Resource not accessible by integration"), None),
    (limited(403, {"X-RateLimit-Remaining": "12"}, "Must have admin rights"), None),
    (limited(404, {"Retry-After": "1"}), None),
])
def test_rate_limit_wait(response: httpx.Response, wait: float | None) -> None:
    assert rate_limit_wait(response, NOW, 0) == wait


def test_secondary_limits_back_off_exponentially() -> None:
    response = limited(403, {}, "secondary rate limit")
    assert [rate_limit_wait(response, NOW, n) for n in range(3)] == [60.0, 120.0, 240.0]


def test_rate_limited_requests_are_retried_after_the_wait() -> None:
    handler, seen = answers(
        limited(403, {"Retry-After": "7"}, "You have exceeded a secondary rate limit"),
        limited(429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 20)}),
        httpx.Response(201, json={"id": 1}),
    )
    sleeps: list[float] = []
    with client_for(handler, sleeps) as client:
        # Rate-limited requests were refused, not run: a POST is retried too.
        response = client.request("POST", client.repo_path("issues"), json={"title": "t"})
    assert response.json() == {"id": 1}
    assert sleeps == [7.0, 21.0]
    assert len(seen) == 3


def test_retries_run_out_with_an_error() -> None:
    handler, seen = answers(*[limited(429, {"Retry-After": "1"})] * (MAX_RETRIES + 1))
    sleeps: list[float] = []
    with client_for(handler, sleeps) as client, pytest.raises(ApiError) as caught:
        client.request("GET", client.repo_path("issues"))
    assert caught.value.status == 429
    assert len(seen) == MAX_RETRIES + 1 and len(sleeps) == MAX_RETRIES


def test_a_reset_far_away_fails_at_once_instead_of_holding_ci() -> None:
    reset = str(int(NOW) + 3000)
    handler, _ = answers(limited(403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
                                 "API rate limit exceeded"))
    sleeps: list[float] = []
    with client_for(handler, sleeps) as client, pytest.raises(ApiError) as caught:
        client.request("GET", client.repo_path("issues"))
    assert sleeps == []
    assert str(caught.value) == (
        "GET /repos/acme/pipelines/issues: 403 API rate limit exceeded; the server asks to "
        "wait 3001s, more than the 300s cap: try again later")


def test_a_permission_error_is_not_retried_and_hides_the_token() -> None:
    handler, seen = answers(limited(403, {}, f"Resource not accessible by token {TOKEN}"))
    with client_for(handler, []) as client, pytest.raises(ApiError) as caught:
        client.request("POST", client.repo_path("issues/1/comments"), json={"body": "x"})
    assert len(seen) == 1
    assert caught.value.status == 403
    assert TOKEN not in str(caught.value)
    assert "POST /repos/acme/pipelines/issues/1/comments: 403" in str(caught.value)
    assert "permissions" in str(caught.value)


def test_server_errors_retry_only_requests_safe_to_repeat() -> None:
    handler, seen = answers(httpx.Response(502), httpx.Response(200, json=[]))
    sleeps: list[float] = []
    with client_for(handler, sleeps) as client:
        client.request("GET", client.repo_path("issues"))
    assert len(seen) == 2 and len(sleeps) == 1

    # A POST that got a 5xx may have landed: repeating it could post twice.
    handler, seen = answers(httpx.Response(502))
    with client_for(handler, []) as client, pytest.raises(ApiError) as caught:
        client.request("POST", client.repo_path("issues"), json={})
    assert len(seen) == 1 and caught.value.status == 502


def test_transport_errors_become_api_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []
    with client_for(handler, sleeps) as client, pytest.raises(ApiError) as caught:
        client.request("GET", client.repo_path("issues"))
    assert caught.value.status is None
    assert str(caught.value) == (
        "GET /repos/acme/pipelines/issues: cannot connect to api.github.test (connection "
        "refused); GITHUB_API_URL sets the address (gave up after 3 retries)")
    assert len(sleeps) == MAX_RETRIES


def test_paging_follows_next_links() -> None:
    path = "/repos/acme/pipelines/issues/1/comments"

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {"Link": f'<{API}{path}?per_page=100&page={page + 1}>; rel="next"'} \
            if page < 3 else {}
        return httpx.Response(200, headers=headers, json=[{"id": page * 10 + i}
                                                          for i in range(2)])

    with client_for(handler, []) as client:
        ids = [item["id"] for item in client.paged(path, {})]
    assert ids == [10, 11, 20, 21, 30, 31]


def test_paging_never_follows_a_link_to_another_host() -> None:
    handler, seen = answers(httpx.Response(
        200, headers={"Link": '<https://evil.test/steal?page=2>; rel="next"'}, json=[]))
    with client_for(handler, []) as client, pytest.raises(ApiError, match=r"evil\.test"):
        list(client.paged("/repos/acme/pipelines/issues", {}))
    assert len(seen) == 1
