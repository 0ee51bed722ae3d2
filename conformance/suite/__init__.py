"""The conformance suite: tests that cite requirement IDs, run against ``--impl``."""
