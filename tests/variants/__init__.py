"""Single-deviation variants: the reference with exactly one upstream behaviour swapped in.

Each area module (``hist``, ``store``, ``identity``, ``life``, ``bcast``) defines ``Variant`` subclasses;
this package names each by its class (``NegativeLimitMeansAll`` is loaded as
``tests.variants:negative_limit_means_all``).  ``tests/test_blame.py`` runs each in process and
over ``conformance.serve`` and holds the set of failed requirements to its ``fails``, in both
transports, with the same failure kinds; and it checks that every row of every "Differences from
upstream" table in spec/ is either the behaviour of a variant or listed in :data:`AGREES` with the
reason no variant can differ there.
"""

from __future__ import annotations

from tests.variants import bcast, hist, identity, life, store
from tests.variants._base import (
    FACTORIES,
    Variant,
    areas_changed,
    definitions_beyond_factories,
    snake,
    upstream_rows,
)

__all__ = ["AGREES", "FACTORIES", "VARIANTS", "areas_changed", "definitions_beyond_factories", "upstream_rows"]

_MODULES = (hist, store, identity, life, bcast)

VARIANTS: dict[str, Variant] = {
    snake(klass.__name__): klass()
    for module in _MODULES
    for klass in vars(module).values()
    if isinstance(klass, type) and issubclass(klass, Variant) and klass is not Variant
}
globals().update(VARIANTS)

#: Rows of the upstream tables where no upstream project behaves otherwise than the spec, so
#: there is no behaviour to swap in; each with the reason (kept beside its area's variants).
AGREES: dict[str, str] = {row: why for module in _MODULES for row, why in module.AGREES.items()}
