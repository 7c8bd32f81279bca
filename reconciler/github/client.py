"""A small GitHub REST client: settings from the Actions environment, rate-limit retries,
paging. Only what the PR comment and the drift issue need.

GitHub's rate limits (docs "Rate limits for the REST API"): a refused request is a 403 or
429. With `Retry-After`, wait that many seconds; with `X-RateLimit-Remaining: 0`, wait until
`X-RateLimit-Reset` (epoch seconds); a secondary limit without either header: wait at least a
minute, longer on each retry. A 403 that is none of these is a permission error: no retry.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler import USER_AGENT
from reconciler.errors import ApiError, SettingsError
from reconciler.settings import ANNOUNCE_AFTER_SECONDS, check_base_uri, check_token

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
SECONDARY_WAIT_SECONDS = 60.0
# A primary limit can reset up to an hour away: rather fail with the time than hold CI.
MAX_WAIT_SECONDS = 300.0
MAX_RETRIES = 3
SERVER_ERROR_WAIT_SECONDS = 2.0
PAGE_SIZE = 100
MAX_PAGES = 50  # 5,000 comments or issues: past that, something is wrong
REASON_LENGTH = 300

log = logging.getLogger(__name__)


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


def rate_limit_wait(response: httpx.Response, now: float, retries: int) -> float | None:
    """Seconds to wait before retrying a rate-limited answer; None if it is not one."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    try:
        return max(0.0, float(headers["Retry-After"]))
    except (KeyError, ValueError):
        pass
    if headers.get("X-RateLimit-Remaining") == "0":
        try:
            # +1: GitHub's clock and ours differ by up to a second.
            return max(0.0, float(headers["X-RateLimit-Reset"]) - now) + 1.0
        except (KeyError, ValueError):
            pass
    if response.status_code == 429 or "rate limit" in _message(response).lower():
        return SECONDARY_WAIT_SECONDS * 2**retries
    return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return response.reason_phrase


class GitHubClient:
    """Blocking httpx client (the CLI is synchronous and the calls are sequential)."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        # Looked up now, not at import: tests replace time.sleep to wait for nothing.
        self._sleep = sleep or time.sleep
        self._clock = clock or time.time
        self._client = httpx.Client(
            base_url=settings.api_url,
            transport=transport,
            timeout=httpx.Timeout(30.0),
            headers={
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
        )

    def __enter__(self) -> "GitHubClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()

    def repo_path(self, suffix: str) -> str:
        return f"/repos/{self.settings.repository}/{suffix}"

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, str | int] | None = None) -> httpx.Response:
        """The first successful answer, after rate-limit retries (and, for requests that
        are safe to repeat, 5xx and transport-error retries); else an ApiError."""
        # A POST that failed with a 5xx may still have landed: repeating it could post twice.
        repeatable = method != "POST"
        route = urlsplit(path).path or path
        retries = 0
        while True:
            try:
                response = self._client.request(method, path, json=json, params=params)
            except httpx.TransportError as error:
                failure = ApiError(method, route, None, self._redact(
                    f"could not reach GitHub: {type(error).__name__}"))
                wait = SERVER_ERROR_WAIT_SECONDS * 2**retries if repeatable else None
            else:
                if response.is_success:
                    return response
                failure = self._error(method, route, response)
                wait = rate_limit_wait(response, self._clock(), retries)
                if wait is not None:  # headers lengthen the backoff, never shorten it
                    wait = max(wait, SERVER_ERROR_WAIT_SECONDS * 2**retries)
                if wait is None and repeatable and response.status_code in (500, 502, 503, 504):
                    wait = SERVER_ERROR_WAIT_SECONDS * 2**retries
            if wait is None or retries >= MAX_RETRIES:
                raise failure
            if wait > MAX_WAIT_SECONDS:
                raise ApiError(method, route, failure.status,
                               f"{failure.reason} (rate limited for {wait:.0f}s more)")
            if wait > ANNOUNCE_AFTER_SECONDS:
                log.info("waiting %.0fs: before retrying %s", wait, failure)
            self._sleep(wait)
            retries += 1

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

    def _error(self, method: str, route: str, response: httpx.Response) -> ApiError:
        reason = _message(response)[:REASON_LENGTH]
        if response.status_code in (401, 403, 404) and "rate limit" not in reason.lower():
            reason += ("; check GITHUB_TOKEN and the workflow's permissions "
                       "(pull-requests: write / issues: write)")
        return ApiError(method, route, response.status_code, self._redact(reason))

    def _redact(self, text: str) -> str:
        return text.replace(self.settings.token, "***")
