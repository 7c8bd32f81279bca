"""The desired state: `pipelines/<projectKey>/<pipelineKey>.yaml` and `_project.yaml`.

Every file is read and every problem of every file is collected, so one run of
`validate` lists them all, each as `file:line:col: message`.
"""

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ManifestError
from reconciler.manifest.models import (
    KEY_RE,
    KNOWN_RELEASE_STRATEGIES,
    MAX_PHASES_PER_PIPELINE,
    CreateReleasePipelineInput,
    ProjectSettings,
)
from reconciler.manifest.pointers import check_pointer
from reconciler.manifest.tree import Kind, classify
from reconciler.manifest.validation import validate
from reconciler.manifest.yamlfile import (
    Document,
    Loc,
    Position,
    Positions,
    Problem,
    dotted,
    read_document,
    shown,
)
from reconciler.rules import MAX_PIPELINES_PER_PROJECT

PIPELINE_SUFFIX = ".yaml"
PROJECT_FILE = "_project.yaml"


@dataclass
class DesiredProject:
    key: str
    settings: ProjectSettings  # defaults when there is no _project.yaml
    pipelines: dict[str, CreateReleasePipelineInput]  # by pipeline key, in file-name order
    paths: dict[str, Path]  # pipeline key -> file
    directory: Path | None = None

    def positions_of(self, key: str) -> Positions:
        """Where each value of a pipeline's file is. Read again on demand: a fleet's
        positions cost about 55 KB a file to keep, and only a problem needs them."""
        document, _ = read_document(self.paths[key])
        return document.positions if document is not None else Positions()


@dataclass
class DesiredState:
    projects: dict[str, DesiredProject]  # sorted by key
    warnings: list[str]  # "file:line:col: warning: ..." lines


@dataclass
class ManifestReport:
    """What `validate` shows: the state that loaded, and every error and warning."""

    state: DesiredState
    errors: list[Problem]
    warnings: list[Problem]


def _ignored(entry: Path) -> bool:
    # Dotfiles (.gitkeep, editor state) and Markdown notes may sit beside pipeline files.
    return entry.name.startswith(".") or entry.suffix.lower() == ".md"


def _entries(directory: Path, root: Path, errors: list[Problem]) -> list[tuple[Path, bool]]:
    """The entries to read, each with whether it is a directory; unsafe ones (a symlink
    out of `root`, a FIFO, socket or device) are reported and left out, never opened."""
    try:
        entries = sorted((e for e in directory.iterdir() if not _ignored(e)),
                         key=lambda e: e.name)
    except OSError as error:
        errors.append(Problem(shown(directory), 0, 0, f"cannot read: {error.strerror or error}"))
        return []
    found = []
    for entry in entries:
        kind = classify(entry, root)
        if isinstance(kind, Kind):
            found.append((entry, kind is Kind.DIRECTORY))
        else:
            errors.append(Problem(shown(entry), 0, 0, kind))
    return found


def _release_strategies(phases: list[Any]) -> Iterator[tuple[Loc, str]]:
    """Every releaseStrategy string in the raw phases, with its location."""
    for p, phase in enumerate(phases):
        audiences = phase.get("audiences") if isinstance(phase, dict) else None
        for a, audience in enumerate(audiences if isinstance(audiences, list) else []):
            configuration = audience.get("configuration") if isinstance(audience, dict) else None
            strategy = (configuration.get("releaseStrategy")
                        if isinstance(configuration, dict) else None)
            if isinstance(strategy, str):
                yield ("phases", p, "audiences", a, "configuration", "releaseStrategy"), strategy


def _unknown_strategy(strategy: str) -> tuple[str, bool]:
    """The message for a releaseStrategy no source documents, and whether it is an error:
    a near miss of a known value is a typo (an error); anything else may be a strategy
    LaunchDarkly added since (a warning)."""
    known = ", ".join(KNOWN_RELEASE_STRATEGIES)
    close = difflib.get_close_matches(strategy, KNOWN_RELEASE_STRATEGIES, n=1, cutoff=0.6)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"{strategy!r} is not a release strategy LaunchDarkly documents{guess}; "
            f"known: {known}"), bool(close)


