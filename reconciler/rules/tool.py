"""The tool's own safety rules, beyond LaunchDarkly's: what refuses a project's plan (a
Refusal) and what blocks one change in it (ActiveReleases). Each is a typed value whose
text (str()) is the reason people read; the planner decides which checks apply."""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.rules.pipelines import MAX_PIPELINES_PER_PROJECT

SAFE_DELETE_MIN_LIVE = 4  # below this many live resources, only "all of them" needs --force


@dataclass(frozen=True)
class EndCountOverCap:
    """The end state would not fit LaunchDarkly's cap, counting unmanaged pipelines kept."""

    final_count: int
    unmanaged_count: int
    cap: int = MAX_PIPELINES_PER_PROJECT

    def __str__(self) -> str:
        return (f"the project would hold {self.final_count} pipelines ({self.unmanaged_count} "
                f"unmanaged kept); LaunchDarkly allows {self.cap}: remove files or set prune")


@dataclass(frozen=True)
class DeletesAll:
    """The plan deletes every live resource of the project, without --force."""

    keys: tuple[str, ...]
    noun: str = "pipelines"

    def __str__(self) -> str:
        return (f"the plan deletes all {len(self.keys)} {self.noun} of the project "
                f"({', '.join(self.keys)}); pass --force to allow it")


@dataclass(frozen=True)
class DeletesOverThreshold:
    """The plan deletes more than --max-delete-percent of the live resources."""

    keys: tuple[str, ...]
    live_count: int
    max_percent: float
    noun: str = "pipelines"

    def __str__(self) -> str:
        return (f"the plan deletes {len(self.keys)} of {self.live_count} {self.noun} (over "
                f"{self.max_percent:g}%: {', '.join(self.keys)}); pass --force to allow it")


@dataclass(frozen=True)
class ProtectedReplace:
    """A protected pipeline whose isLegacy change needs a delete and a create."""

    key: str

    def __str__(self) -> str:
        return f"{self.key!r} is protected but its isLegacy change needs a replacement"


@dataclass(frozen=True)
class DefaultWithoutSuccessor:
    """The live default would be deleted and git names no pipeline to take its place."""

    key: str

    def __str__(self) -> str:
        return (f"{self.key!r} is the project's default and would be deleted; mark the "
                "pipeline that replaces it with isProjectDefault: true")


Refusal = (EndCountOverCap | DeletesAll | DeletesOverThreshold | ProtectedReplace
           | DefaultWithoutSuccessor)


@dataclass(frozen=True)
class ActiveReleases:
    """A change blocked by flags with releases in flight on the pipeline: a removal
    (delete or replace), which LaunchDarkly refuses, or a phase change, which needs
    --allow-active-releases."""

    key: str
    flags: tuple[str, ...]
    removal: bool

    def __str__(self) -> str:
        if self.removal:
            return ("LaunchDarkly refuses to delete a pipeline with active releases; finish "
                    f"or remove the releases of {', '.join(self.flags)} first")
        return ("changing the phases of a pipeline with active releases moves them; pass "
                "--allow-active-releases to do it")


def end_count_refusal(final_count: int, unmanaged_count: int) -> EndCountOverCap | None:
    if final_count <= MAX_PIPELINES_PER_PROJECT:
        return None
    return EndCountOverCap(final_count, unmanaged_count)


def delete_threshold_refusal(removed: Iterable[str], live_count: int, force: bool,
                             max_percent: float, noun: str = "pipelines"
                             ) -> DeletesAll | DeletesOverThreshold | None:
    """octoDNS-style safety: every step that deletes a live resource counts (a delete, and a
    replace, which deletes before it creates). Over `max_percent` of 4 or more resources,
    or all of them, needs --force."""
    keys = tuple(sorted(removed))
    if force or not keys:
        return None
    if len(keys) == live_count:
        return DeletesAll(keys, noun)
    if live_count >= SAFE_DELETE_MIN_LIVE and len(keys) * 100 > max_percent * live_count:
        return DeletesOverThreshold(keys, live_count, max_percent, noun)
    return None


def release_checks(removals: Sequence[str], replaces: Collection[str],
                   rephased: Iterable[str], active: Mapping[str, Sequence[str]],
                   protected: Collection[str], allow_active_releases: bool
                   ) -> tuple[list[ActiveReleases], list[ProtectedReplace]]:
    """The blocks and refusals of the pipelines a plan removes (`removals`, deletes then
    replaces; `replaces` says which are replaces) or re-phases (`rephased`), in that
    order. A blocked replace is not also refused for being protected: it does not run."""
    blocks: list[ActiveReleases] = []
    refusals: list[ProtectedReplace] = []
    for key in removals:
        if (flags := tuple(active.get(key, ()))):
            blocks.append(ActiveReleases(key, flags, removal=True))
        elif key in replaces and key in protected:
            refusals.append(ProtectedReplace(key))
    for key in sorted(rephased):
        if (flags := tuple(active.get(key, ()))) and not allow_active_releases:
            blocks.append(ActiveReleases(key, flags, removal=False))
    return blocks, refusals


def default_successor_refusal(live_default: str | None, deletes: Collection[str],
                              end_default: str | None) -> DefaultWithoutSuccessor | None:
    """The live default may be deleted only when the plan knows who takes its place."""
    if live_default is not None and live_default in deletes and end_default is None:
        return DefaultWithoutSuccessor(live_default)
    return None
