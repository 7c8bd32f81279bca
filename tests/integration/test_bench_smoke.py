"""A tiny `make bench`: every workload runs end to end, as processes, against a real
`sandbox serve`, and the report comes out whole. Only call counts are checked: they are
exact lower bounds; times are printed, never asserted."""

from pathlib import Path

import pytest

from tests.benchmarks import run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKLOADS = ("plan --help", "a plan of 1 pipeline", "W1 plan, no changes",
             "W1 plan, cache warm", "S1 asyncio + httpx script", "W1 against S1",
             "W1 cache warm against S1", "B1 official client", "W1 against B1",
             "W2 plan, 10% changed", "W3 apply W2's plan", "W4 plan at 50 req/s",
             "W6 apply at 50 req/s", "W7 plan with policies, no changes",
             "W5 plan in process, 30 pipelines",
             "W5 plan in process, 30 pipelines, cache warm", "S5 floor of W5",
             "I0 imports a plan cannot do without")


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table in `text`, by column name."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = cells(lines[0])
    return [dict(zip(header, cells(line), strict=True)) for line in lines[2:]]


def test_a_tiny_bench_reports_every_workload_at_its_lower_bound_of_calls(
        tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    # 3 projects of 10: 3 pipelines changed, one of them inside `phases`.
    code = run.main(["--runs", "1", "--projects", "3", "--pipelines", "10",
                     "--cpu-projects", "3", "--latency-ms", "5", "--out", str(out)])
    assert code == 0
    report = out.read_text()
    rows = table(report.split("## Gaps")[0])
    assert {row["Workload"] for row in rows} == set(WORKLOADS)
    counted = {row["Workload"]: row for row in rows if "API calls" in row["Figure"]}
    assert counted["W1 plan, no changes"]["Measured"] == "3"
    assert counted["W1 plan, cache warm"]["Measured"] == "3"
    assert counted["S1 asyncio + httpx script"]["Measured"] == "3"
    assert counted["B1 official client"]["Measured"] == "3"
    assert counted["W2 plan, 10% changed"]["Measured"] == "4"  # + 1 progressions call
    assert counted["W3 apply W2's plan"]["Measured"] == "7"  # re-plan 4 + 3 PUTs
    assert counted["W4 plan at 50 req/s"]["Measured"].startswith("3 ")
    assert counted["W6 apply at 50 req/s"]["Measured"] == "7"
    assert counted["W7 plan with policies, no changes"]["Measured"] == "6"  # 3 x 2 kinds
    throttled = {row["Workload"]: row for row in rows if row["Figure"] == "429 answers"}
    assert throttled["W6 apply at 50 req/s"]["Measured"] == "0 of 7 requests"
    assert all(row["Ratio"] == "1.00" and row["Met"] == "yes" for row in counted.values())
    assert "## Gaps" in report
    assert "| reading YAML |" in report
