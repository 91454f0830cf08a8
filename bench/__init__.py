"""Benchmarks of travelgate (`make bench` runs them all and writes bench/RESULTS.md)."""
