"""The README's command blocks: find them, run them as a reader would, compare the output.

`tests/integration/test_readme.py` holds the tests. After a change that alters what a command
prints, `.venv/bin/python -m tests.readme_blocks --update` rewrites the README's output lines
that differ with the real output (review the diff before committing it).

Conventions the README follows (and the tests enforce):
- A session block is a fenced block whose first line is `$ command`; the lines up to the next
  `$ ` line are that command's output (stdout and stderr, as a terminal shows them). A command
  ending in ` \\` continues on the next line.
- Every session block runs, in document order, in ONE bash process, in a temporary copy of
  `pipelines/`, `scripts/` and `schemas/` made into a git repository (the reader's clone) with
  `.venv` pointing at this interpreter's environment. Nothing else of the caller's environment
  leaks in: the README must show every variable it relies on (`$ export ...`).
- Every command must exit 0; a command that fails on purpose is shown as `cmd; echo "exit $?"`.
- A document that a command prints (a Mermaid drawing, a file's content) keeps its language and
  carries `<!-- output of: command -->` on the line before its fence: the command runs at that
  point of the session and must print the block's content exactly.
- A block that cannot run offline is marked with `<!-- not run: reason -->` on the line before
  its fence; each one is reported as a skipped test with its reason, so none is silent.
- A shell block (no language, sh, console, shell, bash) must be a session or be marked; a block
  in another language (yaml, mermaid, markdown, text) is a document and holds no `$ ` lines.
- Output is compared exactly after masking what changes between runs (plan digests, commit ids,
  dates and times, decimal durations), trailing spaces and trailing blank lines.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import unified_diff
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DEMO_SCRIPT = REPO / "scripts" / "demo.sh"
COPIED = ("pipelines", "scripts", "schemas")
SHELL_LANGUAGES = {"", "sh", "console", "shell", "bash"}
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<language>[^\s`]*)")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->$")
OUTPUT_OF = re.compile(r"^<!--\s*output of:\s*(?P<command>\S.*?)\s*-->$")
PROMPT = "$ "
RUN_SECONDS = 120  # a bound for a hung command, far above the few seconds the README takes

# What differs from run to run, and nothing else.
MASKS = (
    (re.compile(r"\b(digest|now) [0-9a-f]{12}\b"), r"\1 <digest>"),
    (re.compile(r"\b\d{4}\.\d{2}\.\d{2}-[0-9a-f]{7}-rc"), "<date>-<commit>-rc"),
    (re.compile(r"@[0-9a-f]{7,40}\b"), "@<commit>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\b"), "<time>"),
    (re.compile(r"\b\d+\.\d+ ?m?s\b"), "<duration>"),
)


@dataclass(frozen=True)
class Command:
    line: int  # 1-based line of the `$ ` line in README.md
    text: str
    output: tuple[str, ...]
    output_index: int  # 0-based index in README.md's lines of the first output line


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    language: str
    body: tuple[str, ...]
    not_run: str | None  # the reason, when marked
    output_of: str | None  # the command that prints this block, when marked


def fenced_blocks(text: str) -> Iterator[Block]:
    """Every fenced block that starts at the left margin (quoted samples are not blocks)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        end = index + 1
        while end < len(lines) and not (lines[end].startswith(fence[0] * len(fence))
                                         and not lines[end].strip(fence[0]).strip()):
            end += 1
        if end == len(lines):
            raise AssertionError(f"README.md:{index + 1}: fence never closed")
        previous = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
        not_run, output_of = NOT_RUN.match(previous), OUTPUT_OF.match(previous)
        yield Block(index + 1, opening["language"].lower(), tuple(lines[index + 1:end]),
                    not_run["reason"] if not_run else None,
                    output_of["command"] if output_of else None)
        index = end + 1


def session_commands(block: Block) -> list[Command]:
    """The `$ ` commands of a session block, each with the output lines shown under it; or the
    one command that prints an `output of:` block."""
    if block.output_of is not None:
        return [Command(block.line - 1, block.output_of, block.body, block.line)]
    commands: list[Command] = []
    body = list(block.body)
    index = 0
    while index < len(body):
        start = index
        text = body[index][len(PROMPT):]
        while text.endswith("\\") and index + 1 < len(body):
            index += 1
            text = f"{text}\n{body[index]}"
        index += 1
        output_start = index
        while index < len(body) and not body[index].startswith(PROMPT):
            index += 1
        commands.append(Command(block.line + 1 + start, text, tuple(body[output_start:index]),
                                block.line + output_start))
    return commands


def classify(blocks: list[Block]) -> tuple[list[Block], list[Block], list[str]]:
    """Blocks to run (sessions and `output of:` blocks), blocks marked not run, and the
    README's breaches of the conventions."""
    sessions, not_run, problems = [], [], []
    for block in blocks:
        has_prompt = any(line.startswith(PROMPT) for line in block.body)
        if block.not_run is not None:
            not_run.append(block)
        elif block.output_of is not None or (block.body and block.body[0].startswith(PROMPT)):
            sessions.append(block)
        elif has_prompt:
            problems.append(f"README.md:{block.line}: a block with `$ ` lines must start with one "
                            "(or be marked <!-- not run: reason -->)")
        elif block.language in SHELL_LANGUAGES:
            problems.append(f"README.md:{block.line}: a shell block that is neither a `$ ` session "
                            "nor marked <!-- not run: reason -->; give a document a language")
    return sessions, not_run, problems


