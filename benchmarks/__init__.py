"""Vitrine's benchmarks: throughput and latency of real requests, side by side with a bare Litestar baseline.

Run with `make bench` (or `python -m benchmarks --help`). Figures go to benchmarks/results/latest.json and the
"Measured" section of docs/performance.md. Speed targets are checked here, never by timed assertions in tests.
"""
