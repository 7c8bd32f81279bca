"""Hostile input, fuzzed with hypothesis through the real entry point (`reconciler.cli.main`
in process, so that thousands of inputs fit the time budget):

- pipeline and `_project.yaml` files, random and mutated (deep nesting, huge strings,
  anchors and aliases, odd unicode, bytes that are not UTF-8) given to `validate`: exit 0,
  or exit 1 with every problem as `file:line:col: message`; never a traceback, and a
  bounded amount of memory (a hang is caught by pytest-timeout);
- plan files, mutated as bytes and as JSON (also with their digest recomputed, as a forger
  would) given to `apply`: exit 0 for the intact plan, else exit 1 with one `error:` line,
  and nothing changes live.
"""

import contextlib
import io
import json
import re
import shutil
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from reliability_harness import base_seed, pipeline, project
from ruamel.yaml import YAML

from reconciler.cli import main
from reconciler.plan import Plan, plan_digest
from reconciler.sandbox import seed_state
from reconciler.sandbox.state import read_document

MEMORY_LIMIT = 256 * 1024 * 1024  # the loader refuses files over 1 MiB: far below this
VALID = b"""key: fuzz
name: Fuzz
description: Fuzzed
tags: [a, b]
phases:
  - name: Testing
    audiences:
      - name: QA
        environmentKey: test
        segmentKeys: [qa]
        configuration:
          releaseStrategy: monitoredRelease
          requireApproval: true
          releaseGuardianConfiguration:
            monitoringWindowMilliseconds: 60000
            rolloutWeight: 50
            rollbackOnRegression: true
"""
VALID_POLICY = b"""key: fuzz
name: Fuzz
releaseMethod: guarded-release
scope:
  environmentKeys: [production]
  flagTagKeys: [web]
guardedReleaseConfig:
  rolloutContextKindKey: user
  minSampleSize: 100
  rollbackOnRegression: true
  metricKeys: [latency]
  stages:
    - {allocation: 10000, durationMillis: 60000}
    - {allocation: 50000, durationMillis: 60000}
"""
SNIPPETS = [
    "&a ", "*a", "<<: *a\n", "!!python/object/apply:os.system ['true'] ", "!!binary aGk=",
    "!custom ", "? ", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "\t", "{", "}",
    "[", "]", "'", '"', "|\n", ">-\n", ": ", "- ", "# c\n", "\n", "  ", "\ufeff", "\u202e",
    "\u200d", "\u2028", "\x00", "\x85", "\x1b[31m", "\U0001f600", "e\u0301", "\uffff",
    "key: ", "phases: ", "audiences: ", "environmentKey: ", "isProjectDefault: yes",
    "~", "0x1F", "1e999", ".nan", "-.inf", "2024-01-01", "=", "<<", "@", "`",
]
NOT_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x80", b"\xc0\xaf"]
FIELDS = ["key", "name", "description", "tags", "isProjectDefault", "isLegacy", "phases",
          "audiences", "environmentKey", "segmentKeys", "configuration", "releaseStrategy",
          "requireApproval", "notifyMemberIds", "releaseGuardianConfiguration", "prune",
          "protected", "ignore"]
PROBLEM = re.compile(r"(?P<path>.+?\.yaml):(?P<line>\d+):(?P<column>\d+): .")
SUMMARY = re.compile(r"(1 error|\d+ errors) in (1 file|\d+ files)")

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path) -> Outcome:
    """`reconciler ARGS` in process, as the console script runs it; any exception other
    than SystemExit (a traceback for a user) fails the test."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with (mock.patch.object(sys, "argv", ["reconciler", *args]), contextlib.chdir(cwd),
          contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr),
          pytest.raises(SystemExit) as exited):
        main()
    code = exited.value.code
    return Outcome(code if isinstance(code, int) else 0, stdout.getvalue(), stderr.getvalue())


@contextlib.contextmanager
def bounded_memory() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"peak {peak / 1024 / 1024:.0f} MiB"


# --- YAML ----------------------------------------------------------------------------------


@st.composite
def mutated_yaml(draw: st.DrawFn, valid: bytes = VALID) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(
            ["snippet", "text", "not-utf8", "delete", "duplicate", "deep", "huge"]))
        if kind == "delete":
            del data[at:draw(st.integers(at, min(len(data), at + 60)))]
            continue
        if kind == "snippet":
            insert = draw(st.sampled_from(SNIPPETS)).encode()
        elif kind == "text":
            insert = draw(st.text(max_size=40)).encode()
        elif kind == "not-utf8":
            insert = draw(st.sampled_from(NOT_UTF8))
        elif kind == "duplicate":
            start = draw(st.integers(0, len(data)))
            insert = bytes(data[start:draw(st.integers(start, min(len(data), start + 80)))])
        elif kind == "deep":
            depth = draw(st.integers(20, 5000))
            opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")]))
            insert = (opener * depth + closer * depth).encode()
        else:
            insert = draw(st.sampled_from([b"x" * 70_000, b"y " * 300_000, b"z" * 1_100_000]))
        data[at:at] = insert
    return bytes(data)


def _json_values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                        st.text(max_size=30))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(keys, inner, max_size=5), max_leaves=40)


@st.composite
def random_yaml(draw: st.DrawFn) -> bytes:
    """Documents shaped like pipelines, dumped as YAML; a value used twice is written once
    with an anchor and then as aliases."""
    keys = st.sampled_from(FIELDS) | st.text(min_size=1, max_size=12)
    value = _json_values(keys)
    shared = draw(value)
    document = draw(st.dictionaries(keys, value | st.just(shared), max_size=8)
                    | st.lists(value | st.just(shared), max_size=4) | value)
    if isinstance(document, dict) and draw(st.booleans()):
        document.update(key="fuzz", name="Fuzz", phases=[shared, shared])
    text = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, text)
    return text.getvalue().encode("utf-8", "surrogatepass")


def validate(content: bytes, file_name: str) -> int:
    """`validate` on one file: exit 0, or 1 with only clean `file:line:col` lines."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "pipelines" / "web"
        (folder / file_name).parent.mkdir(parents=True)
        if file_name == "_project.yaml":
            (folder / "fuzz.yaml").write_bytes(VALID)
        (folder / file_name).write_bytes(content)
        with bounded_memory():
            outcome = run_cli("validate", "--pipelines-dir", "pipelines", cwd=root)
    assert outcome.code in (0, 1), outcome.stderr
    lines = outcome.stderr.splitlines()
    if outcome.code == 1:
        *lines, summary = lines
        assert SUMMARY.fullmatch(summary), outcome.stderr
    for line in lines:
        match = PROBLEM.match(line)
        assert match and match["path"] == f"pipelines/web/{file_name}", line
    return outcome.code


