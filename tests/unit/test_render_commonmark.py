"""The Markdown renderings as GitHub shows them: rendered by a CommonMark parser with GFM
tables, then read back as the text a person sees. Checking the source alone missed a
backslash that CommonMark keeps inside an HTML block."""

from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt

from reconciler.diff import diff
from reconciler.normalize import Canonical, canonical
from reconciler.plan import Action, Blocked, Change, Plan, ProjectPlan, Step, plan_digest
from reconciler.render import render_drift_markdown, render_markdown

HOSTILE_PROJECT = "we|b*_<i>x</i>`~"
HOSTILE_KEY = "st|d*<b>`x`</b>_~#"
HOSTILE_NAME = "a | b *c* <i>d</i> `e` [f](g) ~~h~~"


class Seen(HTMLParser):
    """What a browser shows: every text (but a Mermaid diagram's source, which GitHub draws),
    the <summary> texts, and each table's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.summaries: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.open: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        self.open.append("mermaid" if ("class", "language-mermaid") in attrs else tag)
        if tag == "summary":
            self.summaries.append("")
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] in (tag, "mermaid"), (self.open, tag)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "mermaid" in self.open:
            return
        self.text.append(data)
        if "summary" in self.open:
            self.summaries[-1] += data
        if "td" in self.open or "th" in self.open:
            self.tables[-1][-1][-1] += data


def seen(markdown: str) -> Seen:
    parser = Seen()
    parser.feed(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown))
    parser.close()
    assert not parser.open, f"unclosed tags: {parser.open}"
    return parser


def form(name: str, audience: str = "QA") -> Canonical:
    return {**canonical({"key": "p", "name": name, "phases": [
        {"name": "Testing", "audiences": [{"name": audience, "environmentKey": "test"}]}]}),
        "isLegacy": False}


def hostile_plan() -> Plan:
    changes = [Change(**c.to_json()) for c in diff(form("Std"), form(HOSTILE_NAME))]
    steps = [
        Step(action=Action.UPDATE, key=HOSTILE_KEY, before=form("Std"),
             after=form(HOSTILE_NAME), changes=changes, reason=f"because {HOSTILE_NAME}"),
        Step(action=Action.SET_DEFAULT, key=HOSTILE_KEY, reason="isProjectDefault: true"),
    ]
    project = ProjectPlan(
        project=HOSTILE_PROJECT, fingerprint="f" * 64, liveCount=2, desiredCount=2,
        steps=steps, unmanaged=[HOSTILE_KEY + "2"], defaultBefore="x", defaultAfter=HOSTILE_KEY,
        blocked=[Blocked(key="busy", action=Action.UPDATE, reason="releases in flight",
                         flags=[HOSTILE_NAME])])
    return Plan(digest=plan_digest([project]), projects=[project])


def test_plan_comment_renders_literally() -> None:
    page = seen(render_markdown(hostile_plan()))
    shown = "".join(page.text)
    assert "\\" not in shown  # no value holds a backslash, so none may show
    assert page.summaries == [f"~ update {HOSTILE_KEY}: because {HOSTILE_NAME}"]
    assert page.tags.count("details") == 1 and "pre" in page.tags
    assert f"* set-default {HOSTILE_KEY}: isProjectDefault: true" in shown
    assert f"+ /name: {HOSTILE_NAME!r}".replace("'", '"') in shown  # inside the diff fence
    assert f"Not in git, kept: {HOSTILE_KEY}2 (prune is off)" in shown
    assert f"flags in flight: {HOSTILE_NAME}" in shown
    assert "<i>" not in page.tags and "b" in page.tags  # only the tool's own tags are tags


def test_plan_comment_table_is_a_table() -> None:
    page = seen(render_markdown(hostile_plan()))
    assert page.tables == [[
        ["project", "create", "update", "replace", "delete", "default", "blocked"],
        [HOSTILE_PROJECT, "0", "1", "0", "0", "1", "1"],
    ]]


def test_drift_report_renders_literally() -> None:
    page = seen(render_drift_markdown(hostile_plan()))
    shown = "".join(page.text)
    assert "\\" not in shown
    assert page.tables[0] == [
        ["project", "pipeline", "drift"],
        # One row per pipeline: the update and the set-default of one pipeline are one row.
        [HOSTILE_PROJECT, HOSTILE_KEY,
         "1 difference; should be the project default (live default: x)"],
        [HOSTILE_PROJECT, "busy", f"differs, but update is blocked (flags in flight: "
                                  f"{HOSTILE_NAME})"],
    ]
    assert page.tables[1] == [["field", "live", "git"],
                              ["/name", '"Std"', f'"{HOSTILE_NAME}"']]
    assert page.summaries == [f"{HOSTILE_PROJECT} / {HOSTILE_KEY}: 1 difference"]
    assert shown.startswith("Live release pipelines differ from git\n2 pipelines in 1 project "
                            "differ from git")
