"""Nothing git does not manage is lost: ignored fields follow their phase and audience by
name, live fields the models lack survive every change, an omitted isLegacy is never
asserted. The real CLI in process against `--sandbox STATE` (and `sandbox serve` for the
isLegacy knob); every expectation below is worked out by hand from the fixture."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.errors import ReconcilerError
from reconciler.sandbox import create_app, seed_state, transport
from tests.builders import dump_yaml

NOTIFY = "/phases/*/audiences/*/configuration/notifyMemberIds"
APPROVAL = "/phases/*/audiences/*/configuration/requireApproval"
HEADERS = {"Authorization": "sandbox-token", "LD-API-Version": "beta"}


def audience(name: str, notify: list[str] | None = None, *, approval: bool = True,
             **more: Any) -> dict[str, Any]:
    configuration: dict[str, Any] = {"releaseStrategy": "monitoredRelease",
                                     "requireApproval": approval}
    if notify is not None:
        configuration["notifyMemberIds"] = notify
    return {"name": name, "environmentKey": "test", "configuration": configuration, **more}


def phase(name: str, *audiences: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"name": name, "audiences": list(audiences), **more}


def pipeline(key: str, *phases: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "isLegacy": False, "phases": list(phases), **more}


class Repo:
    """A sandbox state seeded with live pipelines, a pipelines folder, and the CLI."""

    def __init__(self, root: Path, *live: dict[str, Any]) -> None:
        self.root = root
        self.state = root / "state.json"
        self.dir = root / "pipelines"
        seed_state(self.state, {"projects": {"web": {"environments": ["test", "production"],
                                                     "pipelines": list(live)}}})

    def write(self, *pipelines: dict[str, Any], ignore: list[str] | None = None) -> None:
        folder = self.dir / "web"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            old.unlink()
        for body in pipelines:
            dump_yaml(body, folder / f"{body['key']}.yaml")
        if ignore:
            dump_yaml({"ignore": ignore}, folder / "_project.yaml")

    def cli(self, command: str, *args: str) -> Result:
        """The command's result; a ReconcilerError (main() prints it, exit 1) is kept in
        `result.exception`, anything else fails the test."""
        result = CliRunner().invoke(cli, [command, "--sandbox", str(self.state),
                                          "--pipelines-dir", str(self.dir), *args])
        assert isinstance(result.exception, SystemExit | ReconcilerError | None), result.output
        return result

    def converge(self) -> str:
        """Apply; then a re-plan must find nothing. Returns apply's output."""
        applied = self.cli("apply", "--yes")
        assert applied.exit_code == 0, applied.output
        again = self.cli("plan", "--detailed-exitcode")
        assert again.exit_code == 0 and "No changes" in again.output, again.output
        return applied.output

    def live(self) -> dict[str, dict[str, Any]]:
        """The pipelines as LaunchDarkly (the sandbox) returns them."""

        async def listing() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(transport=transport(create_app(self.state)),
                                         base_url="http://sandbox", headers=HEADERS) as client:
                answer = await client.get("/api/v2/projects/web/release-pipelines")
                items: list[dict[str, Any]] = answer.json()["items"]
                return items

        return {p["key"]: p for p in asyncio.run(listing())}


def notify_by_audience(raw: dict[str, Any]) -> list[tuple[str, str, list[str] | None]]:
    return [(p["name"], a["name"], a.get("configuration", {}).get("notifyMemberIds"))
            for p in raw["phases"] for a in p["audiences"]]


# --- ignore by identity ----------------------------------------------------------------

LIVE_ABC = pipeline("p", phase("A", audience("X", ["m-a"])), phase("B", audience("X", ["m-b"])),
                    phase("C", audience("X", ["m-c"])))


