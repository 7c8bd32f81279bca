"""Pipeline diagrams: a Mermaid flowchart (Markdown, the PR comment) and a compact text
tree (the terminal), both drawn from a pipeline's canonical form.

Names come from users and from LaunchDarkly, which accepts almost anything in them, so no
name ever reaches a diagram unescaped: node ids are generated, Mermaid labels carry every
character outside a small safe set as an entity code, and both show control and
bidirectional characters as \\u escapes.
"""

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reconciler.normalize import Canonical

CHANGED_CLASS = "changed"
CHANGED_STYLE = "fill:#fff3bf,stroke:#e8590c,stroke-width:3px"

# C0 and C1 controls, line/paragraph separators and bidi controls: these can drive a
# terminal or reorder what a reviewer reads ("trojan source").
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# Characters that mean nothing to Mermaid inside a quoted label; anything else, letters and
# digits of any script aside, becomes an entity code (#34; for '"'), which Mermaid decodes.
# `\w` is str.isalnum() plus "_"; one regex pass, not a Python step per character.
_MERMAID_ESCAPED = re.compile("[^\\w" + re.escape(" -_.,:/()+=!?'@%*") + "]")


def printable(text: str) -> str:
    """`text` with hidden characters written as \\uXXXX escapes (valid inside JSON too)."""
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _mermaid_text(text: str) -> str:
    return _MERMAID_ESCAPED.sub(lambda match: f"#{ord(match.group())};", printable(text))


def mermaid_label(lines: Sequence[str]) -> str:
    return '"' + "<br>".join(_mermaid_text(line) for line in lines) + '"'


def yaml_string(text: str) -> str:
    # JSON's ASCII-only string is a valid YAML double-quoted scalar; no backtick may end a
    # Markdown fence around the diagram.
    return json.dumps(text, ensure_ascii=True).replace("`", "\\u0060")


def duration(milliseconds: int) -> str:
    if milliseconds <= 0 or milliseconds % 1000:
        return f"{milliseconds}ms"
    seconds = milliseconds // 1000
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def _approval(configuration: Mapping[str, Any]) -> str | None:
    required = configuration.get("requireApproval")
    if required is None:
        return None
    if not required:
        return "no approval"
    fact = "approval required"
    members = configuration.get("notifyMemberIds") or []
    teams = configuration.get("notifyTeamKeys") or []
    if members:
        fact += f", notify {len(members)} member{'s' if len(members) != 1 else ''}"
    if teams:
        fact += f", team{'s' if len(teams) != 1 else ''} {', '.join(teams)}"
    return fact


def _guarded(guardian: Mapping[str, Any]) -> str:
    parts = []
    if guardian.get("rolloutWeight") is not None:
        parts.append(f"{guardian['rolloutWeight']}%")
    if guardian.get("monitoringWindowMilliseconds") is not None:
        parts.append(f"monitor {duration(guardian['monitoringWindowMilliseconds'])}")
    if guardian.get("rollbackOnRegression") is not None:
        parts.append("rollback on regression" if guardian["rollbackOnRegression"]
                     else "no automatic rollback")
    if guardian.get("randomizationUnit"):
        parts.append(f"by {guardian['randomizationUnit']}")
    return "guarded rollout: " + ", ".join(parts)


def _audience_facts(audience: Mapping[str, Any]) -> list[str]:
    """What a reviewer needs to know about one audience, one short phrase per fact."""
    environment = audience.get("environmentKey")
    facts = [f"env {environment}" if environment else "env (missing in LaunchDarkly)"]
    if audience.get("segmentKeys"):
        facts.append(f"segments {', '.join(audience['segmentKeys'])}")
    configuration = audience.get("configuration")
    if configuration:
        if configuration.get("releaseStrategy"):
            facts.append(f"strategy {configuration['releaseStrategy']}")
        if (approval := _approval(configuration)) is not None:
            facts.append(approval)
        if configuration.get("releaseGuardianConfiguration"):
            facts.append(_guarded(configuration["releaseGuardianConfiguration"]))
    return facts


def _title(pipeline: Canonical, *, default: bool) -> str:
    text = f"{pipeline.get('name')} ({pipeline.get('key')})"
    return f"{text} [project default]" if default else text


