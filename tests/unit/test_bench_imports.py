"""The benchmark's reading of `python -X importtime`: top-level imports only, the bare
interpreter's own left out."""

from tests.benchmarks.results import imports

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       413 |        860 | encodings
import time:       660 |       9784 | site
import time:       120 |        120 |   click._compat
import time:      2000 |      41000 | click
import time:        50 |      99000 |     reconciler.deep
import time:      1033 |     120301 | reconciler.cli
some other line | 5 | x
"""


def test_only_top_level_imports_beyond_the_interpreters_count() -> None:
    found = imports(SAMPLE, frozenset({"encodings", "site"}))
    assert found == [("click", 0.041), ("reconciler.cli", 0.120301)]
