"""Applying release-policy steps through the dispatch table against canned answers: the
fault scenarios (409 on create, 400 on order, 404 on delete) and answers that differ
from what was sent."""

from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.kinds.policies.dispatch import TABLE
from reconciler.plan import Action, ProjectPlan, Step
from reconciler.plan.dispatch import ResponseMismatch, run
from tests.unit.test_launchdarkly_client import Recorder, error
from tests.unit.test_launchdarkly_client import run as with_client
from tests.unit.test_launchdarkly_client_policies import POLICIES, POLICY, live_policy

PROJECT = ProjectPlan(project="web", kind="policies", fingerprint="", liveCount=1,
                      desiredCount=1)


def apply(step: Step, *answers: httpx.Response, project: ProjectPlan = PROJECT) -> Recorder:
    recorder = Recorder(*answers)
    with_client(recorder, lambda client: run(TABLE, client, project, step))
    return recorder


CREATE = Step(action=Action.CREATE, key="prod-guarded", body=POLICY, after=POLICY)
UPDATE = Step(action=Action.UPDATE, key="prod-guarded",
              body={k: v for k, v in POLICY.items() if k != "key"}, after=POLICY)
REORDER = Step(action=Action.REORDER, key="policyOrder", order=["b", "a"])


def ranked(*keys: str, **extra: Any) -> list[dict[str, Any]]:
    return [live_policy(POLICY | {"key": key}, rank) | extra for rank, key in
            enumerate(keys, start=1)]


def test_a_create_answered_with_what_was_sent_is_done() -> None:
    recorder = apply(CREATE, httpx.Response(201, json=live_policy(POLICY)))
    assert recorder.calls == [f"POST {POLICIES}"]


def test_a_create_refused_as_a_duplicate_key_fails_with_the_route_and_reason() -> None:
    with pytest.raises(ApiError) as raised:
        apply(CREATE, error(409, "conflict", "a release policy with this key already exists"))
    assert str(raised.value) == (f"POST {POLICIES}: 409 a release policy with this key "
                                 "already exists (conflict)")


def test_fields_a_file_leaves_out_are_launchdarklys_to_fill() -> None:
    answer = live_policy(POLICY) | {"guardedReleaseConfig": {
        **POLICY["guardedReleaseConfig"], "minSampleSize": 100, "rollbackOnRegression": True}}
    apply(CREATE, httpx.Response(201, json=answer))


def test_an_update_answered_with_a_different_policy_is_a_mismatch() -> None:
    answer = live_policy(POLICY) | {"scope": {"environmentKeys": ["staging"]}}
    with pytest.raises(ResponseMismatch) as raised:
        apply(UPDATE, httpx.Response(200, json=answer))
    assert str(raised.value) == (
        "LaunchDarkly accepted update 'prod-guarded' but returned a different release policy "
        "(2 field(s), first /scope/environmentKeys/0: sent 'production', got 'staging')")


def test_an_ignored_field_may_differ_in_the_answer() -> None:
    project = PROJECT.model_copy(update={"ignore": ["/name"]})
    apply(UPDATE, httpx.Response(200, json=live_policy(POLICY) | {"name": "Edited"}),
          project=project)


def test_a_delete_of_a_policy_already_gone_is_done() -> None:
    step = Step(action=Action.DELETE, key="old")
    recorder = apply(step, error(404, "not_found", "release policy not found"))
    assert recorder.calls == [f"DELETE {POLICIES}/old"]


def test_a_refused_order_fails_with_the_route_and_reason() -> None:
    with pytest.raises(ApiError) as raised:
        apply(REORDER, error(400, "invalid_request", "keys must include all scoped policies"))
    assert str(raised.value) == (f"POST {POLICIES}/order: 400 keys must include all scoped "
                                 "policies (invalid_request)")


def test_an_order_answered_with_the_ranking_sent_is_done_the_default_aside() -> None:
    default = live_policy(POLICY | {"key": "default"}, 0)
    apply(REORDER, httpx.Response(200, json=[*ranked("b", "a"), default]))
    apply(REORDER, httpx.Response(200, json=list(reversed(ranked("b", "a")))))


def test_an_order_answered_with_another_ranking_is_a_mismatch() -> None:
    with pytest.raises(ResponseMismatch) as raised:
        apply(REORDER, httpx.Response(200, json=ranked("a", "b")))
    assert str(raised.value) == ("LaunchDarkly accepted the order ['b', 'a'] but ranks the "
                                 "policies ['a', 'b']")
