"""Benchmarks (commands, never timed tests): ``python -m bench.city``."""
