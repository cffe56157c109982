"""Benchmarks: scripts that print figures, run from the checkout as ``python -m bench.NAME``."""
