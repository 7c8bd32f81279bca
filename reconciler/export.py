"""Writing live pipelines as pipeline files (the writer behind `reconciler export`; the
policies' is reconciler.kinds.policies.export, on the same helpers).

A written file loads back to the same canonical form as the live pipeline, so a plan
right after an export shows no changes. Re-exporting over an existing file updates its
values in place (ruamel.yaml round trip), so the comments people added survive.
Live fields the models do not manage cannot be in a file (validation would refuse them):
they are written as a comment block above `key:`, replaced on each export.
"""

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarbool import ScalarBoolean

from reconciler.errors import ManifestError
from reconciler.files import write_atomically
from reconciler.graph import printable
from reconciler.kinds.policies.document import policy_document
from reconciler.manifest.models import KEY_RE
from reconciler.manifest.yamlfile import check_source
from reconciler.normalize import canonical_live, located, unknown_fields

MODELINE = "# yaml-language-server: $schema=../../schemas/pipeline.schema.json"
NOT_MANAGED = "# Not managed by git (LaunchDarkly's; apply keeps the live values):"
NOT_MANAGED_ENTRY = "#   /"
# Compared as sets by the canonical form (sorted there), so any order in a file is equal.
UNORDERED_LISTS = frozenset({"tags", "segmentKeys", "notifyMemberIds", "notifyTeamKeys"})


def _with_optional(required: dict[str, Any], *optional: tuple[str, Any]) -> dict[str, Any]:
    """`required` plus the optional fields that have a value: None, empty lists and empty
    mappings are left out (the canonical form reads an absent one as empty)."""
    present = {key: value for key, value in optional if value not in (None, [], {})}
    return {**required, **present}


