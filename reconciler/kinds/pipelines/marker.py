"""The marker that records a parked project default in LaunchDarkly itself.

When git does not manage the default and a replace must remove the live default, the plan
parks the default on another pipeline (the holder) and gives it back in the same plan. Before
parking, the holder's description gets a suffix naming the key to give it back to, so a
re-run after an interruption at any point knows where the default belongs, whatever live
shows; the plan's last step on the holder removes the suffix. Stripping the suffix gives
back the original description exactly, so nothing the user wrote is lost.
"""

import re

from reconciler.kinds.pipelines.inputs import LiveInput
from reconciler.normalize import Canonical

_MARKER = "[reconciler: holds the project default for {key}]"
_MARKER_RE = re.compile(
    r" ?\[reconciler: holds the project default for ([A-Za-z0-9][A-Za-z0-9._-]*)\]\Z")


def with_marker(description: str, key: str) -> str:
    marker = _MARKER.format(key=key)
    return f"{description} {marker}" if description else marker


def read_marker(description: str) -> tuple[str, str | None]:
    """The description without a trailing marker, and the key the marker names (or None)."""
    found = _MARKER_RE.search(description)
    if found is None:
        return description, None
    return description[:found.start()], found.group(1)


def marked(form: Canonical, key: str) -> Canonical:
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

