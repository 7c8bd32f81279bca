"""Release-policy request bodies, checked as the policies spec declares them and as the
pipeline routes check theirs: unknown fields are dropped silently, wrong types, missing
required fields and the spec's limits are a 400 naming the field.

The model is the policy files' (PostReleasePolicyRequest, with the spec's limits only: the
UNVERIFIED ones are warnings for validation, not refusals for a server). A PUT body is the
same without `key`: the key is the path's.
"""

from typing import Any

from reconciler.kinds.policies.models import PostReleasePolicyRequest
from reconciler.sandbox.inputs import validated
from reconciler.sandbox.problems import invalid_request

# Which config object each release method reads (immediate-release reads none).
CONFIG_OF_METHOD = {
    "guarded-release": "guardedReleaseConfig",
    "progressive-release": "progressiveReleaseConfig",
}


def create_body(document: Any, config_required: bool = False) -> dict[str, Any]:
    """A PostReleasePolicyRequest as a plain dict without unset optional fields.
    `config_required`: a guarded or progressive policy must carry its config object."""
    body = validated(document, PostReleasePolicyRequest, {})
    config = CONFIG_OF_METHOD.get(body["releaseMethod"])
    if config_required and config is not None and config not in body:
        raise invalid_request(f"{config}: required when releaseMethod is {body['releaseMethod']}")
    return body


def update_body(document: Any, key: str, config_required: bool = False) -> dict[str, Any]:
    """A PutReleasePolicyRequest for the policy `key` (a key in the body is not the
    spec's, so it is dropped like any unknown field)."""
    if not isinstance(document, dict):
        raise invalid_request("request body must be a JSON object")
    body = create_body({**document, "key": key}, config_required)
    del body["key"]
    return body


def order_body(document: Any) -> list[str]:
    """The reorder body: a JSON array of policy keys."""
    if not isinstance(document, list) or not all(isinstance(key, str) for key in document):
        raise invalid_request("request body must be a JSON array of release policy keys")
    return list(document)
