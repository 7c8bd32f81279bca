"""Faults on the wire: each scenario runs the real CLI against a misbehaving sandbox and
ends converged, with every invariant of reliability_harness intact."""

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from reliability_harness import base_seed, pipeline, project, wait_for

from reconciler.sandbox.knobs import DROP, FAULTS

pytestmark = pytest.mark.integration

NEIGHBOUR_PATH = "/api/v2/projects/web"  # a route the CLI never reads
START = {"projects": {
    "web": project([pipeline(f"p{i}") for i in range(12)], default="p0"),
    "api": project([pipeline("main"), pipeline("by-hand")], default="main"),
}}


def desire_changes(ws) -> None:
    """Every kind of step: updates, prune deletes, creates, a moved default, a replace."""
    ws.write("web", [pipeline("p1", name="New default", isProjectDefault=True),
                     *(pipeline(f"p{i}", name=f"Changed {i}") for i in range(2, 9)),
                     pipeline("p9", isLegacy=True),
                     *(pipeline(f"n{i}") for i in range(4))],
             {"prune": True, "protected": ["p10"]})
    ws.write("api", [pipeline("main", phases=2), pipeline("extra")])


def seed_with_faults(rate: float, requests: int, drops: int, errors: int) -> int:
    """A seed for the sandbox's fault generator whose first `requests` draws hold at least
    `drops` dropped connections and `errors` 5xx answers (it replays the knob's draws)."""
    for seed in range(base_seed() * 1000, base_seed() * 1000 + 1000):
        draws = random.Random(seed)
        faults = [draws.choice(FAULTS) for _ in range(requests) if draws.random() < rate]
        if faults.count(DROP) >= drops and len(faults) - faults.count(DROP) >= errors:
            return seed
    raise AssertionError("no seed found")


@contextmanager
def noisy_neighbour(url: str, per_second: float) -> Iterator[None]:
    """Another client spending the same rate limit, so that the CLI's own pacing cannot
    avoid 429s: it has to wait each one out until X-Ratelimit-Reset."""
    stop = threading.Event()

    def hammer() -> None:
        headers = {"Authorization": "neighbour-token", "LD-API-Version": "20240415"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            while not stop.wait(1 / per_second):
                client.get(NEIGHBOUR_PATH)

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def test_a_429_storm_with_reset_headers_is_waited_out(workspace) -> None:
    ws = workspace(START, "--rate-limit", "8")
    desire_changes(ws)
    with noisy_neighbour(ws.server.url, per_second=16):
        ws.converge()
    refused = [r for r in ws.log() if r.status == 429 and r.path != NEIGHBOUR_PATH]
    assert refused
    ws.check_invariants()


def test_one_request_in_ten_failing_with_5xx_or_a_dropped_connection(workspace) -> None:
    seed = seed_with_faults(0.1, requests=25, drops=1, errors=2)
    ws = workspace(START, "--fault-rate", "0.1", "--seed", str(seed))
    desire_changes(ws)
    ws.converge()
    statuses = [r.status for r in ws.log()]
    assert {500, 502, 503} & set(statuses) and None in statuses
    ws.check_invariants()


def test_dropped_connections_after_the_change_landed(workspace) -> None:
    # The sandbox runs a dropped request before cutting the connection: the change landed
    # and the CLI must find that out (re-read) rather than create twice.
    seed = seed_with_faults(0.3, requests=20, drops=4, errors=0)
    ws = workspace(START, "--fault-rate", "0.3", "--seed", str(seed))
    desire_changes(ws)
    ws.converge()
    log = ws.log()
    assert sum(r.status is None for r in log) >= 4
    assert not [r for r in log if r.method == "POST" and r.status == 409]
    ws.check_invariants()


def test_a_read_timeout_on_a_put_whose_change_landed(workspace) -> None:
    # The first two mutations answer 4 s late, after landing; the CLI waits 2 s for an
    # answer. The POST that times out is not sent again: the CLI re-reads and finds the
    # pipeline it created. The PUT that times out is sent again (it is idempotent).
    ws = workspace({"projects": {"web": project([pipeline("main"), pipeline("edit")])}},
                   "--slow-mutations-ms", "4000", "--slow-mutations", "2")
    ws.cli.env["RECONCILER_HTTP_TIMEOUT"] = "2"
    ws.write("web", [pipeline("main"), pipeline("edit"), pipeline("added")])
    assert ws.run("apply", "--yes").returncode == 0
    ws.write("web", [pipeline("main"), pipeline("edit", name="Edited"), pipeline("added")])
    version = ws.live("web")["edit"]["_version"]
    ws.converge()
    wait_for(lambda: sum(r.mutation for r in ws.log()) >= 3, 30, "the slow answers")
    assert [r.method for r in ws.log() if r.mutation] == ["POST", "PUT", "PUT"]
    assert ws.live("web")["edit"]["_version"] == version + 2  # the timed-out PUT landed
    ws.check_invariants()


def test_an_unusable_client_timeout_is_a_one_line_error(workspace) -> None:
    ws = workspace(START)
    desire_changes(ws)
    for value in ("soon", "0", "nan"):
        refused = ws.run("plan", env={"RECONCILER_HTTP_TIMEOUT": value})
        assert refused.returncode == 1
        assert refused.stderr == ("error: RECONCILER_HTTP_TIMEOUT must be a positive number "
                                  f"of seconds, got {value!r}\n")


def test_the_sandbox_restarted_mid_apply(workspace, sandbox_server) -> None:
    ws = workspace(START, "--latency-ms", "20")
    desire_changes(ws)
    running = ws.cli.start("apply", "--yes", name="apply-interrupted")
    wait_for(lambda: sum(r.mutation for r in ws.log()) >= 4, 60, "four mutations")
    ws.server.process.kill()  # no graceful shutdown: the state file is all that survives
    ws.server.stop()
    json.loads(ws.server.state_path.read_text())  # written whole or not at all
    port = ws.server.url.rsplit(":", 1)[1]
    ws.use(sandbox_server(None, "--request-log", str(ws.request_log), "--port", port,
                          "--latency-ms", "20", state_path=ws.server.state_path))
    interrupted = running.wait()
    assert interrupted.returncode in (0, 1), interrupted.stderr
    ws.converge()
    ws.check_invariants()

