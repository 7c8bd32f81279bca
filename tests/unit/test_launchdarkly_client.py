"""The client's endpoints against httpx.MockTransport: headers, paging, status handling,
the create re-read rules. Sleeps are fake, so nothing here waits."""

import asyncio
import copy
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler import USER_AGENT
from reconciler.errors import ApiError, SettingsError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.settings import LaunchDarklySettings

CANARY = "api-canary-5d1e9b7a-token"
BASE = "https://ld.test"
PIPELINES = "/api/v2/projects/web/release-pipelines"

BODY: dict[str, Any] = {
    "key": "standard",
    "name": "Standard",
    "description": "",
    "tags": ["b", "a"],
    "phases": [
        {"name": "P1", "audiences": [{"name": "QA", "environmentKey": "test",
                                      "segmentKeys": ["qa-team"]}]},
    ],
}

Handler = Callable[[httpx.Request], httpx.Response]


def live_form(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`body` as LaunchDarkly answers it: ids, environment objects, read-only fields."""
    live = copy.deepcopy(body) | {"_version": 1, "createdAt": "1684262711507",
                                  "_isLegacy": False, "isProjectDefault": True}
    live["tags"] = sorted(live["tags"])
    for index, phase in enumerate(live["phases"]):
        phase["id"] = f"phase-{index}"
        for audience in phase["audiences"]:
            key = audience.pop("environmentKey")
            audience["environment"] = {"key": key, "name": key.title(), "color": "F5A623"}
    return live | changes


def error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message})


class Recorder:
    """A MockTransport handler from a list of canned answers, recording every request."""

    def __init__(self, *answers: httpx.Response | Handler | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    @property
    def calls(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    action: Callable[[LaunchDarklyClient], Awaitable[Any]],
    **options: Any,
) -> Any:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    settings = LaunchDarklySettings(base_uri=BASE, token=CANARY, **options)

    async def main() -> Any:
        async with LaunchDarklyClient(
            settings, transport=httpx.MockTransport(handler), sleep=sleep, rng=random.Random(1)
        ) as client:
            return await action(client)

    return asyncio.run(main())


# --- headers -------------------------------------------------------------------------

BETA_CALLS: list[tuple[Callable[[LaunchDarklyClient], Awaitable[Any]], httpx.Response]] = [
    (lambda c: c.list_pipelines("web"), httpx.Response(200, json={"items": [], "totalCount": 0})),
    (lambda c: c.get_pipeline("web", "standard"), httpx.Response(200, json=live_form(BODY))),
    (lambda c: c.create_pipeline("web", BODY), httpx.Response(201, json=live_form(BODY))),
    (lambda c: c.update_pipeline("web", "standard", BODY),
     httpx.Response(200, json=live_form(BODY))),
    (lambda c: c.delete_pipeline("web", "standard"), httpx.Response(204)),
    (lambda c: c.active_releases("web", "standard"),
     httpx.Response(200, json={"items": [], "totalCount": 0, "_links": {}})),
]
DATED_CALLS: list[tuple[Callable[[LaunchDarklyClient], Awaitable[Any]], httpx.Response]] = [
    (lambda c: c.get_project("web"), httpx.Response(200, json={"key": "web"})),
    (lambda c: c.set_default_pipeline("web", "standard"), httpx.Response(200, json={})),
    (lambda c: c.list_environments("web"),
     httpx.Response(200, json={"items": [], "totalCount": 0})),
    (lambda c: c.list_segments("web", "test"), httpx.Response(200, json={"items": []})),
]


@pytest.mark.parametrize(
    ("action", "answer", "version"),
    [(a, r, "beta") for a, r in BETA_CALLS] + [(a, r, "20240415") for a, r in DATED_CALLS],
)
def test_every_request_carries_auth_user_agent_and_exactly_one_api_version(
    action: Callable[[LaunchDarklyClient], Awaitable[Any]], answer: httpx.Response, version: str
) -> None:
    recorder = Recorder(answer)
    run(recorder, action)
    (request,) = recorder.requests
    assert request.headers.get_list("Authorization") == [CANARY]  # bare token, no "Bearer"
    assert request.headers.get_list("LD-API-Version") == [version]
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.url.host == "ld.test"


def test_api_versions_come_from_the_settings() -> None:
    recorder = Recorder(httpx.Response(200, json={"items": []}), httpx.Response(200, json={}))

    async def both(client: LaunchDarklyClient) -> None:
        await client.list_pipelines("web")
        await client.get_project("web")

    run(recorder, both, beta_api_version="20991231-beta", api_version="20250101")
    assert [r.headers.get_list("LD-API-Version") for r in recorder.requests] == [
        ["20991231-beta"], ["20250101"]
    ]


# --- paging --------------------------------------------------------------------------


def test_list_pipelines_pages_by_offset_until_total_count() -> None:
    pipelines = [{"key": f"p{i}"} for i in range(45)]

    def page(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(200, json={"items": pipelines[offset:offset + limit],
                                         "totalCount": len(pipelines)})

    recorder = Recorder(page, page, page)
    assert run(recorder, lambda c: c.list_pipelines("web")) == pipelines
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in recorder.requests] == [
        ("20", "0"), ("20", "20"), ("20", "40")
    ]


def test_paging_without_total_count_stops_on_a_short_page() -> None:
    full = {"items": [{"key": f"s{i}"} for i in range(20)]}
    recorder = Recorder(httpx.Response(200, json=full),
                        httpx.Response(200, json={"items": [{"key": "last"}]}))
    segments = run(recorder, lambda c: c.list_segments("web", "test"))
    assert segments == [f"s{i}" for i in range(20)] + ["last"]
    assert [r.url.path for r in recorder.requests] == ["/api/v2/segments/web/test"] * 2


def _pages_of(pipelines: list[dict[str, Any]], total: int) -> Handler:
    def page(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(200, json={"items": pipelines[offset:offset + limit],
                                         "totalCount": total})

    return page


def test_a_listing_short_of_total_count_is_read_again_from_the_start() -> None:
    pipelines = [{"key": f"p{i}"} for i in range(20)]
    short = _pages_of(pipelines[:19], 20)  # the 20th is missing and the next page is empty
    recorder = Recorder(short, short, _pages_of(pipelines, 20))
    assert run(recorder, lambda c: c.list_pipelines("web")) == pipelines
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "19", "0"]


@pytest.mark.parametrize(("items", "total", "found"), [
    ([{"key": f"p{i}"} for i in range(19)], 20, "19 items of 20"),
    ([{"key": f"p{i}"} for i in range(20)], 19, "20 items of 19"),
    ([{"key": "p0"}, {"key": "p1"}, {"key": "p0"}], 3, "3 items of 3, some repeated"),
])
def test_a_listing_that_stays_inconsistent_fails_after_three_passes(
        items: list[dict[str, Any]], total: int, found: str) -> None:
    recorder = Recorder(*[_pages_of(items, total)] * 6)
    with pytest.raises(ApiError) as caught:
        run(recorder, lambda c: c.list_pipelines("web"))
    assert str(caught.value) == (f"GET {PIPELINES}: the listing is inconsistent ({found} after "
                                 "3 attempts); a partial listing is never used")
    starts = [r for r in recorder.requests if r.url.params["offset"] == "0"]
    assert len(starts) == 3


def test_active_releases_filters_on_status_and_returns_flag_keys() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        keys = range(offset, min(offset + 20, 25))
        items = [{"flagKey": f"flag-{i}", "_links": {}} for i in keys]
        return httpx.Response(200, json={"items": items, "totalCount": 25, "activeCount": 25,
                                         "_links": {}})

    recorder = Recorder(page, page)
    flags = run(recorder, lambda c: c.active_releases("web", "standard"))
    assert flags == [f"flag-{i}" for i in range(25)]
    assert {r.url.params["filter"] for r in recorder.requests} == {"status:active"}
    assert recorder.requests[0].url.path == f"{PIPELINES}/standard/releases"


def test_list_environments_returns_keys() -> None:
    recorder = Recorder(httpx.Response(200, json={
        "items": [{"key": "test", "name": "Test"}, {"key": "production", "name": "Production"}],
        "totalCount": 2, "_links": {}}))
    assert run(recorder, lambda c: c.list_environments("web")) == ["test", "production"]
    assert recorder.requests[0].url.path == "/api/v2/projects/web/environments"


# --- not found and errors ------------------------------------------------------------


def test_unknown_project_on_list_is_a_clear_error() -> None:
    recorder = Recorder(error(404, "not_found", "Invalid resource identifier"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.list_pipelines("nope"))
    assert raised.value.status == 404
    assert str(raised.value) == (
        "GET /api/v2/projects/nope/release-pipelines: 404 project 'nope' not found"
    )


def test_get_pipeline_and_get_project_answer_none_on_404() -> None:
    recorder = Recorder(error(404, "not_found", "no"), error(404, "not_found", "no"))

    async def both(client: LaunchDarklyClient) -> tuple[Any, Any]:
        return await client.get_pipeline("web", "gone"), await client.get_project("gone")

    assert run(recorder, both) == (None, None)


def test_error_reason_is_the_api_message_and_code() -> None:
    recorder = Recorder(error(400, "invalid_request", "name is required"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.update_pipeline("web", "standard", {"phases": []}))
    assert raised.value.code == "invalid_request"
    assert str(raised.value) == (
        f"PUT {PIPELINES}/standard: 400 name is required (invalid_request)"
    )


def test_non_json_error_body_gives_a_short_reason() -> None:
    recorder = Recorder(httpx.Response(418, text="<html>" + "x" * 5000 + "</html>"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.get_project("web"))
    assert str(raised.value) == "GET /api/v2/projects/web: 418 I'm a teapot"


def test_401_hints_at_the_token_without_showing_it() -> None:
    recorder = Recorder(error(401, "unauthorized", "Invalid access token"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.get_project("web"))
    assert "check the access token and its role" in str(raised.value)
    assert CANARY not in str(raised.value)


def test_403_on_a_beta_route_mentions_ld_api_version() -> None:
    recorder = Recorder(error(403, "forbidden", "Forbidden"), error(403, "forbidden", "Forbidden"))

    async def both(client: LaunchDarklyClient) -> list[str]:
        messages = []
        for call in (client.list_pipelines("web"), client.get_project("web")):
            with pytest.raises(ApiError) as raised:
                await call
            messages.append(str(raised.value))
        return messages

    beta, dated = run(recorder, both)
    assert "check the access token and its role" in beta
    assert "LD-API-Version: beta" in beta
    assert "LD-API-Version" not in dated


def test_error_message_echoing_the_token_is_redacted() -> None:
    recorder = Recorder(error(400, "invalid_request", f"bad token {CANARY}"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.set_default_pipeline("web", "standard"))
    assert CANARY not in str(raised.value)


# --- create --------------------------------------------------------------------------


def test_create_posts_the_body_and_returns_the_created_pipeline() -> None:
    recorder = Recorder(httpx.Response(201, json=live_form(BODY)))
    assert run(recorder, lambda c: c.create_pipeline("web", BODY)) == live_form(BODY)
    (request,) = recorder.requests
    assert request.method == "POST"
    assert request.url.path == PIPELINES
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == BODY


@pytest.mark.parametrize("status", [400, 409])
def test_create_of_an_existing_equal_pipeline_is_success(status: int) -> None:
    live = live_form(BODY)
    recorder = Recorder(error(status, "invalid_request", "already exists"),
                        httpx.Response(200, json=live))
    assert run(recorder, lambda c: c.create_pipeline("web", BODY)) == live
    assert recorder.calls == [f"POST {PIPELINES}", f"GET {PIPELINES}/standard"]


@pytest.mark.parametrize("status", [400, 409])
def test_create_of_an_existing_different_pipeline_is_an_error(status: int) -> None:
    recorder = Recorder(error(status, "invalid_request", "already exists"),
                        httpx.Response(200, json=live_form(BODY, name="Someone else's")))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.create_pipeline("web", BODY))
    assert raised.value.status == status
    assert "'standard' already exists" in str(raised.value)


def test_create_400_without_an_existing_pipeline_is_the_api_refusal() -> None:
    recorder = Recorder(error(400, "invalid_request", "a project holds at most 20"),
                        error(404, "not_found", "no"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.create_pipeline("web", BODY))
    assert str(raised.value) == (
        f"POST {PIPELINES}: 400 a project holds at most 20 (invalid_request)"
    )


def test_create_409_without_an_existing_pipeline_is_retried() -> None:
    recorder = Recorder(error(409, "optimistic_locking_error", "Try again later."),
                        error(404, "not_found", "no"),
                        httpx.Response(201, json=live_form(BODY)))
    assert run(recorder, lambda c: c.create_pipeline("web", BODY)) == live_form(BODY)
    assert [c.split()[0] for c in recorder.calls] == ["POST", "GET", "POST"]


def test_create_that_landed_despite_a_5xx_is_not_posted_again() -> None:
    recorder = Recorder(error(502, "bad_gateway", "upstream"),
                        httpx.Response(200, json=live_form(BODY)))
    assert run(recorder, lambda c: c.create_pipeline("web", BODY)) == live_form(BODY)
    assert recorder.calls == [f"POST {PIPELINES}", f"GET {PIPELINES}/standard"]


def test_create_lost_to_a_transport_error_is_posted_again_after_a_re_read() -> None:
    recorder = Recorder(httpx.ReadTimeout("timed out"), error(404, "not_found", "no"),
                        httpx.Response(201, json=live_form(BODY)))
    assert run(recorder, lambda c: c.create_pipeline("web", BODY)) == live_form(BODY)
    assert [c.split()[0] for c in recorder.calls] == ["POST", "GET", "POST"]


def test_create_after_an_ambiguous_failure_finding_a_different_pipeline_is_an_error() -> None:
    recorder = Recorder(httpx.RemoteProtocolError("dropped"),
                        httpx.Response(200, json=live_form(BODY, tags=["other"])))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.create_pipeline("web", BODY))
    assert "already exists with different settings" in str(raised.value)
    assert [c.split()[0] for c in recorder.calls] == ["POST", "GET"]


def test_create_gives_up_when_every_post_fails_ambiguously() -> None:
    answers = []
    for _ in range(3):
        answers += [error(500, "internal", "boom"), error(404, "not_found", "no")]
    recorder = Recorder(*answers)
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.create_pipeline("web", BODY), max_retries=2)
    assert str(raised.value) == f"POST {PIPELINES}: 500 boom (internal) (gave up after 2 retries)"
    assert [c.split()[0] for c in recorder.calls] == ["POST", "GET"] * 3


def test_create_requested_as_default_does_not_match_a_non_default_pipeline() -> None:
    body = BODY | {"isProjectDefault": True}
    recorder = Recorder(error(409, "conflict", "exists"),
                        httpx.Response(200, json=live_form(BODY, isProjectDefault=False)))
    with pytest.raises(ApiError):
        run(recorder, lambda c: c.create_pipeline("web", body))


# --- update, delete, default ---------------------------------------------------------


def test_update_puts_the_body_to_the_pipeline_route() -> None:
    body = {"name": "Standard", "description": "", "tags": [], "phases": BODY["phases"]}
    recorder = Recorder(httpx.Response(200, json=live_form(BODY)))
    run(recorder, lambda c: c.update_pipeline("web", "standard", body))
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("PUT", f"{PIPELINES}/standard")
    assert json.loads(request.content) == body


@pytest.mark.parametrize("answer", [httpx.Response(204), error(404, "not_found", "gone")])
def test_delete_succeeds_when_deleted_or_already_gone(answer: httpx.Response) -> None:
    recorder = Recorder(answer)
    assert run(recorder, lambda c: c.delete_pipeline("web", "standard")) is None
    assert recorder.calls == [f"DELETE {PIPELINES}/standard"]


def test_delete_refused_is_an_error() -> None:
    recorder = Recorder(error(400, "invalid_request", "cannot delete the default pipeline"))
    with pytest.raises(ApiError, match="cannot delete the default pipeline"):
        run(recorder, lambda c: c.delete_pipeline("web", "standard"))


def test_set_default_sends_a_json_patch_to_the_project() -> None:
    recorder = Recorder(httpx.Response(200, json={"defaultReleasePipelineKey": "standard"}))
    project = run(recorder, lambda c: c.set_default_pipeline("web", "standard"))
    assert project == {"defaultReleasePipelineKey": "standard"}
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("PATCH", "/api/v2/projects/web")
    assert json.loads(request.content) == [
        {"op": "add", "path": "/defaultReleasePipelineKey", "value": "standard"}
    ]


def test_path_segments_are_quoted() -> None:
    recorder = Recorder(error(404, "not_found", "no"))
    run(recorder, lambda c: c.get_pipeline("web", "a/b"))
    assert recorder.requests[0].url.raw_path == f"{PIPELINES}/a%2Fb".encode()


def test_a_success_without_a_json_object_is_an_error() -> None:
    recorder = Recorder(httpx.Response(200, text="not json"))
    with pytest.raises(ApiError, match="response is not a JSON object"):
        run(recorder, lambda c: c.get_project("web"))


# --- connection settings -------------------------------------------------------------


def test_plain_http_to_a_remote_host_is_refused_even_with_hand_built_settings() -> None:
    settings = LaunchDarklySettings(base_uri="http://ld.example.com", token=CANARY)
    with pytest.raises(SettingsError, match="refusing plain http://"):
        LaunchDarklyClient(settings)


def test_plain_http_to_loopback_is_allowed() -> None:
    async def build() -> None:
        settings = LaunchDarklySettings(base_uri="http://127.0.0.1:9", token=CANARY)
        async with LaunchDarklyClient(settings) as client:
            assert client.calls == 0

    asyncio.run(build())


def test_calls_counts_every_request_sent() -> None:
    recorder = Recorder(error(503, "unavailable", "busy"), httpx.Response(200, json={}),
                        httpx.Response(200, json={}))

    async def twice(client: LaunchDarklyClient) -> int:
        await client.get_project("web")
        await client.get_project("web")
        return client.calls

    assert run(recorder, twice) == 3
