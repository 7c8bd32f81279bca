"""The release-policy endpoints against httpx.MockTransport: the beta header, the one
unpaged list call, the create re-read rules, delete's 404, the order body and its answer,
and errors in LaunchDarkly's `{code, message}` shape worded with the route."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.launchdarkly.client import IncompleteListing
from tests.unit.test_launchdarkly_client import CANARY, Recorder, error, run

POLICIES = "/api/v2/projects/web/release-policies"

POLICY: dict[str, Any] = {
    "key": "prod-guarded",
    "name": "Production, guarded",
    "releaseMethod": "guarded-release",
    "scope": {"environmentKeys": ["production"], "flagTagKeys": ["checkout"]},
    "guardedReleaseConfig": {"metricKeys": ["http-errors"],
                             "stages": [{"allocation": 10000, "durationMillis": 3600000}]},
}


def live_policy(body: dict[str, Any], rank: int = 1) -> dict[str, Any]:
    """`body` as LaunchDarkly answers it: an id, a rank, access."""
    return body | {"_id": "550e8400-e29b-41d4-a716-446655440000", "rank": rank,
                   "_access": {"allowed": [], "denied": []}}


CALLS: list[tuple[Callable[[LaunchDarklyClient], Awaitable[Any]], httpx.Response]] = [
    (lambda c: c.list_policies("web"), httpx.Response(200, json={"items": [], "totalCount": 0})),
    (lambda c: c.get_policy("web", "prod-guarded"),
     httpx.Response(200, json=live_policy(POLICY))),
    (lambda c: c.create_policy("web", POLICY), httpx.Response(201, json=live_policy(POLICY))),
    (lambda c: c.update_policy("web", "prod-guarded", POLICY),
     httpx.Response(200, json=live_policy(POLICY))),
    (lambda c: c.delete_policy("web", "prod-guarded"), httpx.Response(204)),
    (lambda c: c.order_policies("web", ["prod-guarded"]),
     httpx.Response(200, json=[live_policy(POLICY)])),
]


@pytest.mark.parametrize(("action", "answer"), CALLS)
def test_every_policy_request_sends_ld_api_version_beta_once(
    action: Callable[[LaunchDarklyClient], Awaitable[Any]], answer: httpx.Response
) -> None:
    recorder = Recorder(answer)
    run(recorder, action)
    (request,) = recorder.requests
    assert request.headers.get_list("LD-API-Version") == ["beta"]
    assert request.headers.get_list("Authorization") == [CANARY]
    assert request.url.path.startswith(POLICIES)


def test_list_is_one_call_asking_for_the_default_policy_too() -> None:
    items = [live_policy(POLICY), {"key": "default", "rank": 0, "name": "Default"}]
    recorder = Recorder(httpx.Response(200, json={"items": items, "totalCount": 2}))
    assert run(recorder, lambda c: c.list_policies("web")) == items
    (request,) = recorder.requests
    assert request.url.path == POLICIES
    assert dict(request.url.params) == {"excludeDefault": "false"}  # no limit, no offset


def test_a_list_short_of_its_total_count_is_never_used() -> None:
    short = httpx.Response(200, json={"items": [live_policy(POLICY)], "totalCount": 2})
    recorder = Recorder(short, short, short)
    with pytest.raises(IncompleteListing, match="1 items of 2 after 3 attempts"):
        run(recorder, lambda c: c.list_policies("web"))
    assert len(recorder.requests) == 3


def test_list_of_an_unknown_project_names_the_route_and_the_project() -> None:
    recorder = Recorder(error(404, "not_found", "Unknown project"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.list_policies("web"))
    assert str(raised.value) == f"GET {POLICIES}: 404 project 'web' not found"


def test_create_posts_the_body_and_returns_the_created_policy() -> None:
    recorder = Recorder(httpx.Response(201, json=live_policy(POLICY)))
    assert run(recorder, lambda c: c.create_policy("web", POLICY)) == live_policy(POLICY)
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("POST", POLICIES)
    assert json.loads(request.content) == POLICY


def test_create_409_is_the_duplicate_key_error_with_code_and_message() -> None:
    recorder = Recorder(error(409, "conflict", "release policy key already exists"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.create_policy("web", POLICY))
    assert str(raised.value) == (
        f"POST {POLICIES}: 409 release policy key already exists (conflict)")
    assert raised.value.code == "conflict"
    assert len(recorder.requests) == 1  # a duplicate is never posted again


def test_create_that_landed_despite_a_5xx_is_read_back_not_posted_again() -> None:
    recorder = Recorder(error(502, "bad_gateway", "upstream"),
                        httpx.Response(200, json=live_policy(POLICY)))
    assert run(recorder, lambda c: c.create_policy("web", POLICY)) == live_policy(POLICY)
    assert recorder.calls == [f"POST {POLICIES}", f"GET {POLICIES}/prod-guarded"]


def test_create_lost_to_a_transport_error_is_posted_again_after_a_re_read() -> None:
    recorder = Recorder(httpx.ReadTimeout("timed out"), error(404, "not_found", "no"),
                        httpx.Response(201, json=live_policy(POLICY)))
    assert run(recorder, lambda c: c.create_policy("web", POLICY)) == live_policy(POLICY)
    assert [c.split()[0] for c in recorder.calls] == ["POST", "GET", "POST"]


def test_create_gives_up_when_every_post_fails_ambiguously() -> None:
    answers: list[httpx.Response] = []
    for _ in range(3):
        answers += [error(500, "internal", "boom"), error(404, "not_found", "no")]
    recorder = Recorder(*answers)
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.create_policy("web", POLICY), max_retries=2)
    assert str(raised.value) == f"POST {POLICIES}: 500 boom (internal) (gave up after 2 retries)"


def test_update_puts_the_body_to_the_policy_route() -> None:
    body = {k: v for k, v in POLICY.items() if k != "key"}
    recorder = Recorder(httpx.Response(200, json=live_policy(POLICY)))
    run(recorder, lambda c: c.update_policy("web", "prod-guarded", body))
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("PUT", f"{POLICIES}/prod-guarded")
    assert json.loads(request.content) == body


@pytest.mark.parametrize("answer", [httpx.Response(204), error(404, "not_found", "gone")])
def test_delete_succeeds_when_deleted_or_already_gone(answer: httpx.Response) -> None:
    recorder = Recorder(answer)
    assert run(recorder, lambda c: c.delete_policy("web", "prod-guarded")) is None
    assert recorder.calls == [f"DELETE {POLICIES}/prod-guarded"]


def test_delete_of_the_default_policy_refused_is_an_error() -> None:
    recorder = Recorder(error(400, "invalid_request", "cannot delete the default policy"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.delete_policy("web", "default"))
    assert str(raised.value) == (f"DELETE {POLICIES}/default: 400 cannot delete the default "
                                 "policy (invalid_request)")


def test_order_posts_the_keys_as_a_json_array_and_returns_the_ranked_policies() -> None:
    ranked = [live_policy(POLICY | {"key": "b"}, 1), live_policy(POLICY | {"key": "a"}, 2)]
    recorder = Recorder(httpx.Response(200, json=ranked))
    assert run(recorder, lambda c: c.order_policies("web", ["b", "a"])) == ranked
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("POST", f"{POLICIES}/order")
    assert json.loads(request.content) == ["b", "a"]


def test_order_refused_is_an_error_with_the_route_and_reason() -> None:
    recorder = Recorder(error(400, "invalid_request", "keys must include all scoped policies"))
    with pytest.raises(ApiError) as raised:
        run(recorder, lambda c: c.order_policies("web", ["a"]))
    assert str(raised.value) == (f"POST {POLICIES}/order: 400 keys must include all scoped "
                                 "policies (invalid_request)")


def test_order_answered_with_something_else_than_a_list_is_an_error() -> None:
    recorder = Recorder(httpx.Response(200, json={"items": []}))
    with pytest.raises(ApiError, match="response is not a JSON list of release policies"):
        run(recorder, lambda c: c.order_policies("web", ["a"]))


def test_policy_keys_are_quoted_in_paths() -> None:
    recorder = Recorder(error(404, "not_found", "no"))
    assert run(recorder, lambda c: c.get_policy("web", "a/b")) is None
    assert recorder.requests[0].url.raw_path == f"{POLICIES}/a%2Fb".encode()
