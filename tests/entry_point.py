"""The CLI as its entry point runs it, in process: main()'s error handling and exit code
included, stdout and stderr captured apart. The `entry_point` fixture (tests/conftest.py)
gives one; tests with a workspace of their own wrap it."""

import sys

import pytest

from reconciler.cli import main


class EntryPoint:
    def __init__(self, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self._monkeypatch = monkeypatch
        self._capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """`reconciler ARGS...`: the exit code, stdout and stderr of this run alone."""
        self._capsys.readouterr()
        self._monkeypatch.setattr(sys, "argv", ["reconciler", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = self._capsys.readouterr()
        return int(exited.value.code or 0), out, err