def _stray(path: Path, project_dir: Path) -> Problem:
    if path.suffix.lower() == ".yml":
        message = f"pipeline files end in {PIPELINE_SUFFIX}: rename to {path.stem}{PIPELINE_SUFFIX}"
    else:
        message = (f"stray file: {shown(project_dir)} holds <pipelineKey>{PIPELINE_SUFFIX} "
                   f"files and {PROJECT_FILE} only")
    return Problem(shown(path), 1, 1, message)


class _ProjectReader:
    def __init__(self, key: str, directory: Path, root: Path) -> None:
        self.key = key
        self.directory = directory
        self.root = root
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.pipeline_files = 0
        self.project = DesiredProject(key, ProjectSettings(), {}, {}, directory)
        self._defaults: list[tuple[str, Position]] = []

    def read(self) -> None:
        for entry, is_directory in _entries(self.directory, self.root, self.errors):
            if is_directory:
                self.errors.append(Problem(
                    shown(entry), 0, 0,
                    f"folders inside a project are not read: move pipeline files up to "
                    f"{shown(self.directory)}"))
            elif entry.name == PROJECT_FILE:
                self._read_settings(entry)
            elif entry.suffix == PIPELINE_SUFFIX and not entry.name.startswith("_"):
                self.pipeline_files += 1
                self._read_pipeline(entry)
            else:
                self.errors.append(_stray(entry, self.directory))
        if self.pipeline_files > MAX_PIPELINES_PER_PROJECT:
            self.errors.append(Problem(
                shown(self.directory), 0, 0,
                f"{self.pipeline_files} pipeline files, but a project holds at most "
                f"{MAX_PIPELINES_PER_PROJECT} release pipelines"))
        self._check_defaults()

    def _read_settings(self, path: Path) -> None:
        document, problems = read_document(path)
        self.errors += problems
        if document is None or document.data is None:
            return  # an empty _project.yaml means the defaults
        settings, problems = validate(ProjectSettings, document, shown(path))
        self.errors += problems
        if settings is not None:
            self.project.settings = settings
        if isinstance(document.data, dict) and isinstance(document.data.get("ignore"), list):
            self._check_ignore(path, document, document.data["ignore"])

    def _check_ignore(self, path: Path, document: Document, pointers: list[Any]) -> None:
        """A pointer the grammar accepts may still name a field the models lack. Read from
        the raw data, so these warnings come with the file's errors."""
        for index, pointer in enumerate(pointers):
            if not isinstance(pointer, str):
                continue
            warning = check_pointer(pointer, CreateReleasePipelineInput).warning
            if warning is not None:
                at = document.positions.value_at(("ignore", index))
                self.warnings.append(Problem(shown(path), at.line, at.column,
                                             f"ignore[{index}]: {warning}", warning=True))

    def _read_pipeline(self, path: Path) -> None:
        where = shown(path)
        document, problems = read_document(path)
        self.errors += problems
        if document is None:
            return
        if document.data is None:
            self.errors.append(Problem(
                where, 1, 1, "empty file: expected a release pipeline (key, name, phases)"))
            return
        pipeline, problems = validate(CreateReleasePipelineInput, document, where)
        self.errors += problems
        if isinstance(document.data, dict):
            self._check_fields(path, document)
        if pipeline is not None and not problems:
            self.project.pipelines[pipeline.key] = pipeline
            self.project.paths[pipeline.key] = path

    def _check_fields(self, path: Path, document: Document) -> None:
        """The rules a schema cannot express; they run on the raw data so that they are
        reported together with the schema's errors."""
        where = shown(path)
        data: dict[str, Any] = document.data
        positions = document.positions
        key = data.get("key")
        if isinstance(key, str) and key != path.stem:
            at = positions.value_at(("key",))
            self.errors.append(Problem(
                where, at.line, at.column,
                f"key: {key!r} must equal the file name: rename the file to {key}.yaml "
                f"or set key: {path.stem}"))
        if data.get("isProjectDefault") is True:
            self._defaults.append((where, positions.value_at(("isProjectDefault",))))
        phases = data.get("phases")
        if not isinstance(phases, list):
            return
        if len(phases) > MAX_PHASES_PER_PIPELINE:
            at = positions.key_at(("phases",))
            self.warnings.append(Problem(
                where, at.line, at.column,
                f"phases: {len(phases)} phases; LaunchDarkly's UI shows at most "
                f"{MAX_PHASES_PER_PIPELINE}", warning=True))
        for loc, strategy in _release_strategies(phases):
            if strategy not in KNOWN_RELEASE_STRATEGIES:
                at = positions.value_at(loc)
                message, typo = _unknown_strategy(strategy)
                (self.errors if typo else self.warnings).append(Problem(
                    where, at.line, at.column, f"{dotted(loc)}: {message}", warning=not typo))
        first_seen: dict[str, int] = {}
        for index, phase in enumerate(phases):
            name = phase.get("name") if isinstance(phase, dict) else None
            if not isinstance(name, str):
                continue
            if name in first_seen:
                at = positions.value_at(("phases", index, "name"))
                first = positions.value_at(("phases", first_seen[name], "name"))
                self.errors.append(Problem(
                    where, at.line, at.column,
                    f"phases[{index}].name: duplicate phase name {name!r} "
                    f"(first at line {first.line})"))
            else:
                first_seen[name] = index

    def _check_defaults(self) -> None:
        if len(self._defaults) < 2:
            return
        first_path, first = self._defaults[0]
        for where, at in self._defaults[1:]:
            self.errors.append(Problem(
                where, at.line, at.column,
                f"isProjectDefault: a project has one default pipeline, and "
                f"{first_path}:{first.line}:{first.column} already claims it"))


