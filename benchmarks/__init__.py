"""Benchmark scripts (run each as ``python benchmarks/NAME.py``); a package so tests share ``_data``."""
