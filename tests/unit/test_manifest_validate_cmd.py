"""`reconciler validate`: output, exit codes, and where it looks for files."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli, validate_cmd  # noqa: F401  (registers the command)

EXAMPLE = Path(__file__).parent.parent.parent / "pipelines"
ELEVEN_PHASES = "key: long\nname: Long\nphases:\n" + "".join(
    f"  - name: P{n}\n    audiences:\n      - name: QA\n        environmentKey: test\n"
    for n in range(11)
)


def test_clean_example_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_PIPELINES_DIR", raising=False)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", str(EXAMPLE)])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "ok: 4 pipelines and 3 release policies in 1 project\n", "")


def test_directory_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_PIPELINES_DIR", str(EXAMPLE))
    monkeypatch.chdir(tmp_path)  # no ./pipelines here
    result = CliRunner().invoke(cli, ["validate"])
    assert (result.exit_code, result.stdout) == (
        0, "ok: 4 pipelines and 3 release policies in 1 project\n")


def test_default_directory_is_pipelines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_PIPELINES_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1
    assert result.stderr == "pipelines: no such directory\n1 error in 1 file\n"


def test_warnings_do_not_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pipelines/web").mkdir(parents=True)
    (tmp_path / "pipelines/web/long.yaml").write_text(ELEVEN_PHASES)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", "pipelines"])
    assert result.exit_code == 0
    assert result.stderr == ("pipelines/web/long.yaml:3:1: warning: phases: 11 phases; "
                             "LaunchDarkly's UI shows at most 10\n")
    assert result.stdout == "ok: 1 pipeline in 1 project\n"


def test_errors_and_warnings_together_sorted_by_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pipelines/web").mkdir(parents=True)
    (tmp_path / "pipelines/web/long.yaml").write_text(ELEVEN_PHASES)
    (tmp_path / "pipelines/web/a.yaml").write_text("key: b\nname: A\nphases: []\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", "pipelines"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "pipelines/web/a.yaml:1:6: key: 'b' must equal the file name: rename the file to "
        "b.yaml or set key: a",
        "pipelines/web/a.yaml:3:9: phases: must not be empty",
        "pipelines/web/long.yaml:3:1: warning: phases: 11 phases; LaunchDarkly's UI shows at "
        "most 10",
        "2 errors in 1 file",
    ]


def test_a_control_character_in_the_yaml_never_reaches_output_raw(tmp_path: Path) -> None:
    # A pull request controls these bytes: a raw newline would let it start a line of
    # its own, and GitHub Actions runs lines like `::error ...::` as workflow commands.
    project = tmp_path / "pipelines" / "web"
    project.mkdir(parents=True)
    (project / "main.yaml").write_text(
        'key: main\nname: Main\n"\\n::error title=pwned::x\\u001b[31m": 1\n'
        "phases: [{name: P, audiences: [{name: A, environmentKey: test}]}]\n")
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", str(tmp_path / "pipelines")])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "unknown field" in lines[0]
    assert not any(line.startswith("::") for line in lines)
    assert "\x1b" not in result.stderr and "\\n::error" in lines[0]


def _strategies(*strategies: str) -> str:
    audiences = "".join(
        f"      - name: A{n}\n        environmentKey: test\n        configuration:\n"
        f"          releaseStrategy: {strategy}\n          requireApproval: false\n"
        for n, strategy in enumerate(strategies))
    return f"key: s\nname: S\nphases:\n  - name: P\n    audiences:\n{audiences}"


def test_release_strategies_known_pass_unknown_warn_and_typos_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pipelines/web").mkdir(parents=True)
    (tmp_path / "pipelines/web/s.yaml").write_text(
        _strategies("monitoredRelease", "manual", "immediate", "Manual"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", "pipelines"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "pipelines/web/s.yaml:19:28: warning: phases[0].audiences[2].configuration."
        "releaseStrategy: 'immediate' is not a release strategy LaunchDarkly documents; "
        "known: monitoredRelease, manual",
        "pipelines/web/s.yaml:24:28: phases[0].audiences[3].configuration."
        "releaseStrategy: 'Manual' is not a release strategy LaunchDarkly documents "
        "(did you mean 'manual'?); known: monitoredRelease, manual",
        "1 error in 1 file",
    ]


def test_an_unknown_release_strategy_alone_is_only_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pipelines/web").mkdir(parents=True)
    (tmp_path / "pipelines/web/s.yaml").write_text(_strategies("monitoredRelease", "immediate"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", "pipelines"])
    assert (result.exit_code, result.stdout) == (0, "ok: 1 pipeline in 1 project\n")
    assert "warning:" in result.stderr and "'immediate'" in result.stderr
