"""The bad-input corpus (tests/badinput/): every broken input exits 1 with exactly the
problems it declares, each as file:line:col, never a traceback, never a network call."""

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli, schema_cmd, validate_cmd  # noqa: F401  (registers the commands)

CORPUS = Path(__file__).parent.parent / "badinput"
BASELINE_PATH = "pipelines/web/baseline.yaml"
BASELINE = b"""key: baseline
name: Baseline
phases:
  - name: Testing
    audiences:
      - name: QA
        environmentKey: test
"""


@dataclass
class Case:
    name: str
    files: dict[str, bytes]  # path under the working directory -> content
    expected: list[str]


def _file_case(path: Path) -> Case:
    raw = path.read_bytes()
    header = [line.decode("ascii", "replace") for line in raw.splitlines()
              if line.startswith(b"# ")]
    target = f"pipelines/web/{path.stem}.yaml"
    expects = []
    for line in header:
        if line.startswith("# path: "):
            target = line.removeprefix("# path: ")
        elif line.startswith("# expect: "):
            expects.append(line.removeprefix("# expect: "))
    expected = [e if e.startswith("pipelines") else f"{target}:{e}" for e in expects]
    return Case(path.stem, {BASELINE_PATH: BASELINE, target: raw}, expected)


def _tree_case(directory: Path) -> Case:
    files = {str(path.relative_to(directory)): path.read_bytes()
             for path in sorted((directory / "pipelines").rglob("*")) if path.is_file()}
    expected = (directory / "expected.txt").read_text(encoding="utf-8").splitlines()
    return Case(directory.name, files, expected)


CASES = sorted(
    [_file_case(path) for path in CORPUS.glob("*.yaml")]
    + [_tree_case(path) for path in CORPUS.iterdir() if path.is_dir()],
    key=lambda case: case.name,
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validate must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]
              ) -> Result:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_PIPELINES_DIR", raising=False)
    return CliRunner().invoke(cli, ["validate", "--pipelines-dir", "pipelines"])


def _assert_refused(result: Result, expected: list[str]) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an unhandled error
    assert "Traceback" not in result.output
    assert result.stdout == ""
    *problems, summary = result.stderr.splitlines()
    assert sorted(problems) == sorted(expected)
    errors = [p for p in problems if ": warning: " not in p]
    files = {p.split(":", 1)[0] for p in errors}
    assert summary == (f"{len(errors)} error{'s' if len(errors) > 1 else ''} in "
                       f"{len(files)} file{'s' if len(files) > 1 else ''}")


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert all(case.expected for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.usefixtures("no_network")
def test_corpus_case(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_refused(_validate(tmp_path, monkeypatch, case.files), case.expected)


# --- generated at run time: too big, binary, or too many files to commit ---------------


@pytest.mark.usefixtures("no_network")
def test_empty_pipelines_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_refused(_validate(tmp_path, monkeypatch, {}), [
        "pipelines: no pipeline files found (expected pipelines/<projectKey>/<pipelineKey>.yaml)"
    ])


@pytest.mark.usefixtures("no_network")
def test_project_folder_without_pipelines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    files = {"pipelines/web/_project.yaml": b"prune: true\n"}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines: no pipeline files found (expected pipelines/<projectKey>/<pipelineKey>.yaml)"
    ])


@pytest.mark.usefixtures("no_network")
def test_missing_pipelines_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", "nowhere"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["nowhere: no such directory",
                                          "1 error in 1 file"]


@pytest.mark.usefixtures("no_network")
def test_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {BASELINE_PATH: BASELINE, "pipelines/web/checkout.yaml": b""}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines/web/checkout.yaml:1:1: empty file: expected a release pipeline "
        "(key, name, phases)"
    ])


@pytest.mark.usefixtures("no_network")
def test_five_megabyte_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = b"# padding\n" * (5 * 1024 * 1024 // 10)
    files = {BASELINE_PATH: BASELINE, "pipelines/web/checkout.yaml": big}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines/web/checkout.yaml:1:1: file is 5.0 MiB; the limit is 1 MiB"
    ])


@pytest.mark.usefixtures("no_network")
def test_binary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # bytes 0..255: the newline at 0x0a starts line 2; 0x80 is the first non-UTF-8 byte,
    # 117 bytes into that line.
    files = {BASELINE_PATH: BASELINE, "pipelines/web/checkout.yaml": bytes(range(256)) * 64}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines/web/checkout.yaml:2:118: not UTF-8 text (byte 0x80): save the file as UTF-8"
    ])


@pytest.mark.usefixtures("no_network")
def test_binary_file_that_is_valid_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    files = {BASELINE_PATH: BASELINE, "pipelines/web/checkout.yaml": b"key: x\x00\x01\x02" * 1000}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines/web/checkout.yaml:1:7: character U+0000 is not allowed in YAML (binary data?)"
    ])


@pytest.mark.usefixtures("no_network")
def test_deep_nesting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = b"key: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    files = {BASELINE_PATH: BASELINE, "pipelines/web/checkout.yaml": deep}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines/web/checkout.yaml:1:37: nested more than 32 levels deep"
    ])


@pytest.mark.usefixtures("no_network")
def test_more_than_twenty_pipelines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"pipelines/web/p{n:02}.yaml": BASELINE.replace(b"baseline", b"p%02d" % n)
             for n in range(21)}
    _assert_refused(_validate(tmp_path, monkeypatch, files), [
        "pipelines/web: 21 pipeline files, but a project holds at most 20 release pipelines"
    ])
