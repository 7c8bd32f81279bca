"""load_desired / read_desired: layout, settings, ordering, warnings, positions."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import ProjectSettings, load_desired, online_problems, read_desired

EXAMPLE = Path(__file__).parent.parent.parent / "pipelines"


def pipeline_yaml(key: str, *, phases: int = 1, extra: str = "") -> str:
    body = "".join(
        f"  - name: Phase {n}\n    audiences:\n      - name: QA\n        environmentKey: test\n"
        for n in range(phases)
    )
    return f"key: {key}\nname: {key.title()}\n{extra}phases:\n{body}"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_example_project_loads() -> None:
    state = load_desired(EXAMPLE)
    assert list(state.projects) == ["web"]
    web = state.projects["web"]
    assert list(web.pipelines) == ["guarded-rollout", "hotfix", "legacy-manual", "standard"]
    assert web.paths["standard"] == EXAMPLE / "web" / "standard.yaml"
    assert web.settings == ProjectSettings(
        prune=False, protected=["standard"],
        ignore=["/phases/*/audiences/*/configuration/notifyMemberIds"],
        policyOrder=["prod-guarded", "staging-canary", "everything-else"])
    assert list(web.policies) == ["everything-else", "prod-guarded", "staging-canary"]
    assert [p.key for p in web.pipelines.values() if p.isProjectDefault] == ["standard"]
    assert web.pipelines["legacy-manual"].isLegacy is True
    guardian = web.pipelines["guarded-rollout"].phases[2].audiences[0].configuration
    assert guardian is not None and guardian.releaseGuardianConfiguration is not None
    assert guardian.releaseGuardianConfiguration.rolloutWeight == 10
    assert state.warnings == []


def test_projects_sorted_pipelines_in_file_name_order_settings_default(tmp_path: Path) -> None:
    write(tmp_path, {
        "zeta/b.yaml": pipeline_yaml("b"),
        "zeta/a.yaml": pipeline_yaml("a"),
        "alpha/only.yaml": pipeline_yaml("only"),
    })
    state = load_desired(tmp_path)
    assert list(state.projects) == ["alpha", "zeta"]
    assert list(state.projects["zeta"].pipelines) == ["a", "b"]
    assert state.projects["alpha"].settings == ProjectSettings()


def test_every_problem_of_every_file_in_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    write(tmp_path, {
        "pipelines/web/a.yaml": "key: a\nname: A\nphases: []\n",
        "pipelines/web/b.yaml": "key: b\nphases: {}\nname: [B]\n",
        "pipelines/mobile/c.yaml": "key: c\nname: C\nphases:\n  - name: P\n",
    })
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ManifestError) as raised:
        load_desired(Path("pipelines"))
    assert raised.value.problems == [
        "pipelines/mobile/c.yaml:4:5: phases[0].audiences: field required",
        "pipelines/web/a.yaml:3:9: phases: must not be empty",
        "pipelines/web/b.yaml:2:9: phases: expected a list, got a mapping",
        "pipelines/web/b.yaml:3:7: name: expected a string, got a list",
    ]


def test_absolute_paths_inside_the_working_directory_are_shown_relative(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"pipelines/web/a.yaml": "key: b\nname: A\nphases: []\n"})
    monkeypatch.chdir(tmp_path)
    report = read_desired(tmp_path / "pipelines")
    assert [p.path for p in report.errors] == ["pipelines/web/a.yaml"] * 2
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    report = read_desired(tmp_path / "pipelines")
    assert {p.path for p in report.errors} == {str(tmp_path / "pipelines/web/a.yaml")}


def test_more_than_ten_phases_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, {"web/long.yaml": pipeline_yaml("long", phases=11)})
    report = read_desired(tmp_path)
    assert report.errors == []
    assert report.state.warnings == [
        f"{tmp_path}/web/long.yaml:3:1: warning: phases: 11 phases; LaunchDarkly's UI shows at "
        "most 10"
    ]
    assert list(report.state.projects["web"].pipelines) == ["long"]


def test_ten_phases_is_fine(tmp_path: Path) -> None:
    write(tmp_path, {"web/long.yaml": pipeline_yaml("long", phases=10)})
    assert load_desired(tmp_path).warnings == []


def test_twenty_pipelines_is_fine(tmp_path: Path) -> None:
    write(tmp_path, {f"web/p{n:02}.yaml": pipeline_yaml(f"p{n:02}") for n in range(20)})
    assert len(load_desired(tmp_path).projects["web"].pipelines) == 20


def test_only_the_requested_projects_are_read(tmp_path: Path) -> None:
    write(tmp_path, {
        "web/a.yaml": pipeline_yaml("a"),
        "broken/b.yaml": "key: [\n",
    })
    state = load_desired(tmp_path, projects=["web"])
    assert list(state.projects) == ["web"]
    with pytest.raises(ManifestError) as raised:
        load_desired(tmp_path, projects=["web", "mobile"])
    assert raised.value.problems == [f"{tmp_path}/mobile: no such project folder"]


def test_dotfiles_and_markdown_notes_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {
        "README.md": "# Pipelines\n",
        ".DS_Store": "\x00",
        "web/.gitkeep": "",
        "web/NOTES.md": "notes",
        "web/a.yaml": pipeline_yaml("a"),
        ".git-crypt/keys.yaml": "x",
    })
    assert list(load_desired(tmp_path).projects["web"].pipelines) == ["a"]


def test_empty_project_settings_file_means_defaults(tmp_path: Path) -> None:
    write(tmp_path, {"web/_project.yaml": "# nothing yet\n", "web/a.yaml": pipeline_yaml("a")})
    assert load_desired(tmp_path).projects["web"].settings == ProjectSettings()


def test_byte_order_mark_and_yaml_1_2_scalars(tmp_path: Path) -> None:
    text = "\ufeff" + pipeline_yaml("a", extra="description: 2024-01-01\ntags: [yes, no, on]\n")
    write(tmp_path, {"web/a.yaml": text})
    pipeline = load_desired(tmp_path).projects["web"].pipelines["a"]
    assert pipeline.description == "2024-01-01"
    assert pipeline.tags == ["yes", "no", "on"]


def test_missing_optional_values_may_be_left_empty(tmp_path: Path) -> None:
    write(tmp_path, {"web/a.yaml": pipeline_yaml("a", extra="description:\ntags:\n")})
    pipeline = load_desired(tmp_path).projects["web"].pipelines["a"]
    assert pipeline.description is None and pipeline.tags is None


# --- online_problems --------------------------------------------------------------------


ONLINE = """key: a
name: A
phases:
  - name: Testing
    audiences:
      - name: QA
        environmentKey: test
        segmentKeys: [qa-team, ghosts]
      - name: Dev
        environmentKey: dev
