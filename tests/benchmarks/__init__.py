"""`make bench`: the fleet-scale benchmarks (see run.py) and RESULTS.md."""
