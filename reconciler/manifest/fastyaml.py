"""The fast path for reading a YAML file: yaml-rs (a Rust parser) builds plain values about
15 times faster than ruamel's C parser feeding the position-keeping builder, and keeps no
positions.

It may only answer for text that the position-keeping reader would read to the same
values without a problem. So it takes only a plain subset of YAML, checked line by line
before yaml-rs sees it: block mappings and sequences, keys that are names, plain scalars
that start with a letter or `/`, decimal numbers, quoted strings without escapes, and flow
lists of those; comments. No anchors, aliases, tags, complex keys, directives or second
documents can be written in it, no control character, and nesting is bounded (deep
nesting crashes yaml-rs). Numbers other than plain decimals are where YAML parsers
disagree (`1_000`, `1e3`), so they are left out too. yaml-rs refuses duplicate keys;
afterwards every key must be a string and the depth within MAX_DEPTH. Anything else, and
every file with a problem, goes the position-keeping way.
"""

import re
from typing import Any

try:
    import yaml_rs
except ImportError:  # a platform without its wheel: every file takes the full path
    yaml_rs = None

MAX_INDENT = 64

# Printable characters as YAML and ruamel's reader define them, less the byte order mark.
_PRINTABLE = "\\x20-\\x7e\\xa0-\\ud7ff\\ue000-\\ufefe\\uff00-\\ufffd\\U00010000-\\U0010ffff"
# Characters a plain scalar here never holds: YAML's indicators, quotes and the backslash;
# in a flow list, the comma too.
_SPECIAL = re.escape("#:[]{}&*!|>'\"%@`?\\")

# Every run of spaces and characters below is possessive (`*+`, `++`): no backtracking,
# so a hostile megabyte costs what a line does, times its length.


def _plain(special: str) -> str:
    char = (f"(?:(?![{special}])[\\x21-\\x7e\\xa0-\\ud7ff\\ue000-\\ufefe\\uff00-\\ufffd"
            f"\\U00010000-\\U0010ffff])")
    return f"[A-Za-z/](?: *+{char})*+"  # spaces inside only, before another character


# At most 18 digits, an int64 in any parser; at most 15 decimals, a float's exact digits.
_NUMBER = r"-?+(?:0|[1-9][0-9]{0,17}+)(?:\.[0-9]{1,15}+)?+"
_QUOTED_CHAR = f"[{_PRINTABLE}]"
_DOUBLE = f'"(?:(?![\\\\"]){_QUOTED_CHAR})*+"'
_SINGLE = f"'(?:(?!'){_QUOTED_CHAR})*+'"
_SCALAR = f"(?:{_NUMBER}|{_DOUBLE}|{_SINGLE}|{_plain(_SPECIAL + ',')})"
_FLOW = f"\\[ *+(?:{_SCALAR} *+(?:, *+{_SCALAR} *+)*+)?+\\]"
_VALUE = f"(?:{_NUMBER}|{_DOUBLE}|{_SINGLE}|{_plain(_SPECIAL)}|{_FLOW})"
_KEY = "[A-Za-z][A-Za-z0-9_-]*+"
_ENTRY = f"{_KEY}:(?: ++{_VALUE})?+"
_COMMENT = f"#[{_PRINTABLE}]*+"
_CONTENT = f"(?:(?:- ++){{1,16}}+(?:{_ENTRY}|{_VALUE})?+|{_ENTRY}|{_COMMENT})"
_LINE = f" {{0,{MAX_INDENT}}}+{_CONTENT}?+(?: ++(?:{_COMMENT})?+)?+"
_SUBSET = re.compile(f"(?:{_LINE}\\n)*+(?:{_LINE})?+")


def _simple(data: dict[str, Any], limit: int) -> bool:
    """Whether every key is a string and no container nests deeper than `limit` (the root
    is at depth 1, as the reader counts)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(value, dict):
            if not all(type(key) is str for key in value):
                return False
            value = value.values()
        stack.extend((item, depth + 1) for item in value if isinstance(item, dict | list))
    return True


def fast_values(text: str, max_depth: int) -> dict[str, Any] | None:
    """The mapping this text holds, or None when the fast path cannot vouch for it (then
    the position-keeping reader decides)."""
    if yaml_rs is None or not text or not _SUBSET.fullmatch(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except ValueError:  # YAMLDecodeError: a duplicate key, a syntax error; the full path says why
        return None
    if not isinstance(data, dict) or not _simple(data, max_depth):
        return None
    return data
