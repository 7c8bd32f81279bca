"""The order of a project's pipeline steps: who holds the project default while the
live default is deleted or replaced (the holders, best first), and the build of one
order per holder, replayed on the rules' model as it goes; the first order the proof
accepts is the plan."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.diff import diff
from reconciler.kinds.pipelines.classify import Classification, with_live_legacy
from reconciler.kinds.pipelines.inputs import DesiredInput, LiveInput
from reconciler.kinds.pipelines.marker import live_marks, marked, without_marks
from reconciler.kinds.pipelines.proof import live_model, verify
from reconciler.normalize import Canonical, carry_ignored, carry_unknown, strip_ignored
from reconciler.plan import Action, Change, PlanOptions, Step
from reconciler.plan.proof import NotDesired
from reconciler.rules import ProjectModel, Rule, RuleViolation


def _create_body(full: Canonical, make_default: bool) -> dict[str, Any]:
    body = {k: v for k, v in full.items() if k != "isLegacy"}
    if full.get("isLegacy") is not None:
        body["isLegacy"] = full["isLegacy"]
    if make_default:
        body["isProjectDefault"] = True
    return body


def _update_body(full: Canonical) -> dict[str, Any]:
    # UpdateReleasePipelineInput: everything but key, isLegacy (and isProjectDefault).
    return {k: v for k, v in full.items() if k not in ("key", "isLegacy")}


def _changes(before: Canonical | None, after: Canonical | None) -> list[Change]:
    return [Change(**c.to_json()) for c in diff(before or {}, after or {})]



@dataclass
class _Builder:
    """Builds steps while replaying them on a ProjectModel, so each choice sees the
    default and the count as they will be at that moment. `live` has its markers stripped:
    what a pipeline ends with never carries one."""

    desired: DesiredInput
    live: LiveInput
    c: Classification
    end_default: str | None
    model: ProjectModel
    steps: list[Step] = field(default_factory=list)
    created: set[str] = field(default_factory=set)

    def _desired_body(self, key: str) -> Canonical:
        """The desired pipeline with live values for what git does not manage: isLegacy
        when omitted, ignored fields by identity."""
        full = with_live_legacy(self.desired.pipelines[key], self.live.pipelines.get(key))
        live = self.live.pipelines.get(key)
        if live is not None:
            full = carry_ignored(full, live, self.desired.settings.ignore)
        return full

    def _sent(self, key: str, full: Canonical) -> Canonical:
        """`full` plus the live fields the models do not manage, by identity: a request
        body never erases what a newer LaunchDarkly knows and this tool does not."""
        live = self.live.pipelines.get(key)
        if live is None:
            return full
        return carry_unknown(full, live, self.live.unknown.get(key, ()))[0]

    def update(self, key: str) -> None:
        full = self._desired_body(key)
        rephased = key in self.c.rephased
        self.model.update(key, full, rephased)
        self.steps.append(Step(
            action=Action.UPDATE, key=key, body=_update_body(self._sent(key, full)),
            phasesChanged=rephased,
            before=self.c.compared_live[key], after=self.c.compared_desired[key],
            changes=_changes(self.c.compared_live[key], self.c.compared_desired[key]),
            reason="live differs from git",
        ))

    def _target(self, key: str) -> tuple[Canonical, Canonical]:
        """What a pipeline ends with, whole and as compared: git's for a managed pipeline,
        live's without a marker for an unmanaged one."""
        if key in self.desired.pipelines:
            return self._desired_body(key), self.c.compared_desired[key]
        full = self.live.pipelines[key]
        return full, strip_ignored(full, self.desired.settings.ignore, full)

    def _compared(self, key: str) -> Canonical:
        """The pipeline as the model has it now, as compared."""
        return strip_ignored(self.model.pipelines[key], self.desired.settings.ignore,
                             self.live.pipelines.get(key))

    def _put(self, key: str, full: Canonical, after: Canonical, reason: str) -> None:
        before = self._compared(key)
        rephased = before.get("phases") != after.get("phases")
        self.model.update(key, after, rephased)
        self.steps.append(Step(
            action=Action.UPDATE, key=key, body=_update_body(self._sent(key, full)),
            phasesChanged=rephased, before=before, after=after, changes=_changes(before, after),
            reason=reason,
        ))

    def mark(self, key: str, parked_for: str) -> None:
        full, after = self._target(key)
        if self._compared(key) == marked(after, parked_for):
            return  # marked by an interrupted run already
        self._put(key, marked(full, parked_for), marked(after, parked_for),
                  f"holds the project default for {parked_for!r} meanwhile: the marker "
                  "tells a re-run where the default belongs")

    def unmark(self, key: str) -> None:
        full, after = self._target(key)
        self._put(key, full, after, "the project default is back: remove the marker")

    def set_default(self, key: str, reason: str) -> None:
        self.model.set_default(key)
        self.steps.append(Step(action=Action.SET_DEFAULT, key=key, reason=reason))

    def delete(self, key: str) -> None:
        self.model.delete(key)
        # Deleted pipelines have no file, so they were never compared: show them whole.
        self.steps.append(Step(action=Action.DELETE, key=key, before=self.live.pipelines[key],
                               reason="no file in git and prune is on"))

    def create(self, key: str, hold_default: bool = False, parked_for: str | None = None) -> None:
        full = self._desired_body(key)
        make_default = hold_default or (key == self.end_default and self.model.default_key != key)
        after = self.c.compared_desired[key]
        if parked_for is not None:
            full, after = marked(full, parked_for), marked(after, parked_for)
        self.model.create(key, after, make_default)
        self.created.add(key)
        self.steps.append(Step(
            action=Action.CREATE, key=key, body=_create_body(full, make_default),
            makeDefault=make_default, after=after, changes=_changes(None, after),
            reason="new file in git",
        ))

    def replace(self, key: str, hold_default: bool = False,
                parked_for: str | None = None) -> None:
        full = self._desired_body(key)
        make_default = hold_default or key == self.end_default
        before, after = self.c.compared_live[key], self.c.compared_desired[key]
        if parked_for is not None:
            full, after = marked(full, parked_for), marked(after, parked_for)
        self.model.delete(key)
        self.model.create(key, after, make_default)
        self.created.add(key)
        self.steps.append(Step(
            action=Action.REPLACE, key=key, body=_create_body(self._sent(key, full), make_default),
            makeDefault=make_default, before=before, after=after,
            changes=_changes(before, after),
            reason="isLegacy is create-only: delete, then create",
        ))


