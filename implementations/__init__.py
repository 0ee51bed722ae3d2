"""Adapters that put real libraries through the kit (`nox -s matrix`).

Each module adapts one library, honestly: it translates the library's API shapes, names and
exceptions into the contract (spec/contract.md) and adds no behaviour the library lacks, so the
kit's report is a report on the library, not on the adapter.  Every module imports its library
lazily, when the kit first calls a factory, so this package imports without the library installed.

* :mod:`implementations.openai_agents`: the HIST session backends of openai-agents 0.24.0
  (``pip install -e '.[openai-agents]'``).
* :mod:`implementations.a2a_sdk`: a2a-sdk 1.3.0's request handler over two task stores, for TASK
  (``pip install -e '.[a2a-sdk]'``).
* :mod:`implementations.copilot_sdk`: github-copilot-sdk 1.0.27's Python client against the kit's
  scripted lifecycle peer, for LIFE (``pip install -e '.[copilot-sdk]'``).

:mod:`implementations.libraries` is the one table ``nox -s matrix`` and
:mod:`implementations.render_matrix` read: each library's extra, adapter module, targets,
confirmation module and the spec document that records its differences.
"""
