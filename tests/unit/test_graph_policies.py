"""Release policies drawn in rank order, the default last, as text and as Mermaid."""

from typing import Any

from reconciler.kinds.policies.graph import ranking_mermaid, ranking_text


def policy(key: str, method: str, environments: list[str], tags: list[str],
           **configs: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "releaseMethod": method,
            "scope": {"environmentKeys": environments, "flagTagKeys": tags}, **configs}


GUARDED = policy("guarded", "guarded-release", ["production"], ["payments"],
                 guardedReleaseConfig={"stages": [
                     {"allocation": 10000, "durationMillis": 3600000},
                     {"allocation": 50000, "durationMillis": 86400000}]})
WIDE = policy("wide", "progressive-release", [], [],
              progressiveReleaseConfig={"stages": [{"allocation": 2500, "durationMillis": 90000}]})
HOUSE = policy("house", "immediate-release", [], [])


def test_text_lists_rank_one_first_and_the_default_last() -> None:
    assert ranking_text([GUARDED, WIDE], HOUSE) == "\n".join([
        "Release policies (the first whose scope matches a flag applies)",
        "1. Guarded (guarded): guarded-release · production · payments · "
        "stages 10% 1h → 50% 1d",
        "2. Wide (wide): progressive-release · every environment · every flag tag · "
        "stages 2.5% 1m30s",
        "default: House (house): immediate-release · every environment · every flag tag",
    ]) + "\n"


def test_mermaid_chains_the_ranking_to_the_default() -> None:
    assert ranking_mermaid("shop", [WIDE, GUARDED], HOUSE) == "\n".join([
        "---",
        'title: "shop: release policies"',
        "---",
        "flowchart TB",
        '  r0["1. Wide (wide)<br>progressive-release<br>every environment #183; every flag tag'
        '<br>stages 2.5% 1m30s"]',
        '  r1["2. Guarded (guarded)<br>guarded-release<br>production #183; payments<br>'
        'stages 10% 1h #8594; 50% 1d"]',
        '  r2["default: House (house)<br>immediate-release<br>every environment #183; '
        'every flag tag"]',
        "  r0 -->|no match| r1",
        "  r1 -->|no match| r2",
    ]) + "\n"


def test_hostile_names_stay_inside_their_label() -> None:
    hostile = {**HOUSE, "name": 'x"]\n  click r0 "javascript:alert(1)'}
    drawn = ranking_mermaid("shop", [hostile], None)
    assert drawn.count("\n") == 5  # title lines, flowchart, one node: no injected line
    assert '"]' not in drawn.split("r0[", 1)[1][:-3]
