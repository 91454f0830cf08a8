"""Test support shared by the suites: vector paths and small builders (no fixtures here)."""
