"""`ignore` pointers: only fields inside pipelines, `*` for the items of phases and
audiences; everything else is refused with its reason, at its file:line:col."""

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.manifest.models import CreateReleasePipelineInput
from reconciler.manifest.pointers import check_pointer
from tests.builders import dump_yaml, pipeline, project

AUDIENCE = "/phases/*/audiences/*"
CONFIGURATION = f"{AUDIENCE}/configuration"
GUARDIAN = f"{CONFIGURATION}/releaseGuardianConfiguration"

# The agreed grammar, written out by hand: every pointer it accepts without a warning.
ACCEPTED = [
    "/name", "/description", "/tags",
    "/phases/*/configuration", "/phases/*/configuration/anything",
    "/phases/*/configuration/anything/deeper",
    "/phases/*/configuration/\u0663",  # an Arabic-Indic digit is a name, not an index
    f"{AUDIENCE}/environmentKey", f"{AUDIENCE}/segmentKeys", CONFIGURATION,
    f"{CONFIGURATION}/releaseStrategy", f"{CONFIGURATION}/requireApproval",
    f"{CONFIGURATION}/notifyMemberIds", f"{CONFIGURATION}/notifyTeamKeys", GUARDIAN,
    f"{GUARDIAN}/monitoringWindowMilliseconds", f"{GUARDIAN}/rolloutWeight",
    f"{GUARDIAN}/rollbackOnRegression", f"{GUARDIAN}/randomizationUnit",
]

# Refused, with the words that must explain why.
REFUSED = [
    ("name", "it must start with '/'"),
    ("phases/*/configuration", "it must start with '/'"),
    ("/phases/0", "list index 0: use *"),
    ("/phases/0/configuration", "list index 0: use *"),
    ("/phases/*/audiences/12/environmentKey", "list index 12: use *"),
    ("/tags/0", "list index 0: use *"),
    ("/key", "the key names the pipeline"),
    ("/isLegacy", "leave isLegacy out of the file"),
    ("/isProjectDefault", "leave isProjectDefault out of every file"),
    ("/phases", "names the whole phases list"),
    ("/phases/*", "names whole phases"),
    ("/phases/*/audiences", "names the whole audiences list"),
    (AUDIENCE, "names whole audiences"),
    ("/phases/*/name", "names identify phases"),
    (f"{AUDIENCE}/name", "names identify audiences"),
    ("/*", "the pipeline is an object"),
    ("/phases/*/*", "a phase is an object"),
    (f"{AUDIENCE}/*", "an audience is an object"),
    (f"{CONFIGURATION}/*", f"{CONFIGURATION} is an object"),
    (f"{GUARDIAN}/*", f"{GUARDIAN} is an object"),
    ("/phases/*/configuration/*", "name the fields below /phases/*/configuration"),
    ("/tags/*", "tags is a list of strings"),
    (f"{AUDIENCE}/segmentKeys/*", "segmentKeys is a list of strings"),
    (f"{CONFIGURATION}/notifyTeamKeys/*", "notifyTeamKeys is a list of strings"),
    ("/description/x", "description is a single value"),
    (f"{GUARDIAN}/rolloutWeight/x", "rolloutWeight is a single value"),
    ("/phases/first/name", "phases is a list: use * for its items"),
    ("/owner/team", "nothing below it can be named"),
    ("/a~2b", "'~' must be followed by 0"),
    ("/a~", "'~' must be followed by 0"),
    ("/name/", "an empty field name"),
    ("//name", "an empty field name"),
    ("/", "an empty field name"),
]

# Accepted, with a warning naming the unknown field (and a likely meant one).
WARNED = [
    ("/owner", "'owner' is not a field of the pipeline"),
    ("/phases/*/colour", "'colour' is not a field of a phase"),
    (f"{AUDIENCE}/weight", "'weight' is not a field of an audience"),
    (f"{CONFIGURATION}/notifyMemberId", "(did you mean 'notifyMemberIds'?)"),
    (f"{GUARDIAN}/rolloutWeigth", "(did you mean 'rolloutWeight'?)"),
    ("/a~1b", "'a/b' is not a field of the pipeline"),  # ~1 is an escaped '/'
    ("/tilde~0", "'tilde~' is not a field of the pipeline"),
]


def _check(pointer: str) -> tuple[str | None, str | None]:
    result = check_pointer(pointer, CreateReleasePipelineInput)
    return result.error, result.warning


@pytest.mark.parametrize("pointer", ACCEPTED)
def test_accepted(pointer: str) -> None:
    assert _check(pointer) == (None, None)


@pytest.mark.parametrize("pointer, reason", REFUSED, ids=[p for p, _ in REFUSED])
def test_refused_with_its_reason(pointer: str, reason: str) -> None:
    error, warning = _check(pointer)
    assert warning is None
    assert error is not None and error.startswith(repr(pointer)) and reason in error, error


@pytest.mark.parametrize("pointer, words", WARNED, ids=[p for p, _ in WARNED])
def test_unknown_fields_are_accepted_with_a_warning(pointer: str, words: str) -> None:
    error, warning = _check(pointer)
    assert error is None
    assert warning is not None and words in warning, warning
    assert "it can only match a field LaunchDarkly returns that the models lack" in warning


def test_every_field_of_every_model_has_a_verdict() -> None:
    # A field added to the models is judged by the walk, never left to crash plan.
    pipeline_fields = set(CreateReleasePipelineInput.model_fields)
    assert pipeline_fields == {"key", "name", "description", "tags", "isProjectDefault",
                               "isLegacy", "phases"}
    verdicts = {f"/{name}": _check(f"/{name}") for name in pipeline_fields}
    assert {p for p, (error, _) in verdicts.items() if error is None} == {
        "/name", "/description", "/tags"}


def test_plan_refuses_bad_pointers_with_file_line_col_and_no_traceback(tmp_path: Path) -> None:
    # These crashed plan (/isLegacy, /phases) or silently stripped nothing (/phases/0).
    dump_yaml({"projects": {"web": project([pipeline("standard")])}}, tmp_path / "live.yaml")
    (tmp_path / "pipelines/web").mkdir(parents=True)
    dump_yaml(pipeline("standard"), tmp_path / "pipelines/web/standard.yaml")
    (tmp_path / "pipelines/web/_project.yaml").write_text(
        "ignore:\n  - /isLegacy\n  - /phases\n  - /phases/0/configuration\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, check=False)

    assert run("sandbox", "seed", "--state", "state.json", "live.yaml").returncode == 0
    planned = run("plan", "--sandbox", "state.json", "--pipelines-dir", "pipelines")
    assert planned.returncode == 1
    assert "Traceback" not in planned.stderr
    assert planned.stdout == ""
    assert planned.stderr.splitlines()[:3] == [
        "pipelines/web/_project.yaml:2:5: ignore[0]: '/isLegacy' cannot be ignored: leave "
        "isLegacy out of the file to leave it unmanaged",
        "pipelines/web/_project.yaml:3:5: ignore[1]: '/phases' names the whole phases list: "
        "name fields inside its items (/phases/*/...)",
        "pipelines/web/_project.yaml:4:5: ignore[2]: '/phases/0/configuration': list index "
        "0: use *; ignored values follow their phase and audience by name",
    ]