def readme_blocks() -> list[Block]:
    return list(fenced_blocks(README.read_text(encoding="utf-8")))


def trimmed(lines: Sequence[str]) -> list[str]:
    """The lines without trailing spaces or trailing blank lines (the README's own form)."""
    result = [line.rstrip() for line in lines]
    while result and not result[-1]:
        result.pop()
    return result


def normalised(lines: Sequence[str]) -> list[str]:
    """Trimmed, with what differs from run to run masked."""
    masked = []
    for line in lines:
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        masked.append(line)
    return trimmed(masked)


def clean_environment(home: Path) -> dict[str, str]:
    """Only what any shell has: no reconciler on PATH, no token, no Aviator or GitHub setting."""
    path = os.pathsep.join(entry for entry in os.environ.get("PATH", "").split(os.pathsep)
                           if entry and not (Path(entry) / "reconciler").exists())
    return {
        "PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        # A terminal line-buffers stdout; without this, a pipe would put stderr lines first.
        "PYTHONUNBUFFERED": "1",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    }


def make_clone(root: Path, environment: dict[str, str]) -> Path:
    """What the reader has after cloning and `make demo`: the files, git history, a .venv."""
    clone = root / "clone"
    clone.mkdir()
    for name in COPIED:
        shutil.copytree(REPO / name, clone / name)
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    author = {"GIT_AUTHOR_NAME": "readme", "GIT_AUTHOR_EMAIL": "readme@example.com",
              "GIT_COMMITTER_NAME": "readme", "GIT_COMMITTER_EMAIL": "readme@example.com"}
    for args in (["init", "-q"], ["add", "pipelines", "scripts", "schemas"],
                 ["commit", "-q", "-m", "a clone of the repository"]):
        subprocess.run(["git", *args], cwd=clone, env={**environment, **author}, check=True,
                       capture_output=True, timeout=RUN_SECONDS)
    return clone


def run_session(commands: list[Command], clone: Path, environment: dict[str, str]
                ) -> list[tuple[int, list[str]]]:
    """Run every command in one bash process; each one's exit code and output lines."""
    marker = f"readme-command-end-{uuid.uuid4().hex}"
    script = ["exec 2>&1"]
    for command in commands:
        script += [command.text, f"printf '\\n%s %s\\n' {marker} \"$?\""]
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
                          cwd=clone, env=environment, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=RUN_SECONDS)
    pieces = re.split(rf"\n{marker} (\d+)\n", done.stdout)
    results = [(int(code), output.splitlines())
               for output, code in zip(pieces[0:-1:2], pieces[1::2], strict=True)]
    assert len(results) == len(commands), (
        f"the session stopped after {len(results)} of {len(commands)} commands:\n{done.stdout}")
    return results


def mismatch(command: Command, code: int, actual: list[str]) -> str | None:
    """Why this command's real run differs from the README, or None when it does not."""
    expected = normalised(command.output)
    if code != 0:
        return (f"README.md:{command.line}: `{command.text}` exited {code} (show a deliberate "
                f"failure as `...; echo \"exit $?\"`); its output:\n" + "\n".join(actual))
    if normalised(actual) == expected:
        return None
    diff = unified_diff(expected, normalised(actual), "README.md (masked)", "real run (masked)",
                        lineterm="")
    return (f"README.md:{command.line}: `{command.text}` prints something else:\n"
            + "\n".join(diff) + "\nthe real output, to paste:\n" + "\n".join(actual))




def run_readme(root: Path) -> tuple[list[Command], list[tuple[int, list[str]]]]:
    """Every session command of README.md and its real run, in a clone made under `root`."""
    sessions, _, problems = classify(readme_blocks())
    assert not problems, "\n".join(problems)
    commands = [command for block in sessions for command in session_commands(block)]
    assert commands, "the README shows no `$ ` command at all"
    environment = clean_environment(root)
    return commands, run_session(commands, make_clone(root, environment), environment)


def updated(text: str, commands: Sequence[Command], results: Sequence[tuple[int, list[str]]]
            ) -> str:
    """README text with each differing command's output replaced by the real one; the blank
    lines that separate it from the next command are kept."""
    lines = text.splitlines()
    for command, (_, actual) in reversed(list(zip(commands, results, strict=True))):
        if normalised(actual) == normalised(command.output):
            continue
        shown = command.output
        separators = len(shown) - len(trimmed(shown))
        start = command.output_index
        lines[start:start + len(shown)] = [*trimmed(actual), *[""] * separators]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true",
                        help="rewrite README.md's differing output lines with the real output")
    arguments = parser.parse_args()
    with TemporaryDirectory() as root:
        commands, results = run_readme(Path(root))
    failures = [why for command, (code, actual) in zip(commands, results, strict=True)
                if (why := mismatch(command, code, actual)) is not None]
    if arguments.update:
        README.write_text(updated(README.read_text(encoding="utf-8"), commands, results),
                          encoding="utf-8")
    print("\n\n".join(failures) or f"README.md: {len(commands)} commands print what it shows")
    sys.exit(1 if failures and not arguments.update else 0)


if __name__ == "__main__":
    main()
