"""Benchmarks that print figures; run them with ``python -m loadtest.<name>``."""
