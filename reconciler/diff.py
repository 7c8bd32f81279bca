"""Field-level differences between two canonical pipelines.

Equal pipelines cost one comparison. Otherwise the walk descends with plain equality
through dicts and equal-length lists, reports differing scalars directly, and hands
deepdiff only the smallest containers it cannot pair by position (lists whose lengths
differ): its cost then grows with the change, not with the size of the pipeline.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Path = tuple[str | int, ...]


class ChangeKind(StrEnum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class FieldChange:
    path: str  # a JSON pointer into the pipeline, e.g. /phases/0/audiences/1/name
    kind: ChangeKind
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": str(self.kind)}
        if self.kind is not ChangeKind.ADDED:
            out["old"] = self.old
        if self.kind is not ChangeKind.REMOVED:
            out["new"] = self.new
        return out


def pointer(path: Path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _walk(before: Any, after: Any, path: Path, out: list[FieldChange]) -> None:
    """Descend with plain equality; only lists whose lengths differ need deepdiff's
    alignment, and it gets just those lists."""
    if before == after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key, old in before.items():
            if key not in after:
                out.append(FieldChange(pointer((*path, key)), ChangeKind.REMOVED, old=old))
            else:
                _walk(old, after[key], (*path, key), out)
        out.extend(FieldChange(pointer((*path, key)), ChangeKind.ADDED, new=new)
                   for key, new in after.items() if key not in before)
    elif isinstance(before, list) and isinstance(after, list):
        if len(before) == len(after):
            for index, (old, new) in enumerate(zip(before, after, strict=True)):
                _walk(old, new, (*path, index), out)
        else:
            out.extend(_deepdiff(before, after, path))
    else:
        out.append(FieldChange(pointer(path), ChangeKind.CHANGED, old=before, new=after))


def _deepdiff(before: Any, after: Any, base: Path) -> Iterator[FieldChange]:
    # Imported on the first list that needs it (about 30 ms): most plans never get here.
    from deepdiff import DeepDiff

    tree = DeepDiff(before, after, view="tree", verbose_level=2)
    for report_type, items in tree.items():
        for item in items:
            path = pointer((*base, *item.path(output_format="list")))
            if report_type.endswith("_added"):
                yield FieldChange(path, ChangeKind.ADDED, new=item.t2)
            elif report_type.endswith("_removed"):
                yield FieldChange(path, ChangeKind.REMOVED, old=item.t1)
            else:
                yield FieldChange(path, ChangeKind.CHANGED, old=item.t1, new=item.t2)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Changes that turn `before` into `after`, sorted by path."""
    changes: list[FieldChange] = []
    _walk(before, after, (), changes)
    return sorted(changes, key=lambda c: c.path)
