"""The test suite, a package so that `python -m tests.benchmarks.run` and the tests can
import the benchmarks."""
