"""The planner: a pure function of desired state, live state and options -> Plan.

No I/O here. The caller fetches live pipelines, asks `classify(...).needs_progressions`
which pipelines need their active releases looked up, fetches those, and calls
`plan_project`.
Every plan is proven before it is returned: `simulate` replays its steps over the live
snapshot under `reconciler.rules` and checks that the end state is the desired state.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler import __version__, rules
from reconciler.default_marker import read_marker, with_marker
from reconciler.diff import diff
from reconciler.manifest.models import ProjectSettings
from reconciler.normalize import (
    Canonical,
    UnknownField,
    carry_ignored,
    carry_unknown,
    located,
    strip_ignored,
)
from reconciler.rules import ProjectModel, Rule, RuleViolation

FORMAT_VERSION = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SET_DEFAULT = "set-default"


class ValueObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(ValueObject):
    """One field that differs: a JSON pointer into the pipeline, with live and git values."""

    path: str
    kind: str = Field(description="changed, added or removed")
    old: Any = None
    new: Any = None


class Step(ValueObject):
    action: Action
    key: str = Field(description="The release pipeline key")
    body: dict[str, Any] | None = Field(
        default=None, description="The request body sent by create, update and replace"
    )
    makeDefault: bool = Field(default=False, description="create: isProjectDefault is sent")
    phasesChanged: bool = False
    before: dict[str, Any] | None = Field(default=None, description="Live, canonical form")
    after: dict[str, Any] | None = Field(default=None, description="Desired, canonical form")
    changes: list[Change] = Field(default_factory=list)
    reason: str = Field(default="", description="Why this step is needed, for humans")


class Blocked(ValueObject):
    key: str
    action: Action
    reason: str
    flags: list[str] = Field(default_factory=list, description="Flags with active releases")


class ReadFailure(ValueObject):
    """Why a project's live state could not be read; such a project is not planned."""

    folder: str = Field(description="The project's folder, as pipelines/<key>/")
    reason: str = Field(description="The route and the status or reason that failed")


class NotManaged(ValueObject):
    """Fields of a live pipeline that the models do not manage: never compared, kept."""

    key: str
    fields: list[str] = Field(description="JSON pointers into the live pipeline")
    dropped: list[str] = Field(
        default_factory=list,
        description="Of those, the ones the step drops: their phase or audience is removed "
                    "or renamed in git",
    )


class ProjectPlan(ValueObject):
    project: str
    fingerprint: str = Field(description="sha256 of the live project's canonical form")
    liveCount: int
    desiredCount: int
    steps: list[Step] = Field(default_factory=list)
    unmanaged: list[str] = Field(
        default_factory=list, description="Live pipelines with no file, kept (prune is off)"
    )
    protected: list[str] = Field(
        default_factory=list, description="The project's protected pipeline keys (settings)"
    )
    blocked: list[Blocked] = Field(default_factory=list)
    refusals: list[str] = Field(
        default_factory=list, description="Why this project's steps must not run"
    )
    defaultBefore: str | None = None
    defaultAfter: str | None = None
    ignore: list[str] = Field(
        default_factory=list, description="Ignore pointers, applied when checking responses"
    )
    failure: ReadFailure | None = Field(
        default=None, description="Set when live could not be read: nothing else is known"
    )
    notManaged: list[NotManaged] = Field(
        default_factory=list, description="Per pipeline in git, the live fields git cannot name"
    )

    @property
    def applicable(self) -> bool:
        return not self.blocked and not self.refusals and self.failure is None

    def refused(self, reasons: Sequence[str]) -> "ProjectPlan":
        """This plan with more refusals: still shown whole, no longer applicable."""
        return self.model_copy(update={"refusals": [*self.refusals, *reasons]})


class PlanOptions(ValueObject):
    force: bool = False
    allowActiveReleases: bool = False
    maxDeletePercent: float = 30.0


class Plan(ValueObject):
    formatVersion: int = FORMAT_VERSION
    tool: str = f"reconciler {__version__}"
    digest: str = Field(description="sha256 over the live fingerprints and the steps")
    options: PlanOptions = Field(default_factory=PlanOptions)
    projects: list[ProjectPlan] = Field(default_factory=list)

    @property
    def step_count(self) -> int:
        return sum(len(p.steps) for p in self.projects)

    @property
    def has_changes(self) -> bool:
        return self.step_count > 0 or any(p.blocked for p in self.projects)

    @property
    def applicable(self) -> bool:
        return all(p.applicable for p in self.projects)

    @property
    def failed(self) -> list[ProjectPlan]:
        """Projects whose live state could not be read."""
        return [p for p in self.projects if p.failure is not None]


# --- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiredInput:
    """One project's desired state, already canonical."""

    pipelines: Mapping[str, Canonical]  # by key, in file order
    default_key: str | None  # the pipeline with isProjectDefault: true, if any
    settings: ProjectSettings = field(default_factory=ProjectSettings)