def default_at_end(desired: DesiredInput, live: LiveInput, c: Classification,
                 marks: Mapping[str, str]) -> str | None:
    if desired.default_key is not None:
        return desired.default_key
    # A marker counts while its pipeline holds the default: an interrupted plan parked it.
    parked_for = marks.get(live.default_key) if live.default_key is not None else None
    if parked_for in desired.pipelines:
        return parked_for
    if live.default_key is not None and live.default_key not in c.deletes:
        return live.default_key
    if not live.pipelines:
        # LaunchDarkly makes the first pipeline created the default.
        return c.creates[0] if c.creates else None
    return None


def _holders(desired: DesiredInput, live: LiveInput, c: Classification,
             end_default: str | None, marks: Mapping[str, str]) -> list[str | None]:
    """Who can hold the default while the live default is deleted or replaced, best first:
    the end default itself, a pipeline marked for it already, one that stays (managed
    before unmanaged), one replaced or created earlier, and last one pruned afterwards.
    [None] when the live default stays."""
    old = live.default_key
    doomed = {*c.deletes, *c.replaces}
    if old is None or old not in doomed:
        return [None]
    survivors = [k for k in sorted(live.pipelines) if k not in doomed]
    candidates = [k for k in (end_default,) if k != old and k is not None and (
        k in survivors or k in c.replaces or k in c.creates)]
    candidates += [k for k in survivors if end_default is not None
                   and marks.get(k) == end_default]
    candidates += [k for k in survivors if k in desired.pipelines]
    candidates += [k for k in survivors if k not in desired.pipelines]
    candidates += [k for k in c.replaces if k != old]
    candidates += c.creates
    candidates += [k for k in c.deletes if k != old]
    return list(dict.fromkeys(candidates))


