"""The emulated release policies of a project: records, operations and response bodies.

A project record may hold (both absent until a policy is created, so older state files
and fixtures without policies read as before):
    policies: {policyKey: policy record}, the scoped policies in rank order (rank 1 first)
    defaultPolicy: policy record or None: the project's default policy, outside the ranking
A policy record is the validated request body (key, name, releaseMethod, scope?,
guardedReleaseConfig?, progressiveReleaseConfig?) plus its `_id`. Ranks are not stored:
a policy's rank is its position, so they stay 1..n through creates, deletes and orders.

As in projects.py, every operation checks everything before it changes anything.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import rules
from reconciler.sandbox.projects import Project

Policy = dict[str, Any]
Body = dict[str, Any]

# How a listing marks the default policy, which LaunchDarkly does not document: `field`
# adds `isDefault: true` (and ranks it after the scoped ones), `rank0` gives it rank 0,
# `hidden` leaves it out of every listing (a read by key still finds it, with rank 0).
FIELD, RANK0, HIDDEN = "field", "rank0", "hidden"
DEFAULT_MARKERS = (FIELD, RANK0, HIDDEN)


def scoped(project: Project) -> dict[str, Policy]:
    found: dict[str, Policy] = project.get("policies", {})
    return found


def default_policy(project: Project) -> Policy | None:
    found: Policy | None = project.get("defaultPolicy")
    return found


def _default_key(project: Project) -> str | None:
    default = default_policy(project)
    return None if default is None else default["key"]


def find(project: Project, key: str) -> Policy:
    """The scoped or default policy `key`."""
    default = default_policy(project)
    if default is not None and default["key"] == key:
        return default
    rules.check_policy_exists(key in scoped(project), key)
    return scoped(project)[key]


def _record(body: Mapping[str, Any], key: str) -> Policy:
    return {"key": key, **{name: value for name, value in body.items() if name != "key"},
            "_id": str(uuid.uuid4())}


def create_policy(project: Project, body: Mapping[str, Any]) -> Policy:
    """POST: `body` is a validated PostReleasePolicyRequest; the policy ranks last."""
    key = body["key"]
    rules.check_policy_create(key in scoped(project) or key == _default_key(project), key)
    order = rules.rank_after_create(list(scoped(project)), key)
    policies = {**scoped(project), key: _record(body, key)}
    project["policies"] = {name: policies[name] for name in order}
    return policies[key]


def set_default_policy(project: Project, body: Mapping[str, Any]) -> Policy:
    """A fixture's default policy (no route creates one): `body` is a
    PostReleasePolicyRequest whose key no scoped policy has."""
    key = body["key"]
    rules.check_policy_create(key in scoped(project), key)
    record = _record(body, key)
    project["defaultPolicy"] = record
    return record


def replace_policy(project: Project, key: str, body: Mapping[str, Any]) -> Policy:
    """PUT: a full replacement (an omitted scope or config is cleared); key, `_id` and
    rank stay."""
    record = find(project, key)
    replaced = {"key": key, **body, "_id": record["_id"]}
    record.clear()
    record.update(replaced)
    return record


def delete_policy(project: Project, key: str) -> None:
    find(project, key)
    rules.check_policy_delete(key, _default_key(project))
    del project["policies"][key]


def order_policies(project: Project, keys: Sequence[str]) -> None:
    rules.check_policy_order(keys, list(scoped(project)), _default_key(project))
    policies = scoped(project)
    project["policies"] = {key: policies[key] for key in keys}


def _access() -> Body:
    # The sandbox has no roles: nothing is denied, and no allow reasons are listed.
    return {"denied": [], "allowed": []}


def representation(project: Project, record: Policy, marker: str) -> Body:
    """A ReleasePolicy: the record with its rank and `_access`, the default marked the
    `marker` way."""
    out: Body = {**record, "_access": _access()}
    keys = list(scoped(project))
    if record["key"] in keys:
        out["rank"] = keys.index(record["key"]) + 1
    elif marker == FIELD:
        out.update(rank=len(keys) + 1, isDefault=True)
    else:
        out["rank"] = 0
    return out


def listing(project: Project, exclude_default: bool, marker: str) -> Body:
    """A ReleasePoliciesResponse: the scoped policies by rank, and the default where the
    marker puts it (first with rank 0, last with `isDefault`)."""
    items = [representation(project, record, marker) for record in scoped(project).values()]
    default = default_policy(project)
    if default is not None and not exclude_default and marker != HIDDEN:
        shown = representation(project, default, marker)
        items = [shown, *items] if marker == RANK0 else [*items, shown]
    return {"items": items, "totalCount": len(items)}