def _guardian(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _with_optional(
        {"monitoringWindowMilliseconds": raw["monitoringWindowMilliseconds"],
         "rolloutWeight": raw["rolloutWeight"],
         "rollbackOnRegression": raw["rollbackOnRegression"]},
        ("randomizationUnit", raw.get("randomizationUnit")),
    )


def _audience_configuration(raw: Mapping[str, Any]) -> dict[str, Any]:
    guardian = raw.get("releaseGuardianConfiguration")
    return _with_optional(
        {"releaseStrategy": raw["releaseStrategy"], "requireApproval": raw["requireApproval"]},
        ("notifyMemberIds", raw["notifyMemberIds"]),
        ("notifyTeamKeys", raw["notifyTeamKeys"]),
        ("releaseGuardianConfiguration", guardian and _guardian(guardian)),
    )


def _audience(raw: Mapping[str, Any]) -> dict[str, Any]:
    configuration = raw.get("configuration")
    return _with_optional(
        {"name": raw["name"], "environmentKey": raw["environmentKey"]},
        ("segmentKeys", raw["segmentKeys"]),
        ("configuration", configuration and _audience_configuration(configuration)),
    )


def _phase(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _with_optional(
        {"name": raw["name"], "audiences": [_audience(audience) for audience in raw["audiences"]]},
        ("configuration", raw["configuration"]),
    )


def pipeline_document(live: Mapping[str, Any], is_default: bool) -> dict[str, Any]:
    """A live ReleasePipeline as the body of its pipeline file, in file field order."""
    pipeline = canonical_live(live)
    document = _with_optional(
        {"key": pipeline["key"], "name": pipeline["name"]},
        ("description", pipeline["description"] or None),  # absent reads as ""
        ("tags", pipeline["tags"]),
        ("isProjectDefault", True if is_default else None),
    )
    # isLegacy is always written, false included: the file pins the live value, so a
    # later change to it is planned as the replacement it is.
    document["isLegacy"] = pipeline["isLegacy"]
    document["phases"] = [_phase(phase) for phase in pipeline["phases"]]
    return document


# --- YAML ------------------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a long description over lines
    yaml.preserve_quotes = True
    return yaml


def _node(value: Any) -> Any:
    """A plain value as ruamel nodes; lists of strings are written inline: `[a, b]`."""
    if isinstance(value, Mapping):
        return CommentedMap((key, _node(item)) for key, item in value.items())
    if isinstance(value, list):
        seq = CommentedSeq(_node(item) for item in value)
        # ruamel.yaml writes `[?x]` unquoted but reads it back as a complex key.
        if all(isinstance(item, str) and not item.startswith("?") for item in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _kind(value: Any) -> type:
    # ruamel may load a YAML boolean as ScalarBoolean, an int: the kind must still match.
    if isinstance(value, bool | ScalarBoolean):
        return bool
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind
    return type(value)


def _same_scalar(old: Any, new: Any) -> bool:
    return _kind(old) is _kind(new) and old == new


def _same_set(old: Any, new: Any) -> bool:
    return (isinstance(old, CommentedSeq) and isinstance(new, list)
            and all(isinstance(item, str) for item in old) and sorted(set(old)) == sorted(new))


def _merge(old: Any, new: Any) -> Any:
    """`new`, reusing `old`'s nodes (and so their comments and styles) where they fit."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        for key in [key for key in old if key not in new]:
            del old[key]
        for position, (key, value) in enumerate(new.items()):
            if key in UNORDERED_LISTS and _same_set(old.get(key), value):
                continue  # the user's order of an unordered list is kept
            if key in old:
                old[key] = _merge(old[key], value)
            else:
                old.insert(min(position, len(old)), key, _node(value))
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        del old[len(new):]
        for index, value in enumerate(new):
            if index < len(old):
                old[index] = _merge(old[index], value)
            else:
                old.append(_node(value))
        return old
    if isinstance(new, Mapping | list):
        return _node(new)
    return old if _same_scalar(old, new) else new


def _existing(path: Path) -> Any:
    text, problems = check_source(path)
    if text is None:
        raise ManifestError([f"{problem} (not updated)" for problem in problems])
    return _yaml().load(text)


def not_managed_block(found: Sequence[tuple[str, Any]]) -> list[str]:
    """Comment lines naming each live field the models do not manage (located: pointer,
    value), with its value."""
    lines = [f"#   {printable(path)}: {printable(json.dumps(value, ensure_ascii=False))}"
             for path, value in found]
    return [NOT_MANAGED, *lines] if lines else []


def _without_old_block(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_block = False
    for line in lines:
        in_block = line == NOT_MANAGED or (in_block and line.startswith(NOT_MANAGED_ENTRY))
        if not in_block:
            out.append(line)
    return out


def _render(document: Any, block: list[str], modeline: str) -> str:
    stream = io.StringIO()
    _yaml().dump(document, stream)
    lines = _without_old_block(stream.getvalue().splitlines())
    body = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = lines[:body]
    if not any("yaml-language-server:" in line for line in header):
        header.insert(0, modeline)
    return "\n".join([*header, *block, *lines[body:]]) + "\n"


def write_document(path: Path, document: Mapping[str, Any], block: list[str],
                   modeline: str) -> None:
    """Write `document` at `path` atomically: over an existing file, its values are updated
    in place (comments and styles kept); `block` (comment lines) goes above the body and
    `modeline` first, unless the file has one."""
    if path.exists():
        existing = _existing(path)
        merged = (_merge(existing, document) if isinstance(existing, CommentedMap)
                  else _node(document))
    else:
        merged = _node(document)
    write_atomically(path, [_render(merged, block, modeline).encode()])


def write_setting(path: Path, key: str, value: Any, modeline: str) -> None:
    """Set one top-level field of a settings file, keeping every other field and comment
    (the file is created, with `modeline`, when it does not exist)."""
    existing = _existing(path) if path.exists() else None
    document = existing if isinstance(existing, CommentedMap) else CommentedMap()
    if key in document:
        document[key] = _merge(document[key], value)
    else:
        document[key] = _node(value)
    write_atomically(path, [_render(document, [], modeline).encode()])


def check_keys(keys: Sequence[Any]) -> None:
    """Refuse keys that cannot be file names, before anything is written."""
    unsafe = [key for key in keys if not isinstance(key, str) or not KEY_RE.fullmatch(key)]
    if unsafe:
        raise ManifestError([f"cannot export: {key!r} is not a valid key for a file name"
                             for key in unsafe])


def write_export(project: str, live_pipelines: Sequence[Mapping[str, Any]],
                 default_key: str | None, pipelines_dir: Path) -> list[Path]:
    """Write one file per live pipeline under `pipelines_dir/project/`; returns the paths
    written, in key order. Existing files are updated in place."""
    check_keys([project, *(p.get("key") for p in live_pipelines)])
    directory = pipelines_dir / project
    written = []
    for live in sorted(live_pipelines, key=lambda p: p["key"]):
        path = directory / f"{live['key']}.yaml"
        write_document(path, pipeline_document(live, live["key"] == default_key),
                       not_managed_block(located(unknown_fields(live))), MODELINE)
        written.append(path)
    return written



# --- display ----------------------------------------------------------------------------


def _dump(document: Any) -> str:
    stream = io.StringIO()
    _yaml().dump(_node(document), stream)
    return stream.getvalue()


def pipeline_yaml(pipeline: Mapping[str, Any], is_default: bool) -> str:
    """A pipeline as its file would say it (no modeline), to show a create or a delete."""
    return _dump(pipeline_document(pipeline, is_default))


def policy_yaml(policy: Mapping[str, Any], is_default: bool = False) -> str:
    """A canonical release policy as its file would say it, to show a create or a delete
    (a policy file has no default flag: `is_default` is the Wording's signature)."""
    return _dump(policy_document(policy))


def phase_yaml(phase: Mapping[str, Any]) -> str:
    """A canonical phase as a pipeline file would say it, to show one inserted or removed."""
    return _dump(_phase(phase))


def audience_yaml(audience: Mapping[str, Any]) -> str:
    """A canonical audience as a pipeline file would say it."""
    return _dump(_audience(audience))
