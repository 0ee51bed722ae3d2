"""Adapters that put real libraries through the kit (`nox -s matrix`).

Each module adapts one library, honestly: it translates the library's API shapes, names and
exceptions into the contract (spec/contract.md) and adds no behaviour the library lacks, so the
kit's report is a report on the library, not on the adapter.  Every module imports its library
lazily, when the kit first calls a factory, so this package imports without the library installed.

* :mod:`implementations.openai_agents`: the HIST session backends of openai-agents 0.24.0
  (``pip install -e '.[openai-agents]'``).
"""
