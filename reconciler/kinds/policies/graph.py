"""A project's release policies in rank order, the default last: a Mermaid flowchart (a
chain: the first policy whose scope matches a flag applies, else the next) and a text list.
Drawn from canonical policies; every name goes through graph's escaping."""

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.graph import duration, mermaid_label, printable, yaml_string


def _scope(policy: Mapping[str, Any]) -> str:
    scope = policy["scope"]
    environments = ", ".join(scope["environmentKeys"]) or "every environment"
    tags = ", ".join(scope["flagTagKeys"]) or "every flag tag"
    return f"{environments} · {tags}"


def _stages(policy: Mapping[str, Any]) -> str | None:
    for config in ("guardedReleaseConfig", "progressiveReleaseConfig"):
        stages = (policy.get(config) or {}).get("stages")
        if stages:
            # Allocations are thousandths of a percent: 25000 is 25%.
            return "stages " + " → ".join(
                f"{stage.get('allocation', 0) / 1000:g}% {duration(stage.get('durationMillis', 0))}"
                for stage in stages)
    return None


def _facts(policy: Mapping[str, Any]) -> list[str]:
    facts = [str(policy["releaseMethod"]), _scope(policy)]
    if (stages := _stages(policy)) is not None:
        facts.append(stages)
    return facts


def _title(policy: Mapping[str, Any], place: str) -> str:
    """`place` is a rank ("1.") or "default:"."""
    return f"{place} {policy['name']} ({policy['key']})"


def _places(ranked: Sequence[Mapping[str, Any]], default: Mapping[str, Any] | None
            ) -> list[tuple[str, Mapping[str, Any]]]:
    places = [(f"{rank}.", policy) for rank, policy in enumerate(ranked, start=1)]
    return places + ([("default:", default)] if default is not None else [])


def ranking_mermaid(project: str, ranked: Sequence[Mapping[str, Any]],
                    default: Mapping[str, Any] | None) -> str:
    """A top-down chain: rank 1 first, each to the next, the default last."""
    lines = ["---", f"title: {yaml_string(printable(f'{project}: release policies'))}", "---",
             "flowchart TB"]
    places = _places(ranked, default)
    for index, (place, policy) in enumerate(places):
        lines.append(f"  r{index}[{mermaid_label([_title(policy, place), *_facts(policy)])}]")
    lines += [f"  r{index - 1} -->|no match| r{index}" for index in range(1, len(places))]
    if not places:
        lines.append(f"  none[{mermaid_label(['(no release policies)'])}]")
    return "\n".join(lines) + "\n"


def ranking_text(ranked: Sequence[Mapping[str, Any]],
                 default: Mapping[str, Any] | None) -> str:
    """One line per policy, rank 1 first, the default last: its facts after the title."""
    places = _places(ranked, default)
    lines = ["Release policies (the first whose scope matches a flag applies)"]
    lines += [f"{printable(_title(policy, place))}: {printable(' · '.join(_facts(policy)))}"
              for place, policy in places]
    return "\n".join(lines) + "\n"
