"""The state file (atomic writes, group commit), fixtures and `reconciler sandbox seed`."""

import asyncio
import json
from pathlib import Path

import pytest

from reconciler import files
from reconciler.errors import FileWriteError
from reconciler.sandbox import load_fixture, seed_state, state
from reconciler.sandbox.problems import SandboxError
from reconciler.sandbox.state import StateStore, read_document

FIXTURES = Path(__file__).parents[1] / "fixtures"


def pipeline(key: str, env: str = "test") -> dict:
    return {"key": key, "name": key,
            "phases": [{"name": "P", "audiences": [{"name": "A", "environmentKey": env}]}]}


def project(*pipelines: dict, **extra: object) -> dict:
    return {"environments": ["test"], "pipelines": list(pipelines), **extra}


def test_a_missing_state_file_is_an_empty_sandbox(tmp_path):
    assert read_document(tmp_path / "absent.json") == {"projects": {}}


@pytest.mark.parametrize("text", ["{not json", "[]", '{"projects": []}'])
def test_a_corrupt_state_file_is_a_clear_error(tmp_path, text):
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(SandboxError, match=r"state\.json"):
        read_document(path)


def test_the_state_file_has_one_project_per_line_and_reads_back(tmp_path):
    path = tmp_path / "state.json"
    seed_state(path, {"projects": {"a": project(pipeline("x")), "b": project()}})
    lines = path.read_text().splitlines()
    assert [line.strip()[:4] for line in lines[2:4]] == ['"a":', '"b":']
    assert read_document(path) == json.loads(path.read_text())


@pytest.mark.parametrize("document", [
    {},
    {"projects": {}},
    {"projects": {}, "aviator": {}},
    {"projects": {"a": {"n": [1, 2.5, None, True, {"deep": ["x"]}]}}, "aviator": {}},
    {"projects": {"é \\ \": \u2028": {"s": "line\nbreak\r, \": x", "t": "ü"},
                  "b": {"s": "line\nbreak\r, \": x"}},
     "aviator": {"p": {"s": "ü"}}},
])
def test_the_state_file_reads_back_to_what_was_written(tmp_path, document):
    path = tmp_path / "state.json"
    state.write_atomically(path, state.document_pieces(document))
    assert read_document(path) == {"projects": {}, **document}
    assert read_document(path) == {"projects": {}, **json.loads(path.read_text())}


def test_equal_strings_and_integers_of_the_state_file_are_held_once(tmp_path):
    path = tmp_path / "state.json"
    document = {"projects": {
        "a": {"s": "monitoredRelease", "l": ["monitoredRelease"], "n": 3600000, "t": True},
        "b": {"s": "monitoredRelease", "n": 3600000, "t": 1, "f": 1.0, "o": 1}}}
    state.write_atomically(path, state.document_pieces(document))
    projects = read_document(path)["projects"]
    assert projects == document["projects"]
    assert projects["a"]["s"] is projects["b"]["s"] is projects["a"]["l"][0]
    assert projects["a"]["n"] is projects["b"]["n"]
    assert [type(projects["a"]["t"]), type(projects["b"]["t"]), type(projects["b"]["f"])] == [
        bool, int, float]


LINES = '{\n "projects": {\n  "a": {"v": 1},\n  "b": {"v": 2}\n }\n}\n'


