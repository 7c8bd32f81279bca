"""SIGKILL at a random step of a 50-step apply, then run again: 20 seeds.

Each seed draws its own three projects whose plan has exactly 50 steps (a full project
churning at the 20 cap with prune, a protected pipeline, replaces and a moved default; an
empty project bootstrapped with a default that is not its first pipeline; a project with
unmanaged pipelines and no prune), starts `apply --yes` on them and kills it with SIGKILL
once a random number of its mutations have landed. Ten seeds share a sandbox and run side
by side, each on its own projects. Every seed must really be killed (SIGKILL delivered to
a running apply, which dies of it); then the plan saved before any of it must be refused
as stale, and one more apply must converge everything.
"""

import json
import random
import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import base_seed, pipeline, project, wait_for

pytestmark = pytest.mark.integration

STEPS = 50
SEEDS_PER_TEST = 10  # two tests, so that `pytest -n 2` runs them side by side
LATENCY_MS = "20"  # every request is in flight long enough to be killed mid-way
WIDE = ("--concurrency", "32")  # the runs over every project: the latency is not the point
# The full project deletes and replaces up to 8 of its 20 pipelines: over the threshold.
FORCE = "--force"
# Mutations still to send when the kill is due: with 20 ms each, in at most three projects
# side by side, an apply cannot finish in the moment between seeing the cue and the kill.
LEFT_AT_KILL = 10


Body = dict[str, Any]


@dataclass
class Scenario:
    seed: int
    live: dict[str, Body]  # fixture projects by key
    desired: dict[str, tuple[list[Body], Body]]  # project key -> (pipeline files, settings)
    kill_after: int  # mutations landed before the SIGKILL


def _full_project(rng: random.Random) -> tuple[Body, list[Body], Body, int]:
    """At the cap, with prune: deletes that free room before creates, replaces (isLegacy
    flips), updates, a protected pipeline, and a default that moves or whose pipeline goes."""
    live_keys = [f"f{i:02}" for i in range(20)]
    protected = rng.choice(live_keys[1:])
    others = [k for k in live_keys[1:] if k != protected]
    rng.shuffle(others)
    deletes = others[: rng.randint(2, 5)]
    replaces = others[len(deletes): len(deletes) + rng.randint(0, 2)]
    survivors = [k for k in others if k not in deletes + replaces]
    updates = rng.sample(survivors, rng.randint(3, 8))
    creates = [f"c{i:02}" for i in range(len(deletes))]
    extra = 0
    shape = rng.choice(["delete-default-for-new", "delete-default-for-old", "move-default",
                        "replace-default", "keep-default"])
    if shape.startswith("delete-default"):
        deletes.append("f00")
        creates.append(f"c{len(creates):02}")
        new_default = creates[-1] if shape.endswith("new") else rng.choice(survivors)
        extra = 0 if shape.endswith("new") else 1  # set-default before the delete
    elif shape == "move-default":
        new_default, extra = rng.choice(survivors), 1
    elif shape == "replace-default":
        replaces.append("f00")  # the default moves away and back: one set-default
        new_default, extra = "f00", 1
    else:
        new_default = "f00"
    files = []
    for k in live_keys:
        if k in deletes:
            continue
        body = pipeline(k, name=f"Changed {k}" if k in updates else None,
                        phases=2 if k in updates and rng.random() < 0.5 else 1)
        if k in replaces:
            body["isLegacy"] = True
        files.append(body)
    files += [pipeline(k, env="production") for k in creates]
    for body in files:
        if body["key"] == new_default:
            body["isProjectDefault"] = True
    live = project([pipeline(k) for k in live_keys], default="f00")
    settings = {"prune": True, "protected": [protected]}
    steps = len(updates) + len(replaces) + len(deletes) + len(creates) + extra
    return live, files, settings, steps