def _build(desired: DesiredInput, live: LiveInput, c: Classification, end_default: str | None,
           active: Mapping[str, Sequence[str]], options: PlanOptions,
           marks: Mapping[str, str], holder: str | None) -> list[Step]:
    """One order: updates, deletes (room first), the default moved to `holder` when the
    live default must go, replaces, creates, the default set, the holder released.
    Raises RuleViolation at the first step that breaks a rule."""
    model = live_model(live, active, desired.settings, options)
    b = _Builder(desired, without_marks(live), c, end_default, model)
    old = live.default_key
    # Parking a default git does not manage: mark the holder, so a re-run can give it back.
    parked_for = end_default if (holder not in (None, end_default)
                                 and desired.default_key is None) else None
    # A marker is removed only once the default is back where it belongs, so that a run
    # interrupted before then still finds it: marked pipelines get their update last.
    deferred = {*marks, holder} if parked_for else set(marks)
    for key in c.updates:
        if key not in deferred:
            b.update(key)
    for key in c.deletes:
        if key not in (old, holder):
            b.delete(key)
    if holder is not None:
        if holder in c.replaces:
            b.replace(holder, hold_default=True, parked_for=parked_for)
        elif holder in c.creates:
            b.create(holder, hold_default=True, parked_for=parked_for)
        else:
            if parked_for is not None:
                b.mark(holder, parked_for)
            b.set_default(holder, f"{old!r} is the default and is about to be removed")
        if old in c.deletes:
            b.delete(old)
    for key in c.replaces:
        if key != holder:
            b.replace(key)
    pending = [k for k in c.creates if k not in b.created]
    if end_default in pending:  # the first pipeline of an empty project becomes its default
        pending.remove(end_default)
        pending.insert(0, end_default)
    for key in pending:
        b.create(key)
    if end_default is not None and model.default_key != end_default:
        b.set_default(end_default, "isProjectDefault: true in git" if desired.default_key
                      else "the default goes back where it was")
    if holder is not None and holder in c.deletes:
        b.delete(holder)
    elif parked_for is not None and holder is not None:
        b.unmark(holder)
    released = {holder} if parked_for else set()
    for key in sorted(marks.keys() - released - {*c.replaces, *c.deletes}):
        if key in c.updates:
            b.update(key)
        else:
            b.unmark(key)  # unmanaged, or its description is ignored
    return b.steps


def order(desired: DesiredInput, live: LiveInput, c: Classification,
           end_default: str | None, active: Mapping[str, Sequence[str]],
           options: PlanOptions, complete: bool) -> list[Step]:
    """The first order, over the possible holders of the default, that the simulator
    proves; raises the last RuleViolation or NotDesired when none is."""
    marks = live_marks(live)
    holders = _holders(desired, live, c, end_default, marks)
    if not holders:
        raise RuleViolation(
            Rule.DEFAULT_DELETE,
            f"cannot remove {live.default_key!r}: it is the default and no other pipeline "
            "can hold the default meanwhile",
        )
    failure: RuleViolation | NotDesired | None = None
    for holder in holders:
        try:
            steps = _build(desired, live, c, end_default, active, options, marks, holder)
            verify(desired, live, c, steps, active, end_default, options, complete)
            return steps
        except (RuleViolation, NotDesired) as violation:
            failure = violation
    assert failure is not None
    raise failure

