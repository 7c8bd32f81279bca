"""The README runs as shown: its `$ command` blocks, run in order against the sandbox, print
what it says (conventions and machinery in tests/readme_blocks.py)."""

from pathlib import Path

import pytest

from tests.readme_blocks import (
    DEMO_SCRIPT,
    Block,
    Command,
    classify,
    fenced_blocks,
    mismatch,
    readme_blocks,
    run_readme,
    session_commands,
    updated,
)


def test_every_session_block_prints_what_the_readme_shows(tmp_path: Path) -> None:
    commands, results = run_readme(tmp_path)
    failures = [why for command, (code, actual) in zip(commands, results, strict=True)
                if (why := mismatch(command, code, actual)) is not None]
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("block", classify(readme_blocks())[1],
                         ids=lambda block: f"README.md:{block.line}")
def test_a_block_marked_not_run_is_reported(block: Block) -> None:
    pytest.skip(f"README.md:{block.line} not run: {block.not_run}")


def test_make_demo_runs_the_readme_quick_start_commands() -> None:
    """scripts/demo.sh runs, `step` by `step`, the commands of the README's first session."""
    sessions, _, _ = classify(readme_blocks())
    quick_start = next(block for block in sessions if block.output_of is None)
    readme_commands = [command.text for command in session_commands(quick_start)]
    demo_commands = [line.removeprefix("step ")
                     for line in DEMO_SCRIPT.read_text(encoding="utf-8").splitlines()
                     if line.startswith("step ")]
    assert demo_commands == readme_commands


# The checker itself, on small hand-written READMEs: it must be able to fail.

SAMPLE = """\
Intro.

```sh
$ echo one
one

$ printf 'a\\nb\\n'
a
b
```

<!-- not run: needs LaunchDarkly -->
```
$ reconciler plan
```

```yaml
key: value
```

<!-- output of: echo two -->
```text
two
```
"""


def test_the_parser_finds_sessions_marked_blocks_and_documents() -> None:
    blocks = list(fenced_blocks(SAMPLE))
    assert [(block.line, block.language, block.not_run, block.output_of) for block in blocks] == [
        (3, "sh", None, None), (13, "", "needs LaunchDarkly", None), (17, "yaml", None, None),
        (22, "text", None, "echo two")]
    sessions, not_run, problems = classify(blocks)
    assert (len(sessions), len(not_run), problems) == (2, 1, [])
    assert session_commands(sessions[0]) == [
        Command(4, "echo one", ("one", ""), 4), Command(7, "printf 'a\\nb\\n'", ("a", "b"), 7)]
    assert session_commands(sessions[1]) == [Command(21, "echo two", ("two",), 22)]


def test_an_unmarked_shell_block_without_a_prompt_is_a_breach() -> None:
    _, _, problems = classify(list(fenced_blocks("```\nreconciler plan\n```\n")))
    assert problems == ["README.md:1: a shell block that is neither a `$ ` session nor marked "
                        "<!-- not run: reason -->; give a document a language"]


def test_a_changed_character_or_a_failed_command_is_a_mismatch() -> None:
    shown = Command(1, "reconciler plan", ("Plan: 1 to create. digest 549a8a9f113e", ""), 1)
    assert mismatch(shown, 0, ["Plan: 1 to create. digest 0123456789ab"]) is None
    assert mismatch(shown, 0, ["Plan: 2 to create. digest 549a8a9f113e"]) is not None
    assert mismatch(shown, 1, ["Plan: 1 to create. digest 549a8a9f113e"]) is not None


def test_update_rewrites_only_the_outputs_that_differ_and_keeps_separators() -> None:
    sessions = classify(list(fenced_blocks(SAMPLE)))[0]
    commands = [command for block in sessions for command in session_commands(block)]
    rewritten = updated(SAMPLE, commands, [(0, ["two"]), (0, ["a", "b   "]), (0, ["2", "3"])])
    assert rewritten == SAMPLE.replace("$ echo one\none\n", "$ echo one\ntwo\n").replace(
        "```text\ntwo\n", "```text\n2\n3\n")
