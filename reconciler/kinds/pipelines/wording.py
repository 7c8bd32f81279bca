"""How renderings name release pipelines and show one: a file's YAML (whole, a phase,
an audience) and a Mermaid diagram."""

from collections.abc import Collection, Mapping
from typing import Any

from reconciler import graph
from reconciler.export import audience_yaml, phase_yaml, pipeline_yaml
from reconciler.kinds import Wording


def _diagram(pipeline: Mapping[str, Any], changed: Collection[str], default: bool) -> str:
    return graph.mermaid(dict(pipeline), changed=changed, default=default)


WORDING = Wording(
    noun="pipeline", nouns="pipelines", title="release pipelines", document=pipeline_yaml,
    parts={"phases": ("phase", phase_yaml), "audiences": ("audience", audience_yaml)},
    diagram=_diagram,
)