def _phase_id(phase: int) -> str:
    return f"p{phase}"


def _audience_id(phase: int, audience: int) -> str:
    return f"p{phase}a{audience}"


def _highlights(phases: Sequence[Mapping[str, Any]], changed: Collection[str]
                ) -> tuple[set[int], set[tuple[int, int]]]:
    """The phases and audiences that field-change pointers fall in. A pointer to the
    whole pipeline, to /phases or to one phase marks those phases and their audiences; to a
    phase's own field (or to an audience that is gone) marks the phase; to an audience or
    anything in it marks that audience."""
    phase_marks: set[int] = set()
    audience_marks: set[tuple[int, int]] = set()

    def whole(index: int) -> None:
        phase_marks.add(index)
        audience_marks.update((index, j) for j in range(len(phases[index]["audiences"])))

    for path in changed:
        parts = path.split("/")[1:]
        if parts and parts[0] != "phases":
            continue
        if len(parts) <= 1:  # the whole pipeline ("", as for a create) or all its phases
            for index in range(len(phases)):
                whole(index)
            continue
        if not parts[1].isdigit() or int(parts[1]) >= len(phases):
            continue  # a phase that no longer exists: nothing left to draw
        index = int(parts[1])
        if len(parts) == 2 or parts[2:] == ["audiences"]:
            whole(index)
        elif (parts[2] == "audiences" and parts[3].isdigit()
              and int(parts[3]) < len(phases[index]["audiences"])):
            audience_marks.add((index, int(parts[3])))
        else:
            phase_marks.add(index)
    return phase_marks, audience_marks


def mermaid(pipeline: Canonical, *, changed: Collection[str] = (), default: bool = False) -> str:
    """A Mermaid flowchart: phases left to right in order, each a subgraph of its audiences.

    `changed` holds JSON pointers of field changes (Step.changes[].path); the phases and
    audiences they fall in get the `changed` class. `default` marks the project default
    in the title."""
    phases = pipeline.get("phases") or []
    phase_marks, audience_marks = _highlights(phases, changed)
    lines = ["---", f"title: {yaml_string(printable(_title(pipeline, default=default)))}", "---",
             "flowchart LR"]
    for i, phase in enumerate(phases):
        heading = mermaid_label([f"{i + 1}. {phase['name']}"])
        lines.append(f"  subgraph {_phase_id(i)} [{heading}]")
        lines.append("    direction TB")
        audiences = phase["audiences"]
        for j, audience in enumerate(audiences):
            label = mermaid_label([str(audience.get("name")), *_audience_facts(audience)])
            lines.append(f"    {_audience_id(i, j)}[{label}]")
        if not audiences:  # Mermaid draws no empty subgraph
            lines.append(f"    {_phase_id(i)}none[{mermaid_label(['(no audiences)'])}]")
        lines.append("  end")
    lines.extend(f"  {_phase_id(i - 1)} --> {_phase_id(i)}" for i in range(1, len(phases)))
    marked = [_phase_id(i) for i in sorted(phase_marks)]
    marked += [_audience_id(i, j) for i, j in sorted(audience_marks)]
    if marked:
        lines.append(f"  classDef {CHANGED_CLASS} {CHANGED_STYLE}")
        lines.append(f"  class {','.join(marked)} {CHANGED_CLASS}")
    return "\n".join(lines) + "\n"


def text_tree(pipeline: Canonical, *, default: bool = False) -> str:
    """A compact tree for the terminal: the pipeline, its phases in order, their audiences."""
    lines = [printable(_title(pipeline, default=default))]
    phases = pipeline.get("phases") or []
    for i, phase in enumerate(phases):
        last_phase = i == len(phases) - 1
        lines.append(f"{'└─' if last_phase else '├─'} {i + 1}. {printable(str(phase['name']))}")
        indent = "   " if last_phase else "│  "
        audiences = phase["audiences"]
        for j, audience in enumerate(audiences):
            branch = "└─" if j == len(audiences) - 1 else "├─"
            facts = " · ".join(_audience_facts(audience))
            lines.append(f"{indent}{branch} {printable(str(audience.get('name')))}: "
                         f"{printable(facts)}")
    return "\n".join(lines) + "\n"