@dataclass(frozen=True)
class LiveInput:
    """One project's live state, canonical (see normalize.canonical_live)."""

    pipelines: Mapping[str, Canonical]
    default_key: str | None
    # Per pipeline, the fields LaunchDarkly returned that the models do not manage
    # (normalize.unknown_fields); pipelines without any are left out.
    unknown: Mapping[str, Sequence[UnknownField]] = field(default_factory=dict)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def fingerprint(live: LiveInput) -> str:
    state: dict[str, Any] = {"pipelines": dict(live.pipelines), "default": live.default_key}
    if live.unknown:  # only then, so fingerprints of pipelines without any stay as they were
        state["unknown"] = {key: located(fields) for key, fields in live.unknown.items()}
    return sha256(state)


def plan_digest(projects: Iterable[ProjectPlan]) -> str:
    """sha256 over each project's live fingerprint and steps. Steps are hashed in
    pydantic's JSON form: fixed field order, bodies in the planner's own order."""
    digest = hashlib.sha256()
    for project in projects:
        digest.update(canonical_json([project.project, project.fingerprint]).encode())
        for step in project.steps:
            digest.update(step.model_dump_json().encode())
    return digest.hexdigest()


# --- classification ---------------------------------------------------------------------


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


def _with_live_legacy(desired: Canonical, live: Canonical | None) -> Canonical:
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
        full = _with_live_legacy(wanted, current)
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




# --- step building ----------------------------------------------------------------------


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


def _marked(form: Canonical, key: str) -> Canonical:
    """`form` with the marker that records the default parked for `key` (if the description
    is compared at all: an ignored description is not)."""
    if "description" not in form:
        return dict(form)
    return {**form, "description": with_marker(form["description"], key)}


def live_marks(live: LiveInput) -> dict[str, str]:
    """Live pipelines carrying a marker, and the key each marker names."""
    marks = {}
    for key, form in live.pipelines.items():
        _, parked_for = read_marker(form.get("description") or "")
        if parked_for is not None:
            marks[key] = parked_for
    return marks


