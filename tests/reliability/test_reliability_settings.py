"""Hostile settings: every value a user can set through the environment or a flag, set
to something unusable, gives exactly one `error:` line naming the setting, exit 1, no
traceback, never the token, and no connection attempt. The CLI runs in process (a few
hundred runs); a socket guard fails any run that tries to reach the network.
"""

import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.sandbox import seed_state
from tests.builders import dump_yaml, pipeline, project

CANARY = "ld-canary-3b9d0e7f1a2c"
CLOSED = "http://127.0.0.1:9"  # never reached: the guard refuses every connection
FOREIGN = ("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_", "RECONCILER_")

# Refused by every URL setting (LaunchDarkly's, Aviator's, GitHub's).
BAD_URLS = [
    "http://[::1", "https://[::1", "https://[zz]", "https://[1.2.3.4]", "https://h:99999",
    "https://h:abc", "https://h:-1", "https://h:0", "https://h:+1", "https://ho st",
    "https://h\n.example", "https://h\t.example", "https://h/\x01", "https://ünï.example",
    "https://h\u202e", "https://" + "a" * 64 + ".example", "https://a..b", "https://-h",
    "https://:443", "//h", "https:h", "h", "ftp://h", "file:///etc/passwd",
    "javascript:alert(1)", "https://h?x=1", "https://h#f", "https://u:p@h",
    "http://10.0.0.1", "http://localhost.evil.example", "https://h%00", "https://h\x7f",
]
# Refused for LaunchDarkly only: its base URI takes no path (GitHub Enterprise needs one).
BAD_LAUNCHDARKLY_URLS = [*BAD_URLS, "https://h/foo", "https://h/api/v3", "https://h/api/v2/x"]
BAD_TOKENS = [
    "tökén-1234567", "токен-1234567", "tok en", "tok\ten", "tok\x01en", "tok\u200ben",
    "tok\u00a0en", f"{CANARY}\r\nX-Evil: 1", "tok\x7fen", "tok\U0001f511en", f"{CANARY}é",
]
BAD_SECONDS = ["nan", "inf", "-1", "0", "1e999", "soon", "", "5s"]


def _guard(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a hostile setting led to a network call")


@pytest.fixture
def reconciler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]):
    """`reconciler(*args, **environ)` in process: (exit code, stdout, stderr)."""
    folder = tmp_path / "pipelines" / "web"
    folder.mkdir(parents=True)
    dump_yaml(pipeline("main"), folder / "main.yaml")
    seed_state(tmp_path / "state.json", {"projects": {"web": project([pipeline("main")])},
                                         "aviator": {"projects": {"web": {}}}})
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"number": 7}}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(socket, "getaddrinfo", _guard)
    monkeypatch.setattr(socket.socket, "connect", _guard)
    monkeypatch.setattr(socket.socket, "connect_ex", _guard)

    def run(*args: str, **environ: str) -> tuple[int, str, str]:
        with monkeypatch.context() as patch:
            for name in [n for n in list(__import__("os").environ) if n.startswith(FOREIGN)]:
                patch.delenv(name)
            base = {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY, "LAUNCHDARKLY_BASE_URI": CLOSED,
                    "GITHUB_REPOSITORY": "acme/pipelines", "GITHUB_EVENT_PATH": str(event),
                    "GITHUB_TOKEN": "ghs-canary-5e6f", "GITHUB_API_URL": CLOSED,
                    "AVIATOR_API_TOKEN": "av-canary-7a8b", "AVIATOR_PROJECT": "web",
                    "AVIATOR_ENVIRONMENT": "production", "AVIATOR_BASE_URL": CLOSED}
            for name, value in {**base, **environ}.items():
                patch.setenv(name, value)
            patch.setattr(sys, "argv", ["reconciler", *args])
            with pytest.raises(SystemExit) as exited:
                main()
        out, err = capsys.readouterr()
        return exited.value.code, out, err

    return run


def assert_one_error_line(result: tuple[int, str, str], names: str, secret: str) -> None:
    code, out, err = result
    assert code == 1, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert names in lines[0], err
    assert "Traceback" not in err and secret not in out + err
    assert all(c.isprintable() for c in lines[0]), lines[0]


LAUNCHDARKLY_COMMANDS = [
    ["plan"], ["apply", "--yes"], ["drift"], ["export", "--project", "web"],
    ["validate", "--online"], ["graph", "--live", "--project", "web"],
]


@pytest.mark.parametrize("command", LAUNCHDARKLY_COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_a_hostile_launchdarkly_setting(reconciler, command) -> None:
    for value in BAD_LAUNCHDARKLY_URLS:
        assert_one_error_line(reconciler(*command, LAUNCHDARKLY_BASE_URI=value),
                              "LAUNCHDARKLY_BASE_URI", CANARY)
        assert_one_error_line(reconciler(*command, "--base-uri", value), "--base-uri", CANARY)
    for token in BAD_TOKENS:
        for variable in ("LAUNCHDARKLY_ACCESS_TOKEN", "LD_ACCESS_TOKEN"):
            environ = {"LAUNCHDARKLY_ACCESS_TOKEN": "", variable: token}
            assert_one_error_line(reconciler(*command, **environ), variable, token.strip())


@pytest.mark.parametrize("variable", ["RECONCILER_HTTP_TIMEOUT", "RECONCILER_MAX_WAIT"])
def test_unusable_numbers_of_seconds_are_one_line(reconciler, variable: str) -> None:
    values = [v for v in BAD_SECONDS if v] + (
        ["0.5", "3601"] if variable == "RECONCILER_MAX_WAIT" else [])
    for value in values:
        assert_one_error_line(reconciler("plan", **{variable: value}), variable, CANARY)


@pytest.mark.parametrize("variable", ["LAUNCHDARKLY_API_VERSION",
                                      "LAUNCHDARKLY_BETA_API_VERSION"])
def test_unusable_api_versions_are_one_line(reconciler, variable: str) -> None:
    for value in ["beta,20240415", "be ta", "bétà", "beta\n", "\x01"]:
        name = "beta_api_version" if "BETA" in variable else "api_version"
        assert_one_error_line(reconciler("plan", **{variable: value}), name, CANARY)


def test_aviator_settings_are_one_line(reconciler) -> None:
    command = ["aviator", "deployments", "--sandbox", "state.json"]
    for value in BAD_URLS:
        assert_one_error_line(reconciler(*command, AVIATOR_BASE_URL=value), "AVIATOR_BASE_URL",
                              "av-canary-7a8b")
    for token in BAD_TOKENS:
        assert_one_error_line(reconciler(*command, AVIATOR_API_TOKEN=token),
                              "AVIATOR_API_TOKEN", token.strip())


def test_github_settings_are_one_line(reconciler) -> None:
    command = ["plan", "--sandbox", "state.json", "--github-comment"]
    for value in BAD_URLS:
        assert_one_error_line(reconciler(*command, GITHUB_API_URL=value), "GITHUB_API_URL",
                              "ghs-canary-5e6f")
    for token in BAD_TOKENS:
        assert_one_error_line(reconciler(*command, GITHUB_TOKEN=token), "GITHUB_TOKEN",
                              token.strip())