@pytest.mark.parametrize(("git_phases", "expected"), [
    # A phase inserted first: each live phase keeps its own reviewers, the new one gets git's.
    (["N", "A", "B", "C"], [("N", "X", ["g-n"]), ("A", "X", ["m-a"]), ("B", "X", ["m-b"]),
                            ("C", "X", ["m-c"])]),
    (["A", "C"], [("A", "X", ["m-a"]), ("C", "X", ["m-c"])]),  # B removed
    (["C", "A", "B"], [("C", "X", ["m-c"]), ("A", "X", ["m-a"]), ("B", "X", ["m-b"])]),
])
def test_ignored_reviewers_follow_their_phase_when_phases_move(tmp_path, git_phases, expected):
    repo = Repo(tmp_path, LIVE_ABC)
    # git's own values for the ignored field: only a phase with no live counterpart sends it.
    repo.write(pipeline("p", *(phase(name, audience("X", [f"g-{name.lower()}"]))
                               for name in git_phases)), ignore=[NOTIFY])
    planned = repo.cli("plan").output
    for name in "ABC":  # a kept phase's ignored value is not shown; a removed one's goes
        assert (f"m-{name.lower()}" in planned) == (name not in git_phases), planned
    assert ("g-n" in planned) == ("N" in git_phases)  # the new phase's value is shown
    repo.converge()
    assert notify_by_audience(repo.live()["p"]) == expected


def test_audiences_match_by_name_within_their_phase_and_repeated_names_in_order(tmp_path):
    repo = Repo(tmp_path, pipeline("p", phase("A", audience("X", ["m1"]), audience("X", ["m2"]),
                                              audience("Y", ["m3"]))))
    # The k-th "X" in git is the k-th live "X"; the third "X" and "Z" are new.
    repo.write(pipeline("p", phase("A", audience("Y", ["g0"]), audience("X", ["g1"]),
                                   audience("Z", ["g2"]), audience("X", ["g3"]),
                                   audience("X", ["g4"]))), ignore=[NOTIFY])
    repo.converge()
    assert notify_by_audience(repo.live()["p"]) == [
        ("A", "Y", ["m3"]), ("A", "X", ["m1"]), ("A", "Z", ["g2"]), ("A", "X", ["m2"]),
        ("A", "X", ["g4"])]


def test_a_repeated_live_phase_name_matches_its_first_occurrence_first(tmp_path):
    repo = Repo(tmp_path, pipeline("p", phase("A", audience("X", ["m1"])),
                                   phase("A", audience("X", ["m2"]))))
    repo.write(pipeline("p", phase("A", audience("X", ["g"]))), ignore=[NOTIFY])
    repo.converge()
    assert notify_by_audience(repo.live()["p"]) == [("A", "X", ["m1"])]


def test_a_renamed_phase_or_audience_takes_gits_values_and_the_plan_shows_them(tmp_path):
    repo = Repo(tmp_path, pipeline("p", phase("A", audience("X", ["m-a"])),
                                   phase("B", audience("X", ["m-bx"]))))
    repo.write(pipeline("p", phase("A2", audience("X", ["g-a2"])),
                        phase("B", audience("X2", ["g-bx2"]))), ignore=[NOTIFY])
    planned = repo.cli("plan").output
    assert '/phases/0/audiences/0/configuration/notifyMemberIds: ["m-a"] -> ["g-a2"]' in planned
    assert '/phases/1/audiences/0/configuration/notifyMemberIds: ["m-bx"] -> ["g-bx2"]' in planned
    repo.converge()
    assert notify_by_audience(repo.live()["p"]) == [("A2", "X", ["g-a2"]), ("B", "X2", ["g-bx2"])]


def test_a_new_phase_with_an_ignored_required_field_sends_gits_value(tmp_path):
    repo = Repo(tmp_path, pipeline("p", phase("A", audience("X", approval=False))))
    repo.write(pipeline("p", phase("A", audience("X", approval=True)),
                        phase("N", audience("Y", approval=True))), ignore=[APPROVAL])
    body = json.loads(repo.cli("plan", "--format", "json").output)["projects"][0]["steps"][0]
    sent = [a["configuration"]["requireApproval"]
            for p in body["body"]["phases"] for a in p["audiences"]]
    assert sent == [False, True]  # live's for A, git's for the new N
    repo.converge()
    approvals = [a["configuration"]["requireApproval"]
                 for p in repo.live()["p"]["phases"] for a in p["audiences"]]
    assert approvals == [False, True]


# --- fields the models do not manage ---------------------------------------------------

GUARDIAN = {"monitoringWindowMilliseconds": 60000, "rolloutWeight": 50,
            "rollbackOnRegression": True}