@pytest.mark.parametrize(("text", "expected"), [
    (LINES, {"projects": {"a": {"v": 1}, "b": {"v": 2}}}),
    (LINES + "\n", {"projects": {"a": {"v": 1}, "b": {"v": 2}}}),
    (LINES.replace("\n}\n", "\n}"), {"projects": {"a": {"v": 1}, "b": {"v": 2}}}),
    (LINES.replace('"b"', '"a"'), {"projects": {"a": {"v": 2}}}),  # the last one stands
    (LINES.replace("{\"v\": 1},", "{\"v\": 1} ,"), {"projects": {"a": {"v": 1}, "b": {"v": 2}}}),
    (json.dumps({"projects": {"a": {"v": 1}}}, indent=2), {"projects": {"a": {"v": 1}}}),
    ('{"projects": {"a": {"v": 1}}, "aviator": {}}', {"projects": {"a": {"v": 1}}, "aviator": {}}),
    ('{\n "projects": {},\n "projects": {\n  "a": {}\n }\n}\n', {"projects": {"a": {}}}),
    (LINES.replace("{\"v\": 1},", "{\"v\": 1}"), None),  # a comma missing
    (LINES.replace("{\"v\": 2}", "{\"v\": 2},"), None),  # one too many
    (LINES.replace("\n }\n", "\n },\n"), None),
    (LINES + "}", None),
    (LINES.replace("{\"v\": 1},", "{\"v\": 1},x"), None),
    (LINES.replace("\n }\n", "\n }x\n"), None),
    ('{\n "projects": {}x\n "aviator": {}\n}\n', None),
    ('{\n "projects": {}\n "aviator": {}\n}\n', None),
    (LINES.replace("{\"v\": 1}", "{\"v\": }"), None),
    ('{\n "projects": {\n }\n}\n', {"projects": {}}),
    ('{\n "projects": {},\n}\n', None),
])
def test_a_state_file_in_any_layout_reads_as_json_reads_it(tmp_path, text, expected):
    path = tmp_path / "state.json"
    path.write_text(text, encoding="utf-8")
    if expected is None:
        with pytest.raises(ValueError):
            json.loads(text)
        with pytest.raises(SandboxError, match=r"state\.json: cannot read the sandbox state"):
            read_document(path)
    else:
        assert json.loads(text) == expected
        assert read_document(path) == expected


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    path.write_text('{"projects": {}}')

    def failing_replace(source: str, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(FileWriteError, match=r"^cannot write .*state\.json: disk full$"):
        state.write_atomically(path, [b'{"projects": {"new": {}}}'])
    assert path.read_text() == '{"projects": {}}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_concurrent_commits_share_one_write(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    store = StateStore(path)
    writes: list[str] = []
    real_write = state.write_atomically

    def counting_write(target: Path, pieces: list[bytes]) -> None:
        writes.append(b"".join(pieces))
        real_write(target, pieces)

    monkeypatch.setattr(state, "write_atomically", counting_write)

    async def mutate(key: str) -> None:
        store.document["projects"][key] = {"n": key}
        await store.commit("projects", key)

    async def run() -> None:
        await asyncio.gather(*(mutate(f"p{i}") for i in range(10)))
        await mutate("p0")  # after the batch: a write of its own, with the new value

    asyncio.run(run())
    assert len(writes) == 2
    assert len(json.loads(writes[0])["projects"]) == 10
    assert json.loads(path.read_text())["projects"]["p0"] == {"n": "p0"}


def test_a_committed_change_replaces_the_cached_entry(tmp_path):
    path = tmp_path / "state.json"
    store = StateStore(path)

    async def set_and_commit(value: int) -> None:
        store.document["projects"]["a"] = {"value": value}
        await store.commit("projects", "a")

    asyncio.run(set_and_commit(1))
    asyncio.run(set_and_commit(2))
    assert json.loads(path.read_text())["projects"]["a"] == {"value": 2}


def test_load_fixture_reads_yaml_and_json(tmp_path):
    from_yaml = load_fixture(FIXTURES / "sandbox-web.yaml")
    assert set(from_yaml["projects"]) == {"web", "api"}
    as_json = tmp_path / "fixture.json"
    as_json.write_text(json.dumps(from_yaml))
    assert load_fixture(as_json) == from_yaml


@pytest.mark.parametrize("text", ["projects: [", "- a list", "a: 1\na: 2\n"])
def test_load_fixture_refuses_what_is_not_a_fixture(tmp_path, text):
    path = tmp_path / "fixture.yaml"
    path.write_text(text)
    with pytest.raises(SandboxError, match=r"fixture\.yaml"):
        load_fixture(path)


def test_seeding_applies_default_and_active_releases(tmp_path):
    path = tmp_path / "state.json"
    seed_state(path, load_fixture(FIXTURES / "sandbox-web.yaml"))
    web = read_document(path)["projects"]["web"]
    assert list(web["pipelines"]) == ["standard", "hotfix"]
    assert web["defaultReleasePipelineKey"] == "hotfix"
    first_phase = web["pipelines"]["standard"]["phases"][0]["id"]
    releases = web["releases"]["standard"]
    assert [(r["flagKey"], r["activePhaseId"]) for r in releases] == [
        ("new-checkout", first_phase), ("dark-mode", first_phase)]
    assert list(web["segments"]["test"]) == ["qa-team"]


def test_seeding_replaces_named_projects_and_keeps_the_others(tmp_path):
    path = tmp_path / "state.json"
    seed_state(path, {"projects": {"a": project(pipeline("old")), "b": project(pipeline("b"))}})
    seed_state(path, {"projects": {"a": project(pipeline("new"))}})
    projects = read_document(path)["projects"]
    assert list(projects["a"]["pipelines"]) == ["new"]
    assert list(projects["b"]["pipelines"]) == ["b"]


@pytest.mark.parametrize(("fixture", "message"), [
    ({"project": {}}, "projects: Field required"),
    ({"projects": {"web": {"environments": ["test"], "colour": 1}}}, "projects.web.colour"),
    ({"projects": {"web": {"environments": "test"}}}, "projects.web.environments"),
    ({"projects": {"bad key": {}}}, "projects.bad key"),
    ({"projects": {"web": project(segments={"prod": ["x"]})}}, "projects.web.segments.prod"),
    ({"projects": {"web": project(pipeline("x", env="prod"))}},
     "projects.web.pipelines[0]: phases[0].audiences[0].environmentKey"),
    ({"projects": {"web": project(pipeline("x"), {"key": "y"})}},
     "projects.web.pipelines[1]: invalid request body: name: Field required"),
    ({"projects": {"web": project(*(pipeline(f"p{i}") for i in range(21)))}},
     "projects.web.pipelines[20]: cannot create 'p20'"),
    ({"projects": {"web": project(pipeline("x"), pipeline("x"))}}, "projects.web.pipelines[1]"),
    ({"projects": {"web": project(pipeline("x"), default="y")}}, "projects.web.default"),
    ({"projects": {"web": project(pipeline("x"), active={"y": ["f"]})}}, "projects.web.active.y"),
    ({"projects": {"web": project(pipeline("x"), active={"x": ["f", "f"]})}},
     "projects.web.active.x: flag 'f' already has a release"),
])
def test_a_bad_fixture_is_refused_naming_the_place(tmp_path, fixture, message):
    path = tmp_path / "state.json"
    with pytest.raises(SandboxError) as refused:
        seed_state(path, fixture)
    assert message in str(refused.value)
    assert not path.exists()


def test_cli_seed_loads_a_fixture_file(tmp_path, entry_point):
    path = tmp_path / "state.json"
    fixture = str(FIXTURES / "sandbox-web.yaml")
    code, out, _ = entry_point("sandbox", "seed", "--state", str(path), fixture)
    assert code == 0 and "seeded 2 projects" in out
    assert set(read_document(path)["projects"]) == {"web", "api"}


def test_cli_seed_reports_a_bad_fixture_as_an_error(tmp_path, entry_point):
    fixture = tmp_path / "bad.yaml"
    fixture.write_text("projects: {web: {environments: [test], default: nope}}\n")
    state_path = str(tmp_path / "state.json")
    code, _, err = entry_point("sandbox", "seed", "--state", state_path, str(fixture))
    assert code == 1 and err.startswith("error: projects.web.default: ")
