"""How renderings name release pipelines and show one: a file's YAML (whole, a phase,
an audience) and a Mermaid diagram."""

from collections.abc import Collection, Mapping
from typing import Any

from reconciler import graph
from reconciler.kinds import Wording

# The YAML is written by reconciler.export, imported (and ruamel with it) when a plan first
# shows a file: a plan that changes nothing never does.


def _pipeline(pipeline: Mapping[str, Any], is_default: bool) -> str:
    from reconciler.export import pipeline_yaml

    return pipeline_yaml(pipeline, is_default)


def _phase(phase: Mapping[str, Any]) -> str:
    from reconciler.export import phase_yaml

    return phase_yaml(phase)


def _audience(audience: Mapping[str, Any]) -> str:
    from reconciler.export import audience_yaml

    return audience_yaml(audience)


def _diagram(pipeline: Mapping[str, Any], changed: Collection[str], default: bool) -> str:
    return graph.mermaid(dict(pipeline), changed=changed, default=default)


WORDING = Wording(
    noun="pipeline", nouns="pipelines", title="release pipelines", document=_pipeline,
    parts={"phases": ("phase", _phase), "audiences": ("audience", _audience)},
    diagram=_diagram,
)
