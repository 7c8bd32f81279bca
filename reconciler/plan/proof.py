"""The proof every plan passes before it is returned: its steps, replayed over the live
snapshot through the kind's dispatch table (plan.dispatch.replay), must keep every rule
and end in the desired state. This module holds the kind-independent end-state check."""

from collections.abc import Mapping
from typing import Any


class NotDesired(Exception):
    """The simulated end state differs from the desired state: a planner defect, refused."""


def check_reached(reached: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Raise NotDesired naming every key whose replayed form is not the expected one (a
    key missing on either side counts)."""
    if reached != expected:
        wrong = sorted(k for k in {*reached, *expected} if reached.get(k) != expected.get(k))
        raise NotDesired(f"the plan does not reach the desired state for {', '.join(wrong)}")
