"""Saved plans: written atomically, read back only if intact and from this format."""

import json
from pathlib import Path

from pydantic import ValidationError

from reconciler.errors import PlanFileError
from reconciler.files import write_atomically
from reconciler.kinds.registry import KINDS
from reconciler.plan import FORMAT_VERSION, Plan, plan_digest


def write_plan(plan: Plan, path: Path) -> None:
    write_atomically(path, [plan.model_dump_json(indent=2).encode(), b"\n"])


def read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlanFileError(f"{path}: cannot read the plan file ({error.__class__.__name__})") \
            from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(f"{path}:{error.lineno}:{error.colno}: not a plan file: "
                            f"invalid JSON ({error.msg})") from None
    except RecursionError:  # a plan is a few levels deep; this is no plan
        raise PlanFileError(f"{path}: not a plan file: JSON nested too deeply") from None
    if not isinstance(data, dict) or "formatVersion" not in data:
        raise PlanFileError(f"{path}: not a plan file (no formatVersion)")
    if data["formatVersion"] == 1:
        raise PlanFileError(f"{path}: this plan was written by plan format 1; run plan again")
    if data["formatVersion"] != FORMAT_VERSION:
        raise PlanFileError(f"{path}: plan format {data['formatVersion']!r} is not supported "
                            f"by this version (expects {FORMAT_VERSION}); plan again")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path}: corrupt plan file: {where}: {first['msg']}") from None
    try:
        digest = plan_digest(plan.projects)
    except (RecursionError, ValueError):  # pydantic: "Maximum serialization depth exceeded"
        raise PlanFileError(f"{path}: not a plan file: JSON nested too deeply") from None
    if digest != plan.digest:
        raise PlanFileError(f"{path}: the plan's content does not match its digest "
                            "(edited by hand?); plan again")
    if (unknown := sorted({p.kind for p in plan.projects} - {k.name for k in KINDS})):
        raise PlanFileError(f"{path}: the plan names kinds this version does not know "
                            f"({', '.join(unknown)}); plan again")
    return plan
