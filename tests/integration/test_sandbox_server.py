"""`reconciler sandbox serve` as a process: startup, stopping, the knobs over real HTTP,
and a state file that survives SIGKILL."""

import json
import os
import signal
import threading

import httpx
import pytest

from reconciler.sandbox.state import read_document

pytestmark = pytest.mark.integration

HEADERS = {"Authorization": "sandbox-token", "LD-API-Version": "beta"}
WEB = {"projects": {"web": {"environments": ["test"]}}}


def pipeline(key: str) -> dict:
    return {"key": key, "name": key,
            "phases": [{"name": "P", "audiences": [{"name": "A", "environmentKey": "test"}]}]}


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_on_a_free_loopback_port_and_stops_cleanly(sandbox_server, stop_signal):
    server = sandbox_server(WEB)
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.endswith(":0")
    created = httpx.post(f"{server.url}/api/v2/projects/web/release-pipelines",
                         json=pipeline("first"), headers=HEADERS)
    assert created.status_code == 201
    os.kill(server.pid, stop_signal)
    assert server.process.wait(10) == 0
    assert list(read_document(server.state_path)["projects"]["web"]["pipelines"]) == ["first"]
    assert "Traceback" not in server.log_path.read_text()


def test_dropped_connections_reach_http_clients_as_transport_errors(sandbox_server):
    server = sandbox_server(WEB, "--fault-rate", "1", "--seed", "7")
    outcomes = []
    for _ in range(30):
        try:
            outcomes.append(httpx.get(f"{server.url}/api/v2/projects/web", headers=HEADERS)
                            .status_code)
        except httpx.TransportError as error:
            outcomes.append(type(error).__name__)
    assert set(outcomes) == {500, 502, 503, "RemoteProtocolError"}
    assert server.stop() == 0
    # Injected drops are intended, not crashes worth a traceback in the server's log.
    assert "Traceback" not in server.log_path.read_text()


def test_rate_limit_headers_and_request_log_over_http(sandbox_server, tmp_path):
    log_file = tmp_path / "requests.jsonl"
    server = sandbox_server(WEB, "--rate-limit", "1000", "--request-log", str(log_file))
    with httpx.Client(base_url=server.url, headers=HEADERS) as client:
        answers = [client.get("/api/v2/projects/web"), client.get("/api/v2/projects/nope")]
    for answer in answers:
        assert int(answer.headers["X-Ratelimit-Route-Remaining"]) < 1000
        assert int(answer.headers["X-Ratelimit-Reset"]) > 0
    assert server.stop() == 0  # the log line is written after the response is sent
    logged = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [(entry["path"], entry["status"]) for entry in logged] == [
        ("/api/v2/projects/web", 200), ("/api/v2/projects/nope", 404)]


def test_a_killed_server_leaves_a_whole_state_file(sandbox_server):
    projects = {f"p{i}": {"environments": ["test"]} for i in range(8)}
    server = sandbox_server({"projects": projects})
    created = threading.Semaphore(0)

    def create_many(project: str) -> None:
        with httpx.Client(base_url=server.url, headers=HEADERS) as client:
            for n in range(20):
                try:
                    client.post(f"/api/v2/projects/{project}/release-pipelines",
                                json=pipeline(f"k{n}"))
                except httpx.TransportError:
                    return  # the server is gone
                created.release()

    workers = [threading.Thread(target=create_many, args=(p,)) for p in projects]
    for worker in workers:
        worker.start()
    for _ in range(40):
        assert created.acquire(timeout=30)
    os.kill(server.pid, signal.SIGKILL)
    for worker in workers:
        worker.join(30)
    # The file parses, and holds every creation that was answered: each answer waited
    # for the write that contains it. (A temporary file may be left; never a torn one.)
    document = read_document(server.state_path)
    assert sum(len(p["pipelines"]) for p in document["projects"].values()) >= 40
