"""The parse cache: clean files come from it on the next run, anything else is read in
full, and a cache that is stale, corrupt or unusable never changes what a run reads."""

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.manifest import cache as cache_module
from reconciler.manifest import loader, read_desired
from reconciler.manifest.cache import CACHE_FILE, ParseCache
from tests.unit.test_manifest_loader import pipeline_yaml, write

Parsed = list[str]


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Parsed:
    """The files the loader parses as YAML (the ones the cache did not answer)."""
    seen: Parsed = []
    real = loader.parse_text

    def recording(where: str, text: str) -> object:
        seen.append(Path(where).name)
        return real(where, text)

    monkeypatch.setattr(loader, "parse_text", recording)
    return seen


def fleet(root: Path) -> Path:
    return write(root / "pipelines", {
        "web/a.yaml": pipeline_yaml("a", phases=2, extra="isProjectDefault: true\n"),
        "web/b.yaml": pipeline_yaml("b"),
        "api/c.yaml": pipeline_yaml("c"),
    })


def test_clean_files_come_from_the_cache_on_the_next_run(tmp_path: Path,
                                                         parsed: Parsed) -> None:
    pipelines = fleet(tmp_path)
    first = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert sorted(parsed) == ["a.yaml", "b.yaml", "c.yaml"]
    parsed.clear()
    second = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert parsed == []
    assert second.errors == first.errors == []
    assert second.state.projects["web"].pipelines == first.state.projects["web"].pipelines
    assert second.state.projects["web"].paths == first.state.projects["web"].paths
    assert second.state.projects["web"].pipelines["a"].isProjectDefault is True
    assert len(second.state.projects["web"].pipelines["a"].phases) == 2


def test_a_cached_file_reads_to_the_same_values_of_the_same_types(tmp_path: Path,
                                                                 parsed: Parsed) -> None:
    # A phase configuration holds any values: each must come back as the file wrote it.
    configuration = ('{a: 1.5, b: 12345678901234567890, c: "ü \\u2028 é", d: [true, null, '
                     '{e: []}], f: 1.0, g: -0.0, h: 1e-07, i: ""}')
    pipelines = write(tmp_path / "pipelines", {"web/a.yaml": (
        "key: a\nname: A ü\ntags: [x, y]\nphases:\n  - name: One\n"
        f"    configuration: {configuration}\n"
        "    audiences:\n      - name: All\n        environmentKey: production\n"
        "        configuration:\n          releaseStrategy: monitoredRelease\n"
        "          requireApproval: false\n"
        "          releaseGuardianConfiguration:\n"
        "            monitoringWindowMilliseconds: 9223372036854775807\n"
        "            rolloutWeight: 0\n            rollbackOnRegression: true\n")})
    first = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    parsed.clear()
    second = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert parsed == [] and second.errors == first.errors == []
    cached = second.state.projects["web"].pipelines["a"]
    assert cached == first.state.projects["web"].pipelines["a"]
    assert cached.name == "A ü" and cached.tags == ["x", "y"]
    values = cached.phases[0].configuration
    assert values == {"a": 1.5, "b": 12345678901234567890, "c": "ü \u2028 é",
                      "d": [True, None, {"e": []}], "f": 1.0, "g": -0.0, "h": 1e-07, "i": ""}
    assert [type(values[k]) for k in "abfg"] == [float, int, float, float]
    guardian = cached.phases[0].audiences[0].configuration.releaseGuardianConfiguration
    assert guardian.monitoringWindowMilliseconds == 2**63 - 1 and guardian.rolloutWeight == 0


def test_an_edited_file_is_read_again(tmp_path: Path, parsed: Parsed) -> None:
    pipelines = fleet(tmp_path)
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    parsed.clear()
    (pipelines / "web" / "b.yaml").write_text(pipeline_yaml("b", phases=3))
    report = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert parsed == ["b.yaml"]
    assert len(report.state.projects["web"].pipelines["b"].phases) == 3


def test_files_with_a_warning_are_never_cached(tmp_path: Path, parsed: Parsed) -> None:
    pipelines = write(tmp_path / "pipelines", {"web/b.yaml": pipeline_yaml("b", phases=11)})
    for _ in range(2):
        parsed.clear()
        report = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
        assert parsed == ["b.yaml"]
        # 11 phases: a warning at the `phases` key, line 3, column 1.
        assert [str(w).split(": ")[0] for w in report.warnings] == [
            f"{pipelines}/web/b.yaml:3:1"]
        assert report.errors == []


def test_a_cached_text_under_another_file_name_is_reported_with_its_position(
        tmp_path: Path) -> None:
    pipelines = fleet(tmp_path)
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    (pipelines / "web" / "renamed.yaml").write_text((pipelines / "web" / "b.yaml").read_text())
    report = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert [str(e).split(": key:")[0] for e in report.errors] == [
        f"{pipelines}/web/renamed.yaml:1:6"]


def test_a_second_default_quotes_the_cached_first_ones_position(tmp_path: Path) -> None:
    pipelines = fleet(tmp_path)
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    (pipelines / "web" / "b.yaml").write_text(
        pipeline_yaml("b", extra="isProjectDefault: true\n"))
    report = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    # a.yaml, from the cache, says `isProjectDefault: true` on line 3 at column 19.
    assert [str(e) for e in report.errors] == [
        f"{pipelines}/web/b.yaml:3:19: isProjectDefault: a project has one default pipeline, "
        f"and {pipelines}/web/a.yaml:3:19 already claims it"]


