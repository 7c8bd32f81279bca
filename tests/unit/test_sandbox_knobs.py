"""Latency, rate limit, faults and the request log, in process."""

import asyncio
import json

import httpx
import pytest

from reconciler.sandbox import create_app, knobs

PROJECT = "/api/v2/projects/web"
PIPELINES = f"{PROJECT}/release-pipelines"
WEB = {"projects": {"web": {"environments": ["test"]}}}


def pipeline(key: str) -> dict:
    return {"key": key, "name": key,
            "phases": [{"name": "P", "audiences": [{"name": "A", "environmentKey": "test"}]}]}


def outcome(sandbox, method: str = "GET", path: str = PROJECT, **kwargs) -> int | str:
    try:
        return sandbox.request(method, path, **kwargs).status_code
    except httpx.TransportError as error:
        return type(error).__name__


def test_latency_awaits_a_sleep_on_every_request(sandbox_app, monkeypatch):
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(knobs.asyncio, "sleep", recording_sleep)
    sandbox = sandbox_app(WEB, latency_ms=250)
    assert sandbox.request("GET", PROJECT).status_code == 200
    assert sandbox.request("GET", f"{PROJECT}/nope").status_code == 404
    assert slept == [0.25, 0.25]


def test_rate_limit_allows_n_per_one_second_window_and_says_so(sandbox_app, monkeypatch):
    now = [1000.25]
    monkeypatch.setattr(knobs, "clock", lambda: now[0])
    sandbox = sandbox_app(WEB, rate_limit=2)
    answers = [sandbox.request("GET", PROJECT) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-Ratelimit-Route-Remaining"] for a in answers] == ["1", "0", "0"]
    assert {a.headers["X-Ratelimit-Reset"] for a in answers} == {"1001000"}
    assert answers[2].json()["code"] == "rate_limited"
    now[0] = 1001.0
    next_window = sandbox.request("GET", f"{PROJECT}/nope")
    assert next_window.status_code == 404
    assert next_window.headers["X-Ratelimit-Route-Remaining"] == "1"
    assert next_window.headers["X-Ratelimit-Reset"] == "1002000"


def test_without_a_rate_limit_there_are_no_rate_limit_headers(sandbox_app):
    assert "X-Ratelimit-Reset" not in sandbox_app(WEB).request("GET", PROJECT).headers


def test_fault_rate_one_fails_every_request_with_each_kind_of_fault(sandbox_app):
    sandbox = sandbox_app(WEB, fault_rate=1.0, seed=7)
    outcomes = [outcome(sandbox) for _ in range(30)]
    assert set(outcomes) == {500, 502, 503, "RemoteProtocolError"}


def test_faults_are_reproducible_with_a_seed(sandbox_app):
    def run(seed: int) -> list[int | str]:
        sandbox = sandbox_app(WEB, fault_rate=0.5, seed=seed)
        return [outcome(sandbox) for _ in range(40)]

    first = run(11)
    assert run(11) == first
    assert 200 in first
    assert set(first) - {200}
    assert run(12) != first


def test_a_dropped_connection_still_applies_the_change(sandbox_app):
    sandbox = sandbox_app(WEB, fault_rate=1.0, seed=7)
    dropped = None
    for index in range(30):
        if outcome(sandbox, "POST", PIPELINES, json=pipeline(f"p{index}")) == "RemoteProtocolError":
            dropped = f"p{index}"
            break
    assert dropped is not None
    landed = json.loads(sandbox.state_path.read_text())["projects"]["web"]["pipelines"]
    assert list(landed) == [dropped]  # the 5xx faults never reached the handler


def test_request_log_records_every_request_in_memory_and_as_json_lines(sandbox_app, tmp_path):
    log_file = tmp_path / "requests.jsonl"
    sandbox = sandbox_app(WEB, fault_rate=1.0, seed=7, request_log=log_file)
    outcomes = [outcome(sandbox, "GET", f"{PROJECT}?n={n}") for n in range(12)]
    records = sandbox.app.state.request_log
    expected = [None if o == "RemoteProtocolError" else o for o in outcomes]
    assert [r.status for r in records] == expected
    assert {(r.method, r.path) for r in records} == {("GET", PROJECT)}
    assert all(r.ms >= 0 and r.time > 0 for r in records)
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [line["status"] for line in lines] == expected
    assert set(lines[0]) == {"time", "method", "path", "status", "ms"}


@pytest.mark.parametrize("options", [{"rate_limit": 0.5}, {"fault_rate": 1.5}])
def test_create_app_refuses_impossible_knobs(tmp_path, options):
    with pytest.raises(ValueError):
        create_app(tmp_path / "state.json", **options)


def test_inconsistent_listings_disagree_with_their_total_for_the_first_n(sandbox_app):
    fixture = {"projects": {"web": {"environments": ["test", "production"],
                                    "pipelines": [pipeline("a"), pipeline("b")]}}}
    short = sandbox_app(fixture, inconsistent_listings="short", inconsistent_listings_count=2)

    def listed(sandbox, path: str = PIPELINES) -> tuple[list[str], int]:
        page = sandbox.request("GET", path).json()
        return [item["key"] for item in page["items"]], page["totalCount"]

    assert listed(short) == (["a"], 2)
    assert listed(short, f"{PROJECT}/environments") == (["test"], 2)
    assert short.request("GET", f"{PIPELINES}/a").json()["key"] == "a"  # not a listing
    assert listed(short) == (["a", "b"], 2)  # the two faulty listings are spent
    long = sandbox_app(fixture, inconsistent_listings="long")
    assert [listed(long) for _ in range(2)] == [(["a", "b", "a"], 2)] * 2


def test_refuse_mutations_refuses_launchdarkly_changes_only(sandbox_app):
    sandbox = sandbox_app(WEB, refuse_mutations=True)
    refused = sandbox.request("POST", PIPELINES, json=pipeline("a"))
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_request")
    assert sandbox.request("GET", PIPELINES).json()["items"] == []
    assert outcome(sandbox, "POST", "/api/releases/web-pipelines/releases/1") != 400
