"""Misbehaving adapters for the subprocess transport's fault tests (tests/test_subprocess_faults.py)."""
