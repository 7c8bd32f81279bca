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

import functools
import re
from collections.abc import Iterable
from typing import Any

try:
    import yaml_rs
except ImportError:  # a platform without its wheel: every file takes the full path
    yaml_rs = None

MAX_INDENT = 64

# Characters outside the printable set as YAML and ruamel's reader define it (\x20-\x7e,
# \xa0-\ud7ff, \ue000-\ufffd less the byte order mark \ufeff, \U00010000-\U0010ffff).
# Each character class below is written negated, as what it leaves out: the same set as the
# positive ranges, but compiled about 12 times faster (Unicode ranges are costly to compile,
# and the pattern was most of this module's import) and a single test per character.
_NOT_PRINTABLE = "\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\ufeff\\ufffe\\uffff"
# Characters a plain scalar here never holds: YAML's indicators, quotes and the backslash;
# in a flow list, the comma too.
_SPECIAL = re.escape("#:[]{}&*!|>'\"%@`?\\")

# Every run of spaces and characters below is possessive (`*+`, `++`): no backtracking,
# so a hostile megabyte costs what a line does, times its length.


def _plain_char(special: str) -> str:
    """A printable character other than the space and `special`'s."""
    return f"[^{_NOT_PRINTABLE} {special}]"


def _plain(special: str) -> str:
    # spaces inside only, before another character
    return f"[A-Za-z/](?: *+{_plain_char(special)})*+"


# At most 18 digits, an int64 in any parser; at most 15 decimals, a float's exact digits.
_NUMBER = r"-?+(?:0|[1-9][0-9]{0,17}+)(?:\.[0-9]{1,15}+)?+"
_PRINTABLE_CHAR = f"[^{_NOT_PRINTABLE}]"
_DOUBLE_CHAR = f'[^{_NOT_PRINTABLE}\\\\"]'  # printable, less the backslash and the quote
_SINGLE_CHAR = f"[^{_NOT_PRINTABLE}']"
_DOUBLE = f'"{_DOUBLE_CHAR}*+"'
_SINGLE = f"'{_SINGLE_CHAR}*+'"
_SCALAR = f"(?:{_NUMBER}|{_DOUBLE}|{_SINGLE}|{_plain(_SPECIAL + ',')})"
_FLOW = f"\\[ *+(?:{_SCALAR} *+(?:, *+{_SCALAR} *+)*+)?+\\]"
_VALUE = f"(?:{_NUMBER}|{_DOUBLE}|{_SINGLE}|{_plain(_SPECIAL)}|{_FLOW})"
_KEY = "[A-Za-z][A-Za-z0-9_-]*+"
_ENTRY = f"{_KEY}:(?: ++{_VALUE})?+"
_COMMENT = f"#{_PRINTABLE_CHAR}*+"
_CONTENT = f"(?:(?:- ++){{1,16}}+(?:{_ENTRY}|{_VALUE})?+|{_ENTRY}|{_COMMENT})"
_LINE = f" {{0,{MAX_INDENT}}}+{_CONTENT}?+(?: ++(?:{_COMMENT})?+)?+"


@functools.cache
def _subset() -> re.Pattern[str]:
    """The subset's pattern, compiled when a file first needs it (9 ms: a run whose files
    all come from the parse cache, and every command that reads none, never pays it)."""
    return re.compile(f"(?:{_LINE}\\n)*+(?:{_LINE})?+")


def _simple(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether every key is a string and no container nests deeper than `limit` (the root
    is at depth 1, as the reader counts)."""
    # Plain loops, one call per container and exact types (yaml-rs builds plain dicts and
    # lists): a generator per container cost 4 times more.
    if limit < 1:
        return False
    items: Iterable[Any] = value
    if type(value) is dict:
        for key in value:
            if type(key) is not str:
                return False
        items = value.values()
    for item in items:
        kind = type(item)
        if (kind is dict or kind is list) and not _simple(item, limit - 1):
            return False
    return True


def fast_values(text: str, max_depth: int) -> dict[str, Any] | None:
    """The mapping this text holds, or None when the fast path cannot vouch for it (then
    the position-keeping reader decides)."""
    if yaml_rs is None or not text or not _subset().fullmatch(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except ValueError:  # YAMLDecodeError: a duplicate key, a syntax error; the full path says why
        return None
    if not isinstance(data, dict) or not _simple(data, max_depth):
        return None
    return data
