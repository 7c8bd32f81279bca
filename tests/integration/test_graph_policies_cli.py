"""`graph` draws a project's release policies in rank order, the default last: live (the
sandbox's ranking) and from git (policyOrder), in both formats."""

import subprocess
import sys
from pathlib import Path

from reconciler.sandbox import seed_state

LIVE = {"projects": {"shop": {
    "environments": ["production"],
    "defaultPolicy": {"key": "house", "name": "House", "releaseMethod": "immediate-release"},
    "policies": [  # rank 1 first
        {"key": "zeta", "name": "Zeta", "releaseMethod": "immediate-release",
         "scope": {"flagTagKeys": ["z"]}},
        {"key": "alpha", "name": "Alpha", "releaseMethod": "immediate-release"},
    ],
}}}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_live_policies_in_rank_order_then_the_default(tmp_path: Path) -> None:
    seed_state(tmp_path / "state.json", LIVE)
    drawn = cli("graph", "--live", "--sandbox", "state.json", "--project", "shop",
                "--format", "text", cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout == "\n".join([
        "Project shop",
        "",
        "Release policies (the first whose scope matches a flag applies)",
        "1. Zeta (zeta): immediate-release · every environment · z",
        "2. Alpha (alpha): immediate-release · every environment · every flag tag",
        "default: House (house): immediate-release · every environment · every flag tag",
    ]) + "\n"
    mermaid = cli("graph", "--live", "--sandbox", "state.json", "--project", "shop",
                  cwd=tmp_path)
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.index('r0["1. Zeta') < mermaid.stdout.index('r1["2. Alpha') \
        < mermaid.stdout.index('r2["default: House')


def test_policies_from_git_follow_policy_order(tmp_path: Path) -> None:
    folder = tmp_path / "pipelines/shop/release-policies"
    folder.mkdir(parents=True)
    for key in ("alpha", "zeta"):
        (folder / f"{key}.yaml").write_text(
            f"key: {key}\nname: {key.title()}\nreleaseMethod: immediate-release\n")
    (tmp_path / "pipelines/shop/_project.yaml").write_text("policyOrder: [zeta, alpha]\n")
    drawn = cli("graph", "--format", "text", cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.splitlines()[-2:] == [
        "1. Zeta (zeta): immediate-release · every environment · every flag tag",
        "2. Alpha (alpha): immediate-release · every environment · every flag tag",
    ]


def test_policies_alone_or_a_clear_line(tmp_path: Path) -> None:
    seed_state(tmp_path / "state.json", LIVE)
    live = ("graph", "--live", "--sandbox", "state.json", "--project", "shop", "--policies")
    drawn = cli(*live, cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.startswith("---\ntitle: \"shop: release policies\"\n---\n")
    both = cli(*live, "--pipeline", "std", cwd=tmp_path)
    assert (both.returncode, both.stderr) == (
        1, "error: --pipeline and --policies draw different things: give one\n")
    (tmp_path / "pipelines/shop").mkdir(parents=True)
    (tmp_path / "pipelines/shop/std.yaml").write_text(
        "key: std\nname: Std\nphases:\n  - name: P\n    audiences:\n"
        "      - {name: A, environmentKey: production}\n")
    none = cli("graph", "--policies", cwd=tmp_path)
    assert (none.returncode, none.stderr) == (
        1, "error: no release policy to draw in pipelines\n")
