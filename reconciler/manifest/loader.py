"""The desired state: `pipelines/<projectKey>/<pipelineKey>.yaml`, `_project.yaml` and
`pipelines/<projectKey>/release-policies/<policyKey>.yaml`.

Every file is read and every problem of every file is collected, so one run of
`validate` lists them all, each as `file:line:col: message`.
"""

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ManifestError
from reconciler.manifest.cache import ParseCache
from reconciler.manifest.models import (
    KEY_RE,
    KNOWN_RELEASE_STRATEGIES,
    MAX_PHASES_PER_PIPELINE,
    CreateReleasePipelineInput,
    ProjectSettings,
)
from reconciler.manifest.pointers import check_pointer_in, ignorable_models
from reconciler.manifest.tree import Kind, classify
from reconciler.manifest.validation import Model, validate
from reconciler.manifest.yamlfile import (
    Document,
    Loc,
    Positions,
    PositionsOnDemand,
    Problem,
    dotted,
    parse_text,
    read_document,
    read_text,
    shown,
)
from reconciler.rules import MAX_PIPELINES_PER_PROJECT

if TYPE_CHECKING:  # the policy models load with the first policy file (see _read_policy)
    from reconciler.kinds.policies.models import PostReleasePolicyRequest

PIPELINE_SUFFIX = ".yaml"
PROJECT_FILE = "_project.yaml"
POLICY_FOLDER = "release-policies"


@dataclass
class DesiredProject:
    key: str
    settings: ProjectSettings  # defaults when there is no _project.yaml
    pipelines: dict[str, CreateReleasePipelineInput]  # by pipeline key, in file-name order
    paths: dict[str, Path]  # pipeline key -> file
    directory: Path | None = None
    policies: "dict[str, PostReleasePolicyRequest]" = field(default_factory=dict)  # file order
    policy_paths: dict[str, Path] = field(default_factory=dict)  # policy key -> file

    def positions_of(self, key: str) -> Positions:
        """Where each value of a pipeline's file is. Read again on demand: a fleet's
        positions cost about 55 KB a file to keep, and only a problem needs them."""
        return _positions(self.paths[key])

    def policy_positions_of(self, key: str) -> Positions:
        """Where each value of a release policy's file is (read again, as positions_of)."""
        return _positions(self.policy_paths[key])

    @property
    def manages_pipelines(self) -> bool:
        # A folder of policies only leaves the project's pipelines alone; a folder with
        # neither kind keeps its old meaning (no pipelines: prune deletes them all).
        return bool(self.pipelines) or not self.policies

    @property
    def policy_order(self) -> list[str]:
        """The desired rank order of the policies, highest priority first; empty when the
        order is not managed (one policy file and no policyOrder)."""
        return list(self.settings.policyOrder)


def _positions(path: Path) -> Positions:
    document, _ = read_document(path)
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


def _stray_policy(path: Path, policy_dir: Path) -> Problem:
    if path.suffix.lower() == ".yml":
        message = (f"release-policy files end in {PIPELINE_SUFFIX}: rename to "
                   f"{path.stem}{PIPELINE_SUFFIX}")
    else:
        message = (f"stray file: {shown(policy_dir)} holds <policyKey>{PIPELINE_SUFFIX} "
                   "files only")
    return Problem(shown(path), 1, 1, message)


def _key_mismatch(path: Path, document: Document) -> Problem | None:
    """The key must be the file's stem: one file per key, found by name."""
    key = document.data.get("key")
    if not isinstance(key, str) or key == path.stem:
        return None
    at = document.positions.value_at(("key",))
    return Problem(shown(path), at.line, at.column,
                   f"key: {key!r} must equal the file name: rename the file to {key}.yaml "
                   f"or set key: {path.stem}")