"""


def test_online_problems_point_at_what_is_missing(tmp_path: Path) -> None:
    write(tmp_path, {"web/a.yaml": ONLINE, "mobile/b.yaml": pipeline_yaml("b")})
    state = load_desired(tmp_path)
    catalog = {"web": {"test": {"qa-team"}, "production": set()}}
    assert online_problems(state, catalog) == [
        f"{tmp_path}/mobile: project 'mobile' does not exist in LaunchDarkly",
        f"{tmp_path}/web/a.yaml:8:32: phases[0].audiences[0].segmentKeys[1]: segment 'ghosts' "
        "does not exist in environment 'test' of project 'web'",
        f"{tmp_path}/web/a.yaml:10:25: phases[0].audiences[1].environmentKey: environment 'dev' "
        "does not exist in project 'web'",
    ]


def test_online_problems_none_when_everything_exists(tmp_path: Path) -> None:
    write(tmp_path, {"web/a.yaml": ONLINE})
    catalog = {"web": {"test": {"qa-team", "ghosts"}, "dev": set()}}
    assert online_problems(load_desired(tmp_path), catalog) == []


def test_online_problems_on_the_example_project() -> None:
    catalog = {"web": {"test": {"qa-team"}, "staging": set(),
                       "production": {"beta-users", "internal-staff"}}}
    assert online_problems(load_desired(EXAMPLE), catalog) == []


def test_unreadable_folder_is_a_problem_not_a_crash(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"web/a.yaml": pipeline_yaml("a"), "locked/b.yaml": pipeline_yaml("b")})
    iterdir = Path.iterdir

    def refuse_locked(self: Path) -> Iterator[Path]:
        if self.name == "locked":
            raise PermissionError(13, "Permission denied")
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", refuse_locked)
    report = read_desired(tmp_path)
    assert [str(p) for p in report.errors] == [f"{tmp_path}/locked: cannot read: Permission denied"]
    assert list(report.state.projects["web"].pipelines) == ["a"]
