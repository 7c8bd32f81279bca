"""A small GitHub REST client on the shared HTTP layer: settings from the Actions
environment, GitHub's rate-limit headers, paging. Only what the PR comment and the drift
issue need.

GitHub's rate limits (docs "Rate limits for the REST API"): a refused request is a 403 or
429. With `Retry-After`, wait that many seconds; with `X-RateLimit-Remaining: 0`, wait until
`X-RateLimit-Reset` (epoch seconds); a secondary limit without either header: wait at least a
minute, longer on each retry. A 403 that is none of these is a permission error: no retry.
"""

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ApiError, SettingsError
from reconciler.http import Backoff, Service, SyncRequester, message_field
from reconciler.http.pacing import Wait, ignore_wait, retry_after
from reconciler.settings import check_base_uri, check_token

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
SECONDARY_WAIT_SECONDS = 60.0
# A primary limit can reset up to an hour away: rather fail with the time than hold CI.
MAX_WAIT_SECONDS = 300.0
MAX_RETRIES = 3
# One request at a time, so no jitter; rate limits and errors back off alike: 2, 4, 8 s.
BACKOFF = Backoff(base=2.0, rate_limited_base=2.0, ceiling=8.0, jitter=False)
PAGE_SIZE = 100
MAX_PAGES = 50  # 5,000 comments or issues: past that, something is wrong


@dataclass(frozen=True, kw_only=True)
class GitHubSettings:
    api_url: str
    repository: str
    token: str = field(repr=False)
    run_url: str | None = None  # this workflow run's page, for links in what we post
    sha: str | None = None


def _api_url(environ: Mapping[str, str]) -> str:
    return check_base_uri(environ.get("GITHUB_API_URL") or DEFAULT_API_URL, "GITHUB_API_URL")


def settings_from_environ(environ: Mapping[str, str]) -> GitHubSettings:
    """The variables GitHub Actions sets; a SettingsError names the missing one."""
    token = environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise SettingsError(
            "GITHUB_TOKEN is not set (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})"
        )
    check_token("GITHUB_TOKEN", token)
    repository = environ.get("GITHUB_REPOSITORY", "").strip()
    if not REPOSITORY.fullmatch(repository):
        raise SettingsError(
            f"GITHUB_REPOSITORY must be OWNER/NAME, got {repository!r}" if repository
            else "GITHUB_REPOSITORY is not set (GitHub Actions sets it)"
        )
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    run_id = environ.get("GITHUB_RUN_ID", "")
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if server and run_id else None
    return GitHubSettings(api_url=_api_url(environ), repository=repository, token=token,
                          run_url=run_url, sha=environ.get("GITHUB_SHA") or None)


@dataclass(frozen=True)
class PullRequest:
    number: int
    head_sha: str | None


def pull_request_from_event(environ: Mapping[str, str]) -> PullRequest:
    """The pull request of the event that started the workflow (GITHUB_EVENT_PATH)."""
    path = environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise SettingsError("GITHUB_EVENT_PATH is not set: --github-comment runs in a "
                            "pull_request workflow")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SettingsError(f"cannot read the event file {path}: "
                            f"{getattr(error, 'strerror', None) or error}") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        head = pull.get("head")
        sha = head.get("sha") if isinstance(head, dict) else None
        return PullRequest(pull["number"], sha if isinstance(sha, str) else None)
    # issue_comment events on a pull request carry it as an issue.
    issue = event.get("issue") if isinstance(event, dict) else None
    if isinstance(issue, dict) and issue.get("pull_request") and isinstance(
            issue.get("number"), int):
        return PullRequest(issue["number"], None)
    raise SettingsError(f"the event in {path} is not about a pull request: --github-comment "
                        "runs on pull_request events")


_message = message_field("message")


def rate_limit_wait(response: httpx.Response, now: float, retries: int) -> float | None:
    """Seconds to wait before retrying a rate-limited answer; None if it is not one."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    asked = retry_after(headers.get("Retry-After"), now)
    if asked is not None:
        return asked
    if headers.get("X-RateLimit-Remaining") == "0":
        try:
            # +1: GitHub's clock and ours differ by up to a second.
            return max(0.0, float(headers["X-RateLimit-Reset"]) - now) + 1.0
        except (KeyError, ValueError):
            pass
    if response.status_code == 429 or "rate limit" in _message(response)[0].lower():
        return SECONDARY_WAIT_SECONDS * 2**retries
    return None


class GitHubLimits:
    """GitHub's rate limits, as the module docstring says; no pacing budget (one request
    at a time)."""

    def limited(self, response: httpx.Response) -> bool:
        return rate_limit_wait(response, 0.0, 0) is not None

    def wait(self, response: httpx.Response, now: float, retries: int) -> float | None:
        return rate_limit_wait(response, now, retries)

    def budget(self, headers: httpx.Headers) -> Iterable[tuple[int, float]]:
        return ()



def _hint(response: httpx.Response, text: str) -> str:
    if response.status_code in (401, 403, 404) and "rate limit" not in text.lower():
        return text + ("; check GITHUB_TOKEN and the workflow's permissions "
                       "(pull-requests: write / issues: write)")
    return text


class GitHubClient:
    """Blocking client (the CLI is synchronous and the calls are sequential)."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        on_wait: Callable[[Wait], None] = ignore_wait,
    ) -> None:
        self.settings = settings
        service = Service(
            base_url=settings.api_url,
            headers={
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            secret=settings.token,
            limits=GitHubLimits(),
            read_error=_message,
            hint=_hint,
            max_retries=MAX_RETRIES,
            max_wait_seconds=MAX_WAIT_SECONDS,
            waits_past_cap=0,  # a primary limit can reset an hour away: fail, never hold CI
            backoff=BACKOFF,
            address_source="; GITHUB_API_URL sets the address",
        )
        # Looked up now, not at import: tests replace time.sleep to wait for nothing.
        self._http = SyncRequester(service, transport=transport, sleep=sleep or time.sleep,
                                   clock=clock or time.time, rng=random.Random(),
                                   on_wait=on_wait)

    def __enter__(self) -> "GitHubClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def repo_path(self, suffix: str) -> str:
        return f"/repos/{self.settings.repository}/{suffix}"

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, str | int] | None = None) -> httpx.Response:
        """The first successful answer, after rate-limit retries (and, for requests that
        are safe to repeat, 5xx and transport-error retries); else an ApiError."""
        response = self._http.send(method, path, json=json, params=params)
        if not response.is_success:
            raise self._http.error(method, path, response)
        return response

    def paged(self, path: str, params: Mapping[str, str | int]) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following `Link: rel="next"`."""
        response = self.request("GET", path, params={**params, "per_page": PAGE_SIZE})
        for _ in range(MAX_PAGES):
            items = response.json()
            if not isinstance(items, list):
                raise ApiError("GET", path, response.status_code, "expected a JSON list")
            yield from (item for item in items if isinstance(item, dict))
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            self._check_same_origin(next_url, path)
            response = self.request("GET", next_url)
        raise ApiError("GET", path, None, f"more than {MAX_PAGES} pages")

    def _check_same_origin(self, url: str, path: str) -> None:
        # The token goes with every request: never follow a link to another host.
        target, base = urlsplit(url), urlsplit(self.settings.api_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise ApiError("GET", path, None, f"refusing a next-page link to {target.netloc}")