class _ProjectReader:
    def __init__(self, key: str, directory: Path, root: Path, cache: ParseCache | None) -> None:
        self.key = key
        self.directory = directory
        self.root = root
        self.cache = cache
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.pipeline_files = 0
        self.policy_files: list[str] = []  # stems, valid or not: what policyOrder may name
        self.project = DesiredProject(key, ProjectSettings(), {}, {}, directory)
        # Files that claim isProjectDefault; positions are found only if two claim it.
        self._defaults: list[tuple[str, Positions]] = []
        self._settings: tuple[Path, Document] | None = None

    def read(self) -> None:
        for entry, is_directory in _entries(self.directory, self.root, self.errors):
            if is_directory and entry.name == POLICY_FOLDER:
                self._read_policies(entry)
            elif is_directory:
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
        self._check_policy_order()

    def _read_settings(self, path: Path) -> None:
        document, problems = read_document(path)
        self.errors += problems
        if document is not None:
            self._settings = (path, document)
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
            warning = check_pointer_in(pointer, ignorable_models()).warning
            if warning is not None:
                at = document.positions.value_at(("ignore", index))
                self.warnings.append(Problem(shown(path), at.line, at.column,
                                             f"ignore[{index}]: {warning}", warning=True))

    def _read_pipeline(self, path: Path) -> None:
        where = shown(path)
        text, problems = read_text(path)
        if text is None:
            self.errors += problems
            return
        if self._cached_pipeline(path, text):
            return
        found = len(self.errors) + len(self.warnings)
        document, problems = parse_text(where, text)
        self.errors += problems
        if document is None:
            return
        pipeline = self._validated(where, document, CreateReleasePipelineInput,
                                   "a release pipeline (key, name, phases)")
        if isinstance(document.data, dict):
            self._check_fields(path, document)
        if pipeline is not None:
            self.project.pipelines[pipeline.key] = pipeline
            self.project.paths[pipeline.key] = path
            if self.cache is not None and len(self.errors) + len(self.warnings) == found:
                self._remember(text, document)

    def _validated(self, where: str, document: Document, model: type[Model], expected: str
                   ) -> Model | None:
        """The file's value, or None when it is empty or has a problem (each recorded)."""
        if document.data is None:
            self.errors.append(Problem(where, 1, 1, f"empty file: expected {expected}"))
            return None
        value, problems = validate(model, document, where)
        self.errors += problems
        return value if not problems else None

    def _remember(self, text: str, document: Document) -> None:
        """Cache a file that read with no problem."""
        assert self.cache is not None
        self.cache.put(text, document.data)

    def _cached_pipeline(self, path: Path, text: str) -> bool:
        """Take the pipeline from the cache when a file of this text read cleanly before.
        The one check that depends on the file's name (key = file name) runs again."""
        entry = self.cache.get(text) if self.cache is not None else None
        if entry is None:
            return False
        try:  # straight from the JSON: no Python values made first
            pipeline = CreateReleasePipelineInput.model_validate_json(entry)
        except ValueError:  # pydantic's ValidationError is a ValueError
            return False  # an entry that does not decode: read the file
        if pipeline.key != path.stem:
            return False  # the full read reports it, with its position
        self.project.pipelines[pipeline.key] = pipeline
        self.project.paths[pipeline.key] = path
        if pipeline.isProjectDefault:
            # Another file's error may quote where this one claims it.
            self._defaults.append((shown(path), PositionsOnDemand(text)))
        return True

    def _read_policies(self, directory: Path) -> None:
        for entry, is_directory in _entries(directory, self.root, self.errors):
            if is_directory:
                self.errors.append(Problem(
                    shown(entry), 0, 0,
                    f"folders inside {shown(directory)} are not read: move policy files up"))
            elif entry.suffix == PIPELINE_SUFFIX and not entry.name.startswith("_"):
                self.policy_files.append(entry.stem)
                self._read_policy(entry)
            else:
                self.errors.append(_stray_policy(entry, directory))

    def _read_policy(self, path: Path) -> None:
        # Here, not at the top: a folder without policy files never builds their models.
        from reconciler.kinds.policies.checks import policy_warnings
        from reconciler.kinds.policies.models import PostReleasePolicyRequest

        where = shown(path)
        document, problems = read_document(path)
        self.errors += problems
        if document is None:
            return
        policy = self._validated(where, document, PostReleasePolicyRequest,
                                 "a release policy (key, name, releaseMethod)")
        if isinstance(document.data, dict):
            mismatch = _key_mismatch(path, document)
            self.errors += [mismatch] if mismatch else []
            for loc, message in policy_warnings(document.data):
                at = document.positions.value_at(loc)
                self.warnings.append(Problem(where, at.line, at.column,
                                             f"{dotted(loc)}: {message}", warning=True))
        if policy is not None:
            self.project.policies[policy.key] = policy
            self.project.policy_paths[policy.key] = path

    def _check_policy_order(self) -> None:
        """policyOrder names each policy file exactly once, when there are two or more
        (with one, leaving it out leaves the order unmanaged)."""
        path = self.directory / PROJECT_FILE
        document = self._settings[1] if self._settings else None
        data = document.data if document is not None else None
        raw = data.get("policyOrder") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            # A policyOrder that is not a list already has its error from the model.
            if len(self.policy_files) > 1 and not (isinstance(data, dict)
                                                   and "policyOrder" in data):
                line = 1 if document is not None else 0
                self.errors.append(Problem(
                    shown(path), line, line,
                    f"{len(self.policy_files)} release policies: list their keys in "
                    "policyOrder, highest priority first"))
            return
        assert document is not None  # raw came from it
        files = set(self.policy_files)
        first_seen: dict[str, int] = {}
        for index, key in enumerate(raw):
            if not isinstance(key, str):
                continue
            at = document.positions.value_at(("policyOrder", index))
            if key in first_seen:
                first = document.positions.value_at(("policyOrder", first_seen[key]))
                self.errors.append(Problem(
                    shown(path), at.line, at.column,
                    f"policyOrder[{index}]: {key!r} is listed twice (first at line "
                    f"{first.line})"))
                continue
            first_seen[key] = index
            if key not in files:
                self.errors.append(Problem(
                    shown(path), at.line, at.column,
                    f"policyOrder[{index}]: no release policy {key!r} (expected "
                    f"{shown(self.directory / POLICY_FOLDER / key)}{PIPELINE_SUFFIX})"))
        missing = [key for key in self.policy_files if key not in first_seen]
        if missing and (raw or len(self.policy_files) > 1):
            at = document.positions.key_at(("policyOrder",))
            self.errors.append(Problem(
                shown(path), at.line, at.column,
                f"policyOrder: {', '.join(map(repr, missing))} missing: list every release "
                "policy once, highest priority first"))

    def _check_fields(self, path: Path, document: Document) -> None:
        """The rules a schema cannot express; they run on the raw data so that they are
        reported together with the schema's errors."""
        where = shown(path)
        data: dict[str, Any] = document.data
        positions = document.positions
        mismatch = _key_mismatch(path, document)
        self.errors += [mismatch] if mismatch else []
        if data.get("isProjectDefault") is True:
            self._defaults.append((where, positions))
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
        claim = ("isProjectDefault",)
        first_path, first = self._defaults[0][0], self._defaults[0][1].value_at(claim)
        for where, positions in self._defaults[1:]:
            at = positions.value_at(claim)
            self.errors.append(Problem(
                where, at.line, at.column,
                f"isProjectDefault: a project has one default pipeline, and "
                f"{first_path}:{first.line}:{first.column} already claims it"))


