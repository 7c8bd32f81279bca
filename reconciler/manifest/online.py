"""`validate --online`: do the environments and segments that pipelines name exist?

The caller fetches the catalog (project -> environment key -> segment keys) and this
compares, pointing each problem at the line that names the missing thing (the file is
read again for its positions only when it has a problem).
"""

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path

from reconciler.manifest.loader import DesiredState
from reconciler.manifest.models import CreateReleasePipelineInput
from reconciler.manifest.yamlfile import Loc, Positions, Problem, dotted, shown


def _pipeline_problems(project_key: str, path: Path, positions: Callable[[], Positions],
                       pipeline: CreateReleasePipelineInput,
                       environments: Mapping[str, set[str]]) -> Iterator[Problem]:
    def problem(loc: Loc, message: str) -> Problem:
        at = positions().value_at(loc)
        return Problem(shown(path), at.line, at.column, f"{dotted(loc)}: {message}")

    for p, phase in enumerate(pipeline.phases):
        for a, audience in enumerate(phase.audiences):
            audience_loc: Loc = ("phases", p, "audiences", a)
            segments = environments.get(audience.environmentKey)
            if segments is None:
                yield problem((*audience_loc, "environmentKey"),
                              f"environment {audience.environmentKey!r} does not exist in "
                              f"project {project_key!r}")
                continue
            for s, segment in enumerate(audience.segmentKeys or ()):
                if segment not in segments:
                    yield problem((*audience_loc, "segmentKeys", s),
                                  f"segment {segment!r} does not exist in environment "
                                  f"{audience.environmentKey!r} of project {project_key!r}")


def online_problems(state: DesiredState,
                    catalog: Mapping[str, Mapping[str, set[str]]]) -> list[str]:
    problems: list[Problem] = []
    for project_key, project in state.projects.items():
        environments = catalog.get(project_key)
        if environments is None:
            where = shown(project.directory) if project.directory else f"project {project_key}"
            problems.append(Problem(where, 0, 0,
                                    f"project {project_key!r} does not exist in LaunchDarkly"))
            continue
        for pipeline_key, pipeline in project.pipelines.items():
            # Only a pipeline with a problem pays for reading its file's positions again.
            positions = cache(lambda key=pipeline_key, p=project: p.positions_of(key))
            problems += _pipeline_problems(project_key, project.paths[pipeline_key], positions,
                                           pipeline, environments)
    return [str(problem) for problem in sorted(problems)]
