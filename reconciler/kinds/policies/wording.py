"""How renderings name release policies and show one: the YAML of its file."""

from reconciler.export import policy_yaml
from reconciler.kinds import Wording

WORDING = Wording(noun="policy", nouns="policies", title="release policies",
                  document=policy_yaml, positional=frozenset({"stages"}),
                  default_kept="the project's default policy: never deleted")