class ManifestReading:
    """One pass over `pipelines_dir` (or only the named projects). `projects()` reads the
    project folders one at a time, in key order, and collects every problem in `errors`
    and `warnings` as it goes: a caller may act on each project as soon as it is read (it
    and every folder before it are valid while `errors` is empty) and keep only what it
    needs. With `cache`, files that read cleanly before are taken from it, and those read
    cleanly now are added to it (see ParseCache: the last batch when the last folder is read)."""

    def __init__(self, pipelines_dir: Path, projects: Sequence[str] | None = None, *,
                 cache: ParseCache | None = None) -> None:
        self.pipelines_dir = pipelines_dir
        self.asked = projects
        self.cache = cache
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def projects(self) -> Iterator[DesiredProject]:
        """Each project folder, read and checked; a project with problems holds the
        pipelines and policies that passed."""
        where = shown(self.pipelines_dir)
        if not self.pipelines_dir.is_dir():
            reason = "not a directory" if self.pipelines_dir.exists() else "no such directory"
            self.errors.append(Problem(where, 0, 0, reason))
            return
        root = self.pipelines_dir.resolve()
        project_dirs = self._project_dirs(root)
        missing = sorted(set(self.asked or ()) - set(project_dirs))
        if self.asked is not None:
            self.errors += [Problem(f"{where}/{key}", 0, 0, "no such project folder")
                            for key in missing]
            project_dirs = {key: path for key, path in project_dirs.items()
                            if key in self.asked}

        pipeline_files = 0
        for key, directory in sorted(project_dirs.items()):
            reader = _ProjectReader(key, directory, root, self.cache)
            reader.read()
            self.errors += reader.errors
            self.warnings += reader.warnings
            pipeline_files += reader.pipeline_files + len(reader.policy_files)
            yield reader.project
        if pipeline_files == 0 and not missing:  # a missing folder already says why
            self.errors.append(Problem(where, 0, 0,
                                       f"no pipeline files found (expected "
                                       f"{where}/<projectKey>/<pipelineKey>{PIPELINE_SUFFIX})"))
        if self.cache is not None:
            self.cache.save()
            self.cache.close()

    def _project_dirs(self, root: Path) -> dict[str, Path]:
        where = shown(self.pipelines_dir)
        project_dirs: dict[str, Path] = {}
        for entry, is_directory in _entries(self.pipelines_dir, root, self.errors):
            if not is_directory:
                self.errors.append(Problem(shown(entry), 1, 1,
                                           f"file outside a project folder: pipeline files go "
                                           f"in {where}/<projectKey>/"))
            elif not KEY_RE.fullmatch(entry.name):
                self.errors.append(Problem(shown(entry), 0, 0,
                                           f"folder name {entry.name!r} is not a valid "
                                           "project key"))
            else:
                project_dirs[entry.name] = entry
        return project_dirs

    def report(self, projects: dict[str, DesiredProject]) -> ManifestReport:
        """Every problem found, sorted, with `projects` (those the caller kept) as the
        state."""
        warnings = sorted(self.warnings)
        state = DesiredState(projects, [str(warning) for warning in warnings])
        return ManifestReport(state, sorted(self.errors), warnings)


def read_desired(pipelines_dir: Path, projects: Sequence[str] | None = None, *,
                 cache: ParseCache | None = None) -> ManifestReport:
    """Read everything under `pipelines_dir` (or only the named projects) and report every
    problem; the state holds the pipelines that passed (see ManifestReading)."""
    reading = ManifestReading(pipelines_dir, projects, cache=cache)
    return reading.report({project.key: project for project in reading.projects()})


def load_desired(pipelines_dir: Path, projects: Sequence[str] | None = None) -> DesiredState:
    """The desired state, or ManifestError listing every problem found."""
    report = read_desired(pipelines_dir, projects)
    if report.errors:
        raise ManifestError([str(error) for error in report.errors])
    return report.state