# A newer LaunchDarkly's fields on every object (the fixture's `extra`).
NEWER = pipeline("u", phase("P1", {
    "name": "X", "environmentKey": "test", "extra": {"weightHint": 3},
    "configuration": {"releaseStrategy": "monitoredRelease", "requireApproval": True,
                      "extra": {"approvalQuorum": 2},
                      "releaseGuardianConfiguration": {**GUARDIAN,
                                                       "extra": {"metricKeys": ["latency"]}}},
}, extra={"holdHours": 4}), extra={"rolloutPolicy": "gradual"})
POINTERS = ("/rolloutPolicy, /phases/0/holdHours, /phases/0/audiences/0/weightHint, "
            "/phases/0/audiences/0/configuration/approvalQuorum, "
            "/phases/0/audiences/0/configuration/releaseGuardianConfiguration/metricKeys")


def git_u(*phases: dict[str, Any], name: str = "U", **more: Any) -> dict[str, Any]:
    configuration = {"releaseStrategy": "monitoredRelease", "requireApproval": True,
                     "releaseGuardianConfiguration": GUARDIAN}
    first = phase("P1", {"name": "X", "environmentKey": "test", "configuration": configuration})
    return {"key": "u", "name": name, "isLegacy": False, "phases": [*phases, first], **more}


def newer_values(raw: dict[str, Any], at: int) -> list[Any]:
    """The five newer fields of NEWER, read where phase P1 now is (`at`)."""
    p1 = raw["phases"][at]
    x = p1["audiences"][0]
    return [raw.get("rolloutPolicy"), p1.get("holdHours"), x.get("weightHint"),
            x["configuration"].get("approvalQuorum"),
            x["configuration"]["releaseGuardianConfiguration"].get("metricKeys")]


def test_unknown_fields_at_every_level_survive_an_update_and_show_once(tmp_path):
    repo = Repo(tmp_path, NEWER)
    # Renamed, and a phase inserted before P1: the newer fields must follow P1 by name.
    repo.write(git_u(phase("N", audience("Y")), name="U renamed"))
    text = repo.cli("plan").output
    assert f"  note: u: not managed by git: {POINTERS}\n" in text
    assert text.count("not managed by git") == 1
    assert text.count("holdHours") == 1 and "rolloutPolicy" not in text.replace(POINTERS, "")
    for command, args in (("plan", ["--format", "markdown"]), ("drift", ["--format", "markdown"]),
                          ("drift", [])):
        shown = repo.cli(command, *args).output
        assert shown.count("not managed by git") == 1, (command, args, shown)
    repo.converge()
    live = repo.live()["u"]
    assert [p["name"] for p in live["phases"]] == ["N", "P1"] and live["name"] == "U renamed"
    assert newer_values(live, 1) == ["gradual", 4, 3, 2, ["latency"]]
    assert "holdHours" not in live["phases"][0]  # nothing leaks onto the new phase


def test_no_change_plan_still_lists_the_unknown_fields_and_apply_does_nothing(tmp_path):
    repo = Repo(tmp_path, NEWER)
    repo.write(git_u())
    planned = repo.cli("plan", "--detailed-exitcode")
    assert planned.exit_code == 0
    assert planned.output == (f"Project web (1 live, 1 in git, default u)\n"
                              f"  note: u: not managed by git: {POINTERS}\n\n"
                              "No changes. Live matches git.\n")


def test_a_renamed_phase_drops_its_unknown_fields_and_the_plan_says_so(tmp_path):
    repo = Repo(tmp_path, NEWER)
    renamed = git_u()
    renamed["phases"][0]["name"] = "P1b"
    repo.write(renamed)
    dropped = ("/phases/0/holdHours, /phases/0/audiences/0/weightHint, "
               "/phases/0/audiences/0/configuration/approvalQuorum, "
               "/phases/0/audiences/0/configuration/releaseGuardianConfiguration/metricKeys")
    assert (f"; dropped, as git removes or renames their phase or audience: {dropped}\n"
            in repo.cli("plan").output)
    repo.converge()
    assert newer_values(repo.live()["u"], 0) == ["gradual", None, None, None, None]


def test_an_ignored_unknown_field_is_kept_too(tmp_path):
    repo = Repo(tmp_path, NEWER)
    repo.write(git_u(name="Other"), ignore=["/phases/*/holdHours", "/rolloutPolicy"])
    repo.converge()
    assert newer_values(repo.live()["u"], 0) == ["gradual", 4, 3, 2, ["latency"]]