def read_desired(pipelines_dir: Path, projects: Sequence[str] | None = None) -> ManifestReport:
    """Read everything under `pipelines_dir` (or only the named projects) and report every
    problem; the state holds the pipelines that passed."""
    state = DesiredState({}, [])
    errors: list[Problem] = []
    warnings: list[Problem] = []
    where = shown(pipelines_dir)
    if not pipelines_dir.is_dir():
        reason = "not a directory" if pipelines_dir.exists() else "no such directory"
        return ManifestReport(state, [Problem(where, 0, 0, reason)], [])

    root = pipelines_dir.resolve()
    project_dirs: dict[str, Path] = {}
    for entry, is_directory in _entries(pipelines_dir, root, errors):
        if not is_directory:
            errors.append(Problem(shown(entry), 1, 1,
                                  f"file outside a project folder: pipeline files go in "
                                  f"{where}/<projectKey>/"))
        elif not KEY_RE.fullmatch(entry.name):
            errors.append(Problem(shown(entry), 0, 0,
                                  f"folder name {entry.name!r} is not a valid project key"))
        else:
            project_dirs[entry.name] = entry
    missing = sorted(set(projects or ()) - set(project_dirs))
    if projects is not None:
        errors += [Problem(f"{where}/{key}", 0, 0, "no such project folder") for key in missing]
        project_dirs = {key: path for key, path in project_dirs.items() if key in projects}

    pipeline_files = 0
    for key, directory in sorted(project_dirs.items()):
        reader = _ProjectReader(key, directory, root)
        reader.read()
        errors += reader.errors
        warnings += reader.warnings
        pipeline_files += reader.pipeline_files
        state.projects[key] = reader.project
    if pipeline_files == 0 and not missing:  # a missing folder already says why
        errors.append(Problem(where, 0, 0,
                              f"no pipeline files found (expected "
                              f"{where}/<projectKey>/<pipelineKey>{PIPELINE_SUFFIX})"))
    state.warnings = [str(warning) for warning in sorted(warnings)]
    return ManifestReport(state, sorted(errors), sorted(warnings))


def load_desired(pipelines_dir: Path, projects: Sequence[str] | None = None) -> DesiredState:
    """The desired state, or ManifestError listing every problem found."""
    report = read_desired(pipelines_dir, projects)
    if report.errors:
        raise ManifestError([str(error) for error in report.errors])
    return report.state