def without_marks(live: LiveInput) -> LiveInput:
    """Live as the user left it: markers stripped from the descriptions."""
    forms = {key: {**form, "description": read_marker(form.get("description") or "")[0]}
             for key, form in live.pipelines.items()}
    return LiveInput(forms, live.default_key, live.unknown)


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
        full = _with_live_legacy(self.desired.pipelines[key], self.live.pipelines.get(key))
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
        if self._compared(key) == _marked(after, parked_for):
            return  # marked by an interrupted run already
        self._put(key, _marked(full, parked_for), _marked(after, parked_for),
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
            full, after = _marked(full, parked_for), _marked(after, parked_for)
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
            full, after = _marked(full, parked_for), _marked(after, parked_for)
        self.model.delete(key)
        self.model.create(key, after, make_default)
        self.created.add(key)
        self.steps.append(Step(
            action=Action.REPLACE, key=key, body=_create_body(self._sent(key, full), make_default),
            makeDefault=make_default, before=before, after=after,
            changes=_changes(before, after),
            reason="isLegacy is create-only: delete, then create",
        ))


def _end_default(desired: DesiredInput, live: LiveInput, c: Classification,
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
    model = ProjectModel(
        pipelines=dict(live.pipelines), default_key=live.default_key, active=active,
        protected=desired.settings.protected, allow_active_releases=options.allowActiveReleases,
    )
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


def _order(desired: DesiredInput, live: LiveInput, c: Classification,
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
            _verify(desired, live, c, steps, active, end_default, options, complete)
            return steps
        except (RuleViolation, NotDesired) as violation:
            failure = violation
    assert failure is not None
    raise failure


# --- the proof ---------------------------------------------------------------------------


def simulate(live: LiveInput, steps: Sequence[Step], active: Mapping[str, Sequence[str]],
             settings: ProjectSettings, options: PlanOptions) -> ProjectModel:
    """Replay `steps` over the live snapshot under the rules; raises RuleViolation."""
    model = ProjectModel(
        pipelines=dict(live.pipelines), default_key=live.default_key, active=active,
        protected=settings.protected, allow_active_releases=options.allowActiveReleases,
    )
    for step in steps:
        if step.action is Action.CREATE:
            model.create(step.key, step.after, step.makeDefault)
        elif step.action is Action.UPDATE:
            model.update(step.key, step.after, step.phasesChanged)
        elif step.action is Action.REPLACE:
            model.delete(step.key)
            model.create(step.key, step.after, step.makeDefault)
        elif step.action is Action.DELETE:
            model.delete(step.key)
        else:
            model.set_default(step.key)
    return model


class NotDesired(Exception):
    """The simulated end state differs from the desired state: a planner defect, refused."""


def _verify(desired: DesiredInput, live: LiveInput, c: Classification, steps: Sequence[Step],
            active: Mapping[str, Sequence[str]], end_default: str | None,
            options: PlanOptions, complete: bool) -> None:
    model = simulate(live, steps, active, desired.settings, options)
    if not complete:
        return  # blocked steps were left out: the rules still held at every step
    ignore = desired.settings.ignore
    kept = without_marks(live).pipelines  # unmanaged pipelines end as the user left them
    expected = {**{k: strip_ignored(v, ignore, v) for k, v in kept.items()
                   if k in c.unmanaged}, **c.compared_desired}
    reached = {k: strip_ignored(v, ignore, live.pipelines.get(k))
               for k, v in model.pipelines.items()}
    if reached != expected:
        wrong = sorted(k for k in {*reached, *expected} if reached.get(k) != expected.get(k))
        raise NotDesired(f"the plan does not reach the desired state for {', '.join(wrong)}")
    if end_default is not None and model.default_key != end_default:
        raise NotDesired(f"the plan ends with default {model.default_key!r}, not {end_default!r}")


# --- the planner --------------------------------------------------------------------------


def plan_project(project: str, desired: DesiredInput, live: LiveInput,
                 active: Mapping[str, Sequence[str]], options: PlanOptions,
                 classified: Classification | None = None) -> ProjectPlan:
    """Plan one project. `active` maps pipeline keys to flags with active releases, for (at
    least) the keys `classify(...).needs_progressions` names; pass that classification as
    `classified` to not compute it twice."""
    # A shallow copy: the lists below are rebound, never changed in place.
    c = replace(classified) if classified is not None else classify(desired, live)
    refusals: list[str] = []
    blocked: list[Blocked] = []

    for key in list(c.deletes) + list(c.replaces):
        flags = list(active.get(key, ()))
        action = Action.DELETE if key in c.deletes else Action.REPLACE
        if (reason := rules.removal_block(flags)):
            blocked.append(Blocked(key=key, action=action, flags=flags, reason=reason))
        elif action is Action.REPLACE and (
                refusal := rules.protected_replace_refusal(key, desired.settings.protected)):
            refusals.append(refusal)
    for key in sorted(c.rephased):
        flags = list(active.get(key, ()))
        if (reason := rules.rephase_block(flags, options.allowActiveReleases)):
            blocked.append(Blocked(key=key, action=Action.UPDATE, flags=flags, reason=reason))
    blocked_keys = {b.key for b in blocked}
    c.deletes = [k for k in c.deletes if k not in blocked_keys]
    c.replaces = [k for k in c.replaces if k not in blocked_keys]
    c.updates = [k for k in c.updates if k not in blocked_keys]
    # A blocked delete leaves its pipeline in place, like an unmanaged one.
    kept = [b.key for b in blocked if b.action is Action.DELETE]
    c.unmanaged = sorted({*c.unmanaged, *kept})

    end_default = _end_default(desired, live, c, live_marks(live))
    if live.default_key in c.deletes and end_default is None:
        refusals.append(f"{live.default_key!r} is the project's default and would be deleted; "
                        "mark the pipeline that replaces it with isProjectDefault: true")
    final_count = len(desired.pipelines) + len(c.unmanaged)
    if (refusal := rules.end_count_refusal(final_count, len(c.unmanaged))):
        refusals.append(refusal)
    if (refusal := rules.delete_threshold_refusal(
            [*c.deletes, *c.replaces], len(live.pipelines), options.force,
            options.maxDeletePercent)):
        refusals.append(refusal)

    steps: list[Step] = []
    if not refusals:
        try:
            steps = _order(desired, live, c, end_default, active, options, not blocked)
        except (RuleViolation, NotDesired) as violation:
            refusals.append(f"no safe order exists: {violation}")
    return ProjectPlan(
        project=project, fingerprint=fingerprint(live), liveCount=len(live.pipelines),
        desiredCount=len(desired.pipelines), steps=steps, unmanaged=c.unmanaged,
        protected=sorted(desired.settings.protected),
        blocked=blocked, refusals=refusals, defaultBefore=live.default_key,
        defaultAfter=end_default if steps else live.default_key,
        ignore=list(desired.settings.ignore), notManaged=c.not_managed,
    )


def unread_project(project: str, desired_count: int, failure: ReadFailure) -> ProjectPlan:
    """The plan of a project whose live state could not be read: no steps, not applicable."""
    return ProjectPlan(project=project, fingerprint="", liveCount=0,
                       desiredCount=desired_count, failure=failure)


def assemble(projects: Sequence[ProjectPlan], options: PlanOptions) -> Plan:
    ordered = sorted(projects, key=lambda p: p.project)
    return Plan(digest=plan_digest(ordered), options=options, projects=ordered)
