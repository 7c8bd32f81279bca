"""Only reconciler/cli talks to the terminal: no module outside it imports click or calls
print. Read from the source with ast, so an import inside a function counts too."""

import ast
from pathlib import Path

import reconciler

PACKAGE = Path(reconciler.__file__).parent
CLI = PACKAGE / "cli"


def _library_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if CLI not in path.parents)


def _terminal_use(node: ast.AST) -> str | None:
    """What `node` does with the terminal: imports click or calls print."""
    if isinstance(node, ast.Import):
        if any(alias.name.split(".")[0] == "click" for alias in node.names):
            return "imports click"
    elif isinstance(node, ast.ImportFrom):
        if node.level == 0 and (node.module or "").split(".")[0] == "click":
            return "imports from click"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "print":
        return "calls print"
    return None


def _terminal_uses(tree: ast.AST) -> list[str]:
    return [f"line {getattr(node, 'lineno', '?')}: {use}" for node in ast.walk(tree)
            if (use := _terminal_use(node)) is not None]


def test_the_walk_sees_the_library_and_leaves_out_the_cli() -> None:
    names = {path.relative_to(PACKAGE).as_posix() for path in _library_modules()}
    assert {"render/text.py", "github/__init__.py", "aviator/reporter.py"} <= names
    assert not any(name.startswith("cli/") for name in names)


def test_the_finder_sees_every_form() -> None:
    source = ("import click\nimport click.testing as t\nfrom click import echo\n"
              "def f():\n    print('x')\nimport clickhouse\nfrom . import click\n")
    assert len(_terminal_uses(ast.parse(source))) == 4


def test_no_library_module_imports_click_or_prints() -> None:
    offenders = {
        path.relative_to(PACKAGE).as_posix(): uses
        for path in _library_modules()
        if (uses := _terminal_uses(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}