def test_a_new_version_trusts_no_entry(tmp_path: Path, parsed: Parsed,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pipelines = fleet(tmp_path)
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    parsed.clear()
    monkeypatch.setattr(cache_module, "__version__", "99.0.0")
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert sorted(parsed) == ["a.yaml", "b.yaml", "c.yaml"]


def test_corrupt_entries_are_ignored_and_rewritten(tmp_path: Path, parsed: Parsed) -> None:
    pipelines = fleet(tmp_path)
    first = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE) as db:
        values = ["{not json", '{"data": {"key": 5}, "default": null}', "[]"]
        keys = [row[0] for row in db.execute("SELECT key FROM entries ORDER BY key")]
        db.executemany("UPDATE entries SET value = ? WHERE key = ?", zip(values, keys,
                                                                          strict=True))
    parsed.clear()
    second = read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert sorted(parsed) == ["a.yaml", "b.yaml", "c.yaml"]
    assert second.errors == []
    assert second.state.projects["web"].pipelines == first.state.projects["web"].pipelines
    parsed.clear()
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert parsed == []


def test_a_cache_file_that_is_not_a_database_is_replaced(tmp_path: Path,
                                                         parsed: Parsed) -> None:
    pipelines = fleet(tmp_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / CACHE_FILE).write_bytes(b"\x00garbage" * 512)
    assert read_desired(pipelines, cache=ParseCache(tmp_path / "cache")).errors == []
    parsed.clear()
    read_desired(pipelines, cache=ParseCache(tmp_path / "cache"))
    assert parsed == []


def test_a_cache_that_cannot_be_made_is_not_used(tmp_path: Path, parsed: Parsed) -> None:
    pipelines = fleet(tmp_path)
    (tmp_path / "blocked").write_text("a file where the folder would go")
    for _ in range(2):
        parsed.clear()
        report = read_desired(pipelines, cache=ParseCache(tmp_path / "blocked" / "cache"))
        assert report.errors == []
        assert sorted(parsed) == ["a.yaml", "b.yaml", "c.yaml"]


def test_the_environment_moves_or_disables_the_cache(tmp_path: Path) -> None:
    moved = ParseCache.from_environment({"RECONCILER_CACHE_DIR": str(tmp_path / "x")})
    assert moved is not None and moved.path == tmp_path / "x" / CACHE_FILE
    xdg = ParseCache.from_environment({"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert xdg is not None and xdg.path == tmp_path / "xdg" / "reconciler" / CACHE_FILE
    assert ParseCache.from_environment({"RECONCILER_NO_CACHE": "1",
                                        "RECONCILER_CACHE_DIR": str(tmp_path)}) is None
    kept = ParseCache.from_environment({"RECONCILER_NO_CACHE": "0",
                                        "RECONCILER_CACHE_DIR": str(tmp_path)})
    assert kept is not None


@pytest.mark.parametrize(("off", "kept"), [("", True), ("1", False)])
def test_validate_keeps_its_cache_where_the_environment_says(tmp_path: Path, off: str,
                                                             kept: bool) -> None:
    pipelines = fleet(tmp_path)
    environ = {"RECONCILER_CACHE_DIR": str(tmp_path / "moved"), "RECONCILER_NO_CACHE": off}
    result = CliRunner().invoke(cli, ["validate", "--pipelines-dir", str(pipelines)],
                                env=environ)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "moved" / CACHE_FILE).exists() is kept


def test_a_change_to_the_rules_trusts_no_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache_module._code_digest()
    real = Path.read_bytes

    def edited(path: Path) -> bytes:
        text = real(path)
        return text + b"# edited" if path.parts[-2:] == ("rules", "pipelines.py") else text

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert cache_module._code_digest() != before


def _stored(directory: Path) -> int:
    with sqlite3.connect(directory / CACHE_FILE) as db:
        return db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


def test_new_entries_are_written_in_batches_not_held_to_the_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "WRITE_EVERY", 2)
    cache = ParseCache(tmp_path / "cache")
    assert cache.get("seed") is None  # opens (and creates) the database
    for index in range(5):
        cache.put(f"text {index}", {"key": index})
    assert _stored(tmp_path / "cache") == 4  # two batches of 2; the fifth waits for save
    cache.save()
    cache.close()
    assert _stored(tmp_path / "cache") == 5
    again = ParseCache(tmp_path / "cache")
    assert [again.get(f"text {index}") for index in (0, 4)] == ['{"key":0}', '{"key":4}']


def test_a_batch_that_cannot_be_written_stops_the_writes_not_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "WRITE_EVERY", 2)
    monkeypatch.setattr(cache_module, "LOCK_SECONDS", 0.0)
    cache = ParseCache(tmp_path / "cache")
    assert cache.get("seed") is None
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE, timeout=0) as other:
        other.execute("BEGIN EXCLUSIVE")  # another run holds the write lock
        for index in range(3):
            cache.put(f"text {index}", {"key": index})
        other.rollback()
    cache.put("text 3", {"key": 3})  # the lock is free now, but this run no longer writes
    cache.save()
    cache.close()
    assert _stored(tmp_path / "cache") == 0