def _keep_project(rng: random.Random) -> tuple[Body, list[Body], int]:
    """No prune: unmanaged pipelines stay whatever happens; updates and creates."""
    live_keys = [f"k{i:02}" for i in range(rng.randint(8, 14))]
    unmanaged = set(rng.sample(live_keys[1:], rng.randint(1, 3)))
    managed = [k for k in live_keys if k not in unmanaged]
    updates = set(rng.sample(managed, rng.randint(1, len(managed))))
    creates = [f"n{i:02}" for i in range(rng.randint(0, 20 - len(live_keys)))]
    files = [pipeline(k, name=f"Changed {k}" if k in updates else None) for k in managed]
    files += [pipeline(k) for k in creates]
    return (project([pipeline(k) for k in live_keys], default=live_keys[0]), files,
            len(updates) + len(creates))


def scenario(seed: int) -> Scenario:
    rng = random.Random(base_seed() * 10_000 + seed)
    prefix = f"s{seed:02}"
    while True:
        full_live, full_files, full_settings, full_steps = _full_project(rng)
        keep_live, keep_files, keep_steps = _keep_project(rng)
        boot_count = STEPS - full_steps - keep_steps
        if 1 <= boot_count <= 20:
            break
    boot_files = [pipeline(f"b{i:02}") for i in range(boot_count)]
    rng.choice(boot_files)["isProjectDefault"] = True  # not necessarily the first created
    replaces = sum(1 for body in full_files if body.get("isLegacy"))
    return Scenario(
        seed=seed,
        live={f"{prefix}-full": full_live, f"{prefix}-keep": keep_live,
              f"{prefix}-boot": project([])},
        desired={f"{prefix}-full": (full_files, full_settings),
                 f"{prefix}-keep": (keep_files, {}),
                 f"{prefix}-boot": (boot_files, {})},
        kill_after=rng.randint(1, STEPS + replaces - LEFT_AT_KILL),
    )


def _selection(s: Scenario) -> list[str]:
    return [arg for key in sorted(s.desired) for arg in ("--project", key)]


@pytest.mark.parametrize("first_seed", [0, SEEDS_PER_TEST])
def test_sigkill_mid_apply_then_apply_again_converges(workspace, tmp_path: Path,
                                                      first_seed: int) -> None:
    scenarios = [scenario(s) for s in range(first_seed, first_seed + SEEDS_PER_TEST)]
    fixture = {"projects": {k: v for s in scenarios for k, v in s.live.items()}}
    ws = workspace(fixture, "--latency-ms", LATENCY_MS)
    for s in scenarios:
        for key, (files, settings) in s.desired.items():
            ws.write(key, files, settings)
    saved = tmp_path / "plan.json"
    assert ws.run("plan", "--out", str(saved), FORCE, *WIDE).returncode == 0
    planned = {p["project"]: len(p["steps"]) for p in json.loads(saved.read_text())["projects"]}
    for s in scenarios:
        assert sum(planned[k] for k in s.desired) == STEPS, s.seed

    # The seeds run side by side, each on its own projects; each is killed on its own cue.
    running = {s.seed: (s, ws.cli.start("apply", "--yes", FORCE, *_selection(s),
                                        name=f"kill-{s.seed}"))
               for s in scenarios}

    def kill_due() -> bool:
        landed = Counter(r.project for r in ws.log() if r.mutation)
        for seed, (s, run) in list(running.items()):
            if sum(landed[k] for k in s.desired) >= s.kill_after or run.process.poll() is not None:
                sent = run.kill()
                killed = run.wait()
                # An apply that ended on its own (finished or failed) was never killed.
                assert sent and killed.returncode == -signal.SIGKILL, (seed, killed.stderr)
                del running[seed]
        return not running

    wait_for(kill_due, 120, "every seed's kill")

    # (A killed run's last requests may still be landing: that a refused run sends nothing
    # is checked where nothing else is in flight, in test_reliability_concurrency.)
    stale = ws.run("apply", str(saved), *WIDE)
    assert stale.returncode == 1 and "plan is stale" in stale.stderr
    ws.converge(FORCE, *WIDE)
    ws.check_invariants()