LAUGHS = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(99 + i)}: &{chr(99 + i)} [{', '.join([f'*{chr(98 + i)}'] * 9)}]\n".encode()
    for i in range(9)).replace(b"*b", b"*a")


@seed(base_seed())
@FUZZ
@given(content=mutated_yaml() | random_yaml(),
       file_name=st.sampled_from(["fuzz.yaml", "_project.yaml"]))
@example(content=LAUGHS, file_name="fuzz.yaml")  # a billion laughs
@example(content=b"[" * 100_000 + b"]" * 100_000, file_name="fuzz.yaml")
@example(content=b"- " * 20_000 + b"x", file_name="_project.yaml")
@example(content=VALID.replace(b"Fuzz\n", b"'" + b"\xf0\x9f\x98\x80" * 250_000 + b"'\n"),
         file_name="fuzz.yaml")
@example(content=VALID + b"#" + b"x" * 1_048_576, file_name="fuzz.yaml")
@example(content=VALID.replace(b"QA", b"Q\xc3\x28A"), file_name="fuzz.yaml")
@example(content=VALID.replace(b"Testing", b"Te\x00st\x1b[2J"), file_name="fuzz.yaml")
def test_hostile_yaml_gets_file_line_errors_never_a_traceback(content: bytes,
                                                              file_name: str) -> None:
    validate(content, file_name)


def test_the_valid_file_passes() -> None:
    # The mutations start from a file that validates, so any error comes from them.
    assert validate(VALID, "fuzz.yaml") == 0
    assert validate(VALID_POLICY, POLICY_FILE) == 0


POLICY_FILE = "release-policies/fuzz.yaml"


@seed(base_seed())
@FUZZ
@given(content=mutated_yaml(VALID_POLICY) | random_yaml())
@example(content=LAUGHS)
@example(content=VALID_POLICY.replace(b"10000", b"1" + b"0" * 400))
@example(content=VALID_POLICY.replace(b"[web]", b"[" + b"w," * 2000 + b"w]"))
def test_hostile_policy_files_get_file_line_errors_never_a_traceback(content: bytes) -> None:
    validate(content, POLICY_FILE)


# --- plan files ----------------------------------------------------------------------------


Outline = dict[str, Any]


def outline(state: Path) -> Outline:
    """What a user sees of the sandbox's projects: pipelines (name, legacy, phase names)
    and the default; ids, versions and timestamps left out."""
    return {key: {"default": record["defaultReleasePipelineKey"],
                  "pipelines": {k: (p["name"], p["_isLegacy"], [ph["name"] for ph in p["phases"]])
                                for k, p in record["pipelines"].items()}}
            for key, record in read_document(state)["projects"].items()}


@dataclass(frozen=True)
class PlanBench:
    root: Path
    state: Path
    plan: bytes
    applied: Outline  # the state once the intact plan ran


