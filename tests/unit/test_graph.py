"""Pipeline diagrams: the Mermaid structure (nodes, phase order, highlights), hostile
names, the text tree, and the `graph` command."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli, graph_cmd  # noqa: F401  (registers the command)
from reconciler.graph import mermaid, mermaid_label, printable, text_tree
from reconciler.kinds.pipelines.inputs import desired_input
from reconciler.manifest import load_desired
from reconciler.normalize import Canonical, canonical

EXAMPLE = Path(__file__).parent.parent.parent / "pipelines"
HOSTILE = [
    'say "hi"',
    "<script>alert(1)</script>",
    "<b>bold</b> & &amp; &#35;",
    "a | b [c] {d} (e) >f<",
    "end",
    "#quot; #35; ;;",
    "```mermaid\nflowchart LR",
    "back`tick `` ~~x~~",
    "naïve 漢字 😀 Ω",
    "rtl \u202eevil\u202c zero\u200bwidth",
    "tab\there\r\nnew line \x1b[31mred",
    "%% comment --> arrow ---",
    "classDef x fill:#f00; class p0 x",
    "---",
    "\\ backslash \\n",
]

# Label text: letters and digits of any script, the safe punctuation, entity codes, <br>.
LABEL_CHARACTER = re.compile(r"#\d+;|<br>|[ \-_.,:/()+=!?'@%*]|[^\W_]")
LINE_GRAMMAR = [
    re.compile(r'  subgraph (p\d+) \["([^"]*)"\]'),
    re.compile(r"    direction TB"),
    re.compile(r'    (p\d+a\d+|p\d+none)\["([^"]*)"\]'),
    re.compile(r"  end"),
    re.compile(r"  (p\d+) --> (p\d+)"),
    re.compile(r"  classDef changed [-a-z]+:[#\w]+(,[-a-z]+:[#\w]+)*"),
    re.compile(r"  class ((p\d+(a\d+)?)(,p\d+(a\d+)?)*) changed"),
]


@dataclass
class Diagram:
    """What a Mermaid flowchart says, read back with a strict line grammar."""

    title: str
    phases: list[tuple[str, str]] = field(default_factory=list)  # (id, label) in order
    nodes: dict[str, list[str]] = field(default_factory=dict)  # id -> label lines
    members: dict[str, list[str]] = field(default_factory=dict)  # phase id -> node ids
    edges: list[tuple[str, str]] = field(default_factory=list)
    highlighted: set[str] = field(default_factory=set)


def decode(label: str) -> list[str]:
    assert "".join(LABEL_CHARACTER.findall(label)) == label, f"unsafe label {label!r}"
    return [re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), part)
            for part in label.split("<br>")]


def parse(text: str) -> Diagram:
    assert "`" not in text  # nothing can end a Markdown fence around the diagram
    lines = text.splitlines()
    assert lines[0] == "---" and lines[2] == "---" and lines[3] == "flowchart LR"
    title = re.fullmatch(r'title: ("(?:[^"\\]|\\.)*")', lines[1])
    assert title is not None and title.group(1).isascii()
    diagram = Diagram(title=json.loads(title.group(1)))
    current: str | None = None
    for line in lines[4:]:
        matched = [(i, m) for i, g in enumerate(LINE_GRAMMAR) if (m := g.fullmatch(line))]
        assert len(matched) == 1, f"not valid here: {line!r}"
        kind, match = matched[0]
        if kind == 0:
            assert current is None
            current = match.group(1)
            diagram.phases.append((current, decode(match.group(2))[0]))
            diagram.members[current] = []
        elif kind == 2:
            assert current is not None
            diagram.nodes[match.group(1)] = decode(match.group(2))
            diagram.members[current].append(match.group(1))
        elif kind == 3:
            assert current is not None
            current = None
        elif kind == 4:
            diagram.edges.append((match.group(1), match.group(2)))
        elif kind == 6:
            diagram.highlighted = set(match.group(1).split(","))
    assert current is None
    return diagram


def example() -> dict[str, Canonical]:
    return desired_input(load_desired(EXAMPLE).projects["web"]).pipelines


def pipeline(*phases: list[str], name: str = "Pipe") -> Canonical:
    return canonical({"key": "pipe", "name": name, "phases": [
        {"name": f"P{i}", "audiences": [{"name": a, "environmentKey": "test"} for a in names]}
        for i, names in enumerate(phases)]})


def test_example_pipeline_is_drawn_phase_by_phase() -> None:
    standard = example()["standard"]
    diagram = parse(mermaid(standard, default=True))
    assert diagram.title == "Standard (standard) [project default]"
    assert [label for _, label in diagram.phases] == [
        f"{i}. {p['name']}" for i, p in enumerate(standard["phases"], start=1)]
    assert [phase_id for phase_id, _ in diagram.phases] == ["p0", "p1", "p2"]
    assert diagram.edges == [("p0", "p1"), ("p1", "p2")]
    for (phase_id, _), phase in zip(diagram.phases, standard["phases"], strict=True):
        assert [diagram.nodes[n][0] for n in diagram.members[phase_id]] == [
            a["name"] for a in phase["audiences"]]
    assert diagram.highlighted == set()


def test_every_example_pipeline_parses_and_shows_its_settings() -> None:
    pipelines = example()
    for form in pipelines.values():
        diagram = parse(mermaid(form))
        assert len(diagram.phases) == len(form["phases"])
        assert "[project default]" not in diagram.title
    guarded = parse(mermaid(pipelines["guarded-rollout"]))
    labels = ["\n".join(lines) for lines in guarded.nodes.values()]
    assert any("guarded rollout:" in label and "rollback on regression" in label
               for label in labels)
    assert any("approval required" in label for label in labels)
    assert any("segments qa-team" in label for label in labels)


def test_audience_label_lists_environment_segments_strategy_approval_guardian() -> None:
    form = canonical({"key": "k", "name": "N", "phases": [{"name": "P", "audiences": [{
        "name": "Beta", "environmentKey": "production", "segmentKeys": ["b", "a"],
        "configuration": {
            "releaseStrategy": "monitoredRelease", "requireApproval": True,
            "notifyMemberIds": ["m1", "m2"], "notifyTeamKeys": ["sre"],
            "releaseGuardianConfiguration": {
                "monitoringWindowMilliseconds": 5_400_000, "rolloutWeight": 10,
                "rollbackOnRegression": False, "randomizationUnit": "org"}}}]}]})
    assert parse(mermaid(form)).nodes["p0a0"] == [
        "Beta", "env production", "segments a, b", "strategy monitoredRelease",
        "approval required, notify 2 members, team sre",
        "guarded rollout: 10%, monitor 1h30m, no automatic rollback, by org",
    ]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_give_valid_diagrams_and_survive_escaping(name: str) -> None:
    form = canonical({"key": "pipe", "name": name, "phases": [
        {"name": name, "audiences": [{"name": name, "environmentKey": name,
                                      "segmentKeys": [name]}]},
        {"name": "end", "audiences": [{"name": "subgraph", "environmentKey": "x"}]},
    ]})
    diagram = parse(mermaid(form, changed=["/phases/0/audiences/0/name"]))
    shown = printable(name)  # hidden characters as \u escapes, all else as it is
    assert diagram.title == f"{shown} (pipe)"
    assert diagram.phases[0][1] == f"1. {shown}"
    assert diagram.nodes["p0a0"][:3] == [shown, f"env {shown}", f"segments {shown}"]
    assert diagram.phases[1][1] == "2. end" and diagram.nodes["p1a0"][0] == "subgraph"
    assert diagram.edges == [("p0", "p1")]
    assert diagram.highlighted == {"p0a0"}


def test_changed_paths_highlight_the_phases_and_audiences_they_fall_in() -> None:
    form = pipeline(["a", "b"], ["c"], ["d", "e"])

    def marks(*paths: str) -> set[str]:
        return parse(mermaid(form, changed=paths)).highlighted

    assert marks("/phases/0/audiences/1/configuration/requireApproval") == {"p0a1"}
    assert marks("/phases/1/name") == {"p1"}
    assert marks("/phases/2") == {"p2", "p2a0", "p2a1"}
    assert marks("/phases/2/audiences") == {"p2", "p2a0", "p2a1"}
    assert marks("/phases/0/audiences/5") == {"p0"}  # an audience that is gone
    assert marks("/phases/7", "/name", "/tags/0") == set()  # nothing drawn changed
    everything = {"p0", "p0a0", "p0a1", "p1", "p1a0", "p2", "p2a0", "p2a1"}
    assert marks("/phases") == everything
    assert marks("") == everything  # a create: the whole pipeline is new


def test_phase_without_audiences_still_draws() -> None:
    form = canonical({"key": "k", "name": "N", "phases": [{"name": "Empty"}]})
    diagram = parse(mermaid(form))
    assert diagram.members["p0"] == ["p0none"]


def test_text_tree_of_the_example() -> None:
    tree = text_tree(example()["standard"], default=True)
    assert tree == (
        "Standard (standard) [project default]\n"
        "├─ 1. Testing\n"
        "│  └─ QA team: env test · segments qa-team\n"
        "├─ 2. Staging\n"
        "│  └─ Everyone in staging: env staging\n"
        "└─ 3. Production\n"
        "   ├─ Internal staff: env production · segments internal-staff\n"
        "   └─ Everyone: env production · strategy monitoredRelease · approval required, "
        "team web-release-managers\n"
    )


def test_text_tree_escapes_what_could_drive_a_terminal() -> None:
    tree = text_tree(pipeline(["\x1b[2Jwipe"], name="evil\u202eeman\nline"))
    assert "\x1b" not in tree and "\u202e" not in tree
    assert tree.splitlines()[0] == "evil\\u202eeman\\u000aline (pipe)"
    assert "\\u001b[2Jwipe" in tree


def test_printable_keeps_ordinary_unicode() -> None:
    assert printable("Qualité 漢字 😀") == "Qualité 漢字 😀"
    assert printable("a\tb\u2066c") == "a\\u0009b\\u2066c"


def test_mermaid_labels_keep_letters_digits_and_the_safe_set_and_encode_the_rest() -> None:
    assert mermaid_label(["Qualité 漢字 ٣ ²", "a-b_c.d,e:f/g(h)+i=j!k?l'm@n%o*p"]) == (
        '"Qualité 漢字 ٣ ²<br>a-b_c.d,e:f/g(h)+i=j!k?l\'m@n%o*p"')
    assert mermaid_label(['say "hi" <b>&#35;</b> | `x` 😀 ~']) == (
        '"say #34;hi#34; #60;b#62;#38;#35;35#59;#60;/b#62; #124; #96;x#96; #128512; #126;"')
    assert mermaid_label(["tab\there"]) == '"tab#92;u0009here"'  # hidden, then encoded
    # Every character one by one: kept exactly when Python calls it alphanumeric or it is
    # one of the safe punctuation marks.
    safe = set(" -_.,:/()+=!?'@%*")
    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or printable(char) != char:
            continue
        kept = char.isalnum() or char in safe
        assert mermaid_label([char]) == (f'"{char}"' if kept else f'"#{code};"'), hex(code)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["graph", "--pipelines-dir", str(EXAMPLE), *args])


def test_graph_command_draws_one_pipeline_as_a_mermaid_document() -> None:
    result = invoke("--pipeline", "standard")
    assert result.exit_code == 0, result.output
    assert result.stdout == mermaid(example()["standard"], default=True)


def test_graph_command_draws_several_pipelines_as_markdown() -> None:
    result = invoke("--project", "web")
    assert result.exit_code == 0, result.output
    # One diagram per pipeline, then one of the project's release policies.
    assert result.stdout.count("```mermaid\n") == len(example()) + 1
    assert result.stdout.endswith("  r1 -->|no match| r2\n```\n")
    assert "### web / standard\n" in result.stdout


def test_graph_command_text_format() -> None:
    result = invoke("--format", "text", "--pipeline", "hotfix")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Project web\n\n" + text_tree(example()["hotfix"])


def test_graph_command_unknown_pipeline_is_an_error() -> None:
    result = invoke("--pipeline", "nope")
    assert result.exit_code == 1
    assert "no pipeline 'nope' to draw" in str(result.exception)


def test_graph_command_live_from_the_sandbox(seeded_state: Callable[..., Path]) -> None:
    state = seeded_state({"projects": {"web": {
        "environments": ["test"],
        "pipelines": [
            {"key": "b", "name": "B", "phases": [{"name": "P", "audiences": [
                {"name": "A", "environmentKey": "test"}]}]},
            {"key": "a", "name": "A <x>", "phases": [{"name": "P", "audiences": [
                {"name": "A", "environmentKey": "test"}]}]},
        ],
    }}})
    result = invoke("--live", "--sandbox", str(state), "--project", "web", "--format", "text")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == ["Project web", "", "A <x> (a)"]
    assert "B (b) [project default]" in result.stdout  # the first pipeline created
