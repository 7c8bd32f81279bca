"""A release policy (canonical form) as the body of its file, in file field order.

Loaded back, the body has the same canonical form: empty scope lists (every environment,
every flag) are left out, as an absent one reads as empty; configs keep what they hold.
"""

from collections.abc import Mapping
from typing import Any


def policy_document(policy: Mapping[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {key: policy[key] for key in ("key", "name", "releaseMethod")}
    scope = {name: keys for name, keys in policy["scope"].items() if keys}
    if scope:
        document["scope"] = scope
    for config in ("guardedReleaseConfig", "progressiveReleaseConfig"):
        if config in policy:
            document[config] = dict(policy[config])
    return document