def test_a_replace_keeps_the_unknown_fields(tmp_path):
    holder = pipeline("holder", phase("A", audience("X")))  # holds the default meanwhile
    repo = Repo(tmp_path, NEWER, holder)
    repo.write(git_u(isLegacy=True), holder)
    assert "-/+ replace u" in repo.converge()
    live = repo.live()["u"]
    assert live["_isLegacy"] is True
    assert newer_values(live, 0) == ["gradual", 4, 3, 2, ["latency"]]


def test_a_live_change_to_an_unknown_field_makes_a_saved_plan_stale(tmp_path):
    # u itself has no step: only the live fingerprint can see its unknown field change.
    other = pipeline("other", phase("A", audience("X")))
    repo = Repo(tmp_path, NEWER, other)
    repo.write(git_u(), {**other, "name": "Other renamed"})
    plan_file = tmp_path / "plan.json"
    assert repo.cli("plan", "--out", str(plan_file)).exit_code == 0
    state = json.loads(repo.state.read_text())
    state["projects"]["web"]["pipelines"]["u"]["rolloutPolicy"] = "fast"
    repo.state.write_text(json.dumps(state))
    refused = repo.cli("apply", "--yes", str(plan_file))
    assert "plan is stale" in str(refused.exception)
    assert repo.live()["other"]["name"] == "Other"


def test_export_writes_unknown_fields_as_comments_and_round_trips(tmp_path):
    repo = Repo(tmp_path, NEWER)
    for _ in range(2):  # a second export replaces the block, never repeats it
        exported = CliRunner().invoke(cli, ["export", "--sandbox", str(repo.state), "--project",
                                            "web", "--pipelines-dir", str(repo.dir)])
        assert exported.exit_code == 0, exported.output
    text = (repo.dir / "web" / "u.yaml").read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../schemas/pipeline.schema.json\n"
        "# Not managed by git (LaunchDarkly's; apply keeps the live values):\n"
        '#   /rolloutPolicy: "gradual"\n'
        "#   /phases/0/holdHours: 4\n"
        "#   /phases/0/audiences/0/weightHint: 3\n"
        "#   /phases/0/audiences/0/configuration/approvalQuorum: 2\n"
        '#   /phases/0/audiences/0/configuration/releaseGuardianConfiguration/metricKeys: '
        '["latency"]\n'
        "key: u\n")
    assert text.count("Not managed by git") == 1
    validated = CliRunner().invoke(cli, ["validate", "--pipelines-dir", str(repo.dir)])
    assert validated.exit_code == 0, validated.output
    planned = repo.cli("plan", "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes" in planned.output


# --- an omitted isLegacy ----------------------------------------------------------------


@pytest.mark.integration
def test_an_omitted_is_legacy_is_never_asserted_when_the_server_defaults_to_true(
        tmp_path, sandbox_server):
    server = sandbox_server({"projects": {"web": {"environments": ["test"]}}},
                            "--legacy-by-default")
    omitted = {"key": "omitted", "name": "Omitted", "phases": [phase("A", audience("X"))]}
    pinned = {**omitted, "key": "pinned", "name": "Pinned", "isLegacy": False}
    folder = tmp_path / "pipelines" / "web"
    folder.mkdir(parents=True)
    for body in (omitted, pinned):
        dump_yaml(body, folder / f"{body['key']}.yaml")
    env = {"LAUNCHDARKLY_BASE_URI": server.url, "LAUNCHDARKLY_ACCESS_TOKEN": "t"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--pipelines-dir", str(tmp_path / "pipelines")],
                                  env=env)

    plan = json.loads(run("plan", "--format", "json").output)
    bodies = {s["key"]: s["body"] for s in plan["projects"][0]["steps"]}
    assert "isLegacy" not in bodies["omitted"] and bodies["pinned"]["isLegacy"] is False
    applied = run("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 2 done, 0 failed, 0 not run." in applied.output
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    listing = httpx.get(f"{server.url}/api/v2/projects/web/release-pipelines", headers=HEADERS)
    legacy = {p["key"]: p["_isLegacy"] for p in listing.json()["items"]}
    assert legacy == {"omitted": True, "pinned": False}
    # The replace path: git now pins the omitted one to false, which LaunchDarkly must echo.
    dump_yaml({**omitted, "isLegacy": False}, folder / "omitted.yaml")
    replaced = run("apply", "--yes")
    assert replaced.exit_code == 0 and "replace omitted ... done" in replaced.output
