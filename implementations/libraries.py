"""The one table of real libraries that `nox -s matrix` runs and spec/implementations.md shows.

Adding a library is one entry here: its name (the nox parameter, ``nox -s "matrix(library='NAME')"``,
and the folder ``reports/matrix/NAME/``), the pyproject extra that installs it, its adapter module
and targets (``--impl=MODULE:TARGET``), its confirmation module (``checks_for(target)`` returning
checks with ``requirement``, ``row``, ``what`` and ``run``, and a ``main`` run by ``python -m``), the
spec document whose "Differences from upstream" table records its differences, and the services it
needs started (``redis``: a loopback redis-server, its URL in ``CONFORMANCE_REDIS_URL``).

This module imports nothing beyond the standard library, so that the noxfile can read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIBRARIES", "Library"]


@dataclass(frozen=True)
class Library:
    name: str
    extra: str
    module: str
    targets: tuple[str, ...]
    confirm: str
    document: str
    services: tuple[str, ...] = ()

    def key(self, target: str) -> str:
        """The name of one target's report: ``reports/matrix/<key>.json`` and its entry in matrix.json."""
        return f"{self.name}/{target}"


LIBRARIES: dict[str, Library] = {
    library.name: library
    for library in (
        Library(
            name="openai-agents",
            extra="openai-agents",
            module="implementations.openai_agents",
            targets=(
                "sqlite_memory",
                "sqlite_file",
                "advanced_sqlite",
                "sqlalchemy_sqlite",
                "encrypted_sqlite",
                "redis",
            ),
            confirm="implementations.openai_agents_confirm",
            document="hist.md",
            services=("redis",),
        ),
        Library(
            name="a2a-sdk",
            extra="a2a-sdk",
            module="implementations.a2a_sdk",
            targets=("in_memory", "database_sqlite"),
            confirm="implementations.a2a_sdk_confirm",
            document="identity.md",
        ),
        Library(
            name="copilot-sdk",
            extra="copilot-sdk",
            module="implementations.copilot_sdk",
            targets=("client",),
            confirm="implementations.copilot_sdk_confirm",
            document="lifecycle.md",
        ),
    )
}
