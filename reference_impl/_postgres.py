"""What the PostgreSQL backends share: the server's address, one schema per storage directory, errors.

The server is named by the environment variable ``CONFORMANCE_POSTGRES_URL`` (a libpq URL such as
``postgresql://postgres@127.0.0.1:5432/postgres``).  Each test's ``env.storage_dir`` becomes a
schema of its own (and a ``LISTEN`` channel of the same name), so tests never see each other's
data, while every replica opened over the same storage directory shares it.
psycopg is imported here only: the kit and the embedded backends never need it.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from reference_impl._errors import ReferenceImplError

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

__all__ = ["ENV_VAR", "Unavailable", "connect", "dsn", "namespace"]

ENV_VAR = "CONFORMANCE_POSTGRES_URL"


class Unavailable(ReferenceImplError, ConnectionError):
    """The connection to PostgreSQL broke during the call: whether it took effect is unknown."""

    error_kind = "unavailable"


def dsn() -> str:
    """The server's URL, or a usage error that says how to give one."""
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        msg = (
            f"the PostgreSQL reference needs a server: set {ENV_VAR} to a libpq URL such as "
            f"postgresql://postgres@127.0.0.1:5432/postgres, or run `nox -s postgres`, which starts a "
            f"throw-away cluster and sets it"
        )
        raise RuntimeError(msg)
    return url


def namespace(storage_dir: Path) -> str:
    """The schema (and notification channel) of one storage directory: an identifier under 63 bytes."""
    return "kit_" + hashlib.sha256(str(storage_dir.resolve()).encode()).hexdigest()[:40]


def connect(storage_dir: Path, schema_sql: str = "") -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection whose search path is the storage directory's own schema.

    The schema and ``schema_sql`` (``CREATE TABLE IF NOT EXISTS ...``) are created under an advisory
    lock, because two replicas starting at once would otherwise race on the catalog.
    """
    import psycopg

    schema = namespace(storage_dir)
    try:
        conn = psycopg.connect(dsn(), autocommit=True, connect_timeout=10)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            if schema_sql:
                conn.execute(schema_sql)
    except psycopg.OperationalError as exc:
        msg = f"cannot reach PostgreSQL at {ENV_VAR}: {exc}"
        raise Unavailable(msg) from exc
    return conn
