"""`validate --online`: do the environments and segments that pipelines name exist?

The caller fetches the catalog (project -> environment key -> segment keys) and this
compares, pointing each problem at the line that names the missing thing (the file is
read again for its positions only when it has a problem).
"""

from collections.abc import Mapping, Sequence

from reconciler.manifest.loader import DesiredProject, DesiredState
from reconciler.manifest.yamlfile import Loc, Problem, dotted, shown
from reconciler.rules import UnknownReference, unknown_references


def _loc(project: DesiredProject, pipeline_key: str, reference: UnknownReference) -> Loc:
    audience_loc: Loc = ("phases", reference.phase, "audiences", reference.audience)
    if reference.segment is None:
        return (*audience_loc, "environmentKey")
    pipeline = project.pipelines[pipeline_key]
    listed = pipeline.phases[reference.phase].audiences[reference.audience].segmentKeys or []
    # The file's own index: a request body lists segment keys sorted.
    if reference.segment in listed:
        return (*audience_loc, "segmentKeys", listed.index(reference.segment))
    return (*audience_loc, "segmentKeys")


def reference_problems(project: DesiredProject, pipeline_key: str,
                       unknown: Sequence[UnknownReference]) -> list[Problem]:
    """Each unknown reference of a pipeline at the line of its file that names it. The file
    is read again for its positions only when there is something to point at."""
    if not unknown:
        return []
    positions = project.positions_of(pipeline_key)
    path = shown(project.paths[pipeline_key])
    problems = []
    for reference in unknown:
        loc = _loc(project, pipeline_key, reference)
        at = positions.value_at(loc)
        problems.append(Problem(path, at.line, at.column, f"{dotted(loc)}: {reference.message}"))
    return problems


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
            phases = pipeline.model_dump(include={"phases"})["phases"]
            unknown = unknown_references(project_key, phases, environments)
            problems += reference_problems(project, pipeline_key, unknown)
    return [str(problem) for problem in sorted(problems)]
