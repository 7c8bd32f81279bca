"""The planner's first pass: what each pipeline needs (create, update, replace, delete,
keep), before any ordering."""

from dataclasses import dataclass, field

from reconciler.kinds.pipelines.inputs import DesiredInput, LiveInput
from reconciler.normalize import Canonical, carry_unknown, located, strip_ignored
from reconciler.plan import NotManaged


@dataclass
class Classification:
    """What each pipeline needs, before ordering: the planner's first pass."""

    creates: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    rephased: set[str] = field(default_factory=set)
    # desired forms with unmanaged isLegacy filled from live, and ignores applied
    compared_desired: dict[str, Canonical] = field(default_factory=dict)
    compared_live: dict[str, Canonical] = field(default_factory=dict)
    not_managed: list[NotManaged] = field(default_factory=list)

    @property
    def needs_progressions(self) -> list[str]:
        """Pipelines whose active releases the plan must know: to be deleted, replaced or
        re-phased. Asking for no others keeps the plan at its lower bound of API calls."""
        return sorted({*self.deletes, *self.replaces, *self.rephased})


def with_live_legacy(desired: Canonical, live: Canonical | None) -> Canonical:
    """An omitted isLegacy is not managed: the live value stands, and a create does not
    send it (LaunchDarkly's default applies), so neither asserts it."""
    if desired.get("isLegacy") is not None:
        return dict(desired)
    if live is None:
        return {k: v for k, v in desired.items() if k != "isLegacy"}
    return {**desired, "isLegacy": bool(live["isLegacy"])}


def classify(desired: DesiredInput, live: LiveInput) -> Classification:
    ignore = desired.settings.ignore
    out = Classification()
    for key, wanted in desired.pipelines.items():
        current = live.pipelines.get(key)
        full = with_live_legacy(wanted, current)
        # Ignored fields are removed only where an object has a counterpart by name.
        want = strip_ignored(full, ignore, current)
        out.compared_desired[key] = want
        if current is None:
            out.creates.append(key)
            continue
        if (unknown := live.unknown.get(key)):
            _, dropped = carry_unknown(full, current, unknown)
            out.not_managed.append(
                NotManaged(key=key, fields=[path for path, _ in located(unknown)],
                           dropped=dropped))
        have = strip_ignored(current, ignore, full)
        out.compared_live[key] = have
        if want == have:
            continue
        if want["isLegacy"] != have["isLegacy"]:
            out.replaces.append(key)
        else:
            out.updates.append(key)
            if want["phases"] != have["phases"]:
                out.rephased.add(key)
    for key in sorted(set(live.pipelines) - set(desired.pipelines)):
        if desired.settings.prune and key not in desired.settings.protected:
            out.deletes.append(key)
        else:
            out.unmanaged.append(key)
    return out


