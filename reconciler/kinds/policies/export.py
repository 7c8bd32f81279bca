"""Writing live release policies as policy files, and their ranking as `policyOrder`.

A written tree plans to zero changes: each scoped policy gets a file (its canonical form,
fields the models do not manage as a comment block, as for pipelines), and `policyOrder`
in `_project.yaml` lists them in rank order, the project's other settings kept. The
default policy has no rank and is not written unless asked: a file for it would make git
manage it (named last in policyOrder, which validation wants complete; the planner leaves
it out of the ranking).
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.export import check_keys, not_managed_block, write_document, write_setting
from reconciler.kinds.policies.document import policy_document
from reconciler.kinds.policies.inputs import live_policies
from reconciler.manifest.loader import POLICY_FOLDER, PROJECT_FILE

POLICY_MODELINE = "# yaml-language-server: $schema=../../../schemas/release-policy.schema.json"
PROJECT_MODELINE = "# yaml-language-server: $schema=../../schemas/project.schema.json"
ORDER_SETTING = "policyOrder"


def write_policy_export(project: str, listed: Sequence[Mapping[str, Any]], pipelines_dir: Path,
                        *, with_default: bool = False) -> list[Path]:
    """Write the project's listed policies (highest priority first, then the default when
    `with_default` and listed) and their policyOrder; returns the policy files written.
    Nothing is written when there is no policy to write."""
    live = live_policies(listed)
    keys = [*live.ranked, *([live.default_key] if with_default and live.default_key else [])]
    if not keys:
        return []
    check_keys([project, *keys])
    directory = pipelines_dir / project / POLICY_FOLDER
    written = []
    for key in keys:
        path = directory / f"{key}.yaml"
        write_document(path, policy_document(live.policies[key]),
                       not_managed_block(live.unknown.get(key, ())), POLICY_MODELINE)
        written.append(path)
    write_setting(pipelines_dir / project / PROJECT_FILE, ORDER_SETTING, keys, PROJECT_MODELINE)
    return written