@pytest.fixture(scope="module")
def plan_bench(tmp_path_factory: pytest.TempPathFactory) -> PlanBench:
    """A project, its git and a saved plan of four steps, all against `--sandbox`."""
    root = tmp_path_factory.mktemp("plan-fuzz")
    state = root / "state.json"
    seed_state(state, {"projects": {"web": project(
        [pipeline("main"), pipeline("old"), pipeline("edit")], default="main")}})
    folder = root / "pipelines" / "web"
    folder.mkdir(parents=True)
    for body in (pipeline("main"), pipeline("edit", name="Edited"), pipeline("new"),
                 pipeline("legacy", isLegacy=True)):
        (folder / f"{body['key']}.yaml").write_text(json.dumps(body))  # JSON is YAML
    (folder / "_project.yaml").write_text("prune: true\n")
    made = run_cli("plan", "--sandbox", str(state), "--pipelines-dir", "pipelines",
                   "--out", "plan.json", cwd=root)
    assert made.code == 0, made.stderr
    plan = (root / "plan.json").read_bytes()
    shutil.copy(state, root / "applied.json")
    applied = run_cli("apply", "--sandbox", str(root / "applied.json"), "--pipelines-dir",
                      "pipelines", "plan.json", cwd=root)
    assert applied.code == 0, applied.stderr
    return PlanBench(root, state, plan, outline(root / "applied.json"))


JSON_SNIPPETS = ["[", "{", "]", "}", '"', ",", ":", "\\u0000", "\\ud800", "NaN", "Infinity",
                 "-0", "1e999", "null", "true", "\x00", "\ufeff", "[" * 3000, "{\"a\":" * 3000]


@st.composite
def mutated_plan(draw: st.DrawFn, plan: bytes) -> bytes:
    data = bytearray(plan)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["snippet", "not-utf8", "delete", "truncate"]))
        if kind == "truncate":
            del data[at:]
        elif kind == "delete":
            del data[at:draw(st.integers(at, min(len(data), at + 40)))]
        else:
            insert = (draw(st.sampled_from(JSON_SNIPPETS)).encode() if kind == "snippet"
                      else draw(st.sampled_from(NOT_UTF8)))
            data[at:at] = insert
    return bytes(data)


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    inner = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    return [at, *(p for key, child in inner for p in _paths(child, (*at, key)))]


DEEP = "\u0000deep\u0000"  # stands for a nesting too deep for json.dumps to write


@st.composite
def forged_plan(draw: st.DrawFn, plan: bytes) -> bytes:
    """A plan edited as JSON: one value replaced by another (deep, huge, of any type),
    with the digest recomputed when the result is still a valid plan."""
    document = json.loads(plan)
    path = draw(st.sampled_from(_paths(document)[1:]))
    replacement = draw(_json_values(st.text(max_size=8)) | st.just(DEEP)
                       | st.just("x" * 1_000_000))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = replacement
    with contextlib.suppress(Exception):  # not a valid plan any more: keep the old digest
        document["digest"] = plan_digest(Plan.model_validate(document).projects)
    depth = draw(st.sampled_from([10, 900, 5000]))
    return json.dumps(document).replace(json.dumps(DEEP), "[" * depth + "1" + "]" * depth
                                        ).encode()


@seed(base_seed())
@FUZZ
@given(data=st.data())
def test_damaged_or_forged_plan_files_are_refused_cleanly(plan_bench: PlanBench,
                                                          data: st.DataObject) -> None:
    content = data.draw(mutated_plan(plan_bench.plan) | forged_plan(plan_bench.plan)
                        | st.just(plan_bench.plan))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(plan_bench.root / "pipelines", root / "pipelines")
        state = root / "state.json"
        shutil.copy(plan_bench.state, state)
        (root / "plan.json").write_bytes(content)
        before = outline(state)
        with bounded_memory():
            outcome = run_cli("apply", "--sandbox", str(state), "--pipelines-dir", "pipelines",
                              "plan.json", cwd=root)
        assert outcome.code in (0, 1), outcome.stderr
        if content == plan_bench.plan:
            assert outcome.code == 0, outcome.stderr
        if outcome.code == 0:
            # Only fields the digest does not cover were edited: what runs is what was
            # reviewed, to the letter.
            assert outline(state) == plan_bench.applied
            return
        [message] = outcome.stderr.splitlines()
        assert message.startswith("error: plan.json") or "plan is stale" in message, message
        assert outline(state) == before


def test_a_forged_plan_with_a_recomputed_digest_is_stale(plan_bench: PlanBench,
                                                         tmp_path: Path) -> None:
    # A plan edited to delete the default, its digest recomputed: the digest alone does not
    # make it current; the re-plan from live and git differs, so nothing runs.
    document = json.loads(plan_bench.plan)
    steps = document["projects"][0]["steps"]
    steps.append({**next(s for s in steps if s["action"] == "delete"), "key": "main"})
    document["digest"] = plan_digest(Plan.model_validate(document).projects)
    shutil.copytree(plan_bench.root / "pipelines", tmp_path / "pipelines")
    state = tmp_path / "state.json"
    shutil.copy(plan_bench.state, state)
    (tmp_path / "plan.json").write_text(json.dumps(document))
    refused = run_cli("apply", "--sandbox", str(state), "--pipelines-dir", "pipelines",
                      "plan.json", cwd=tmp_path)
    assert refused.code == 1 and "plan is stale" in refused.stderr
    assert outline(state) == outline(plan_bench.state)
