"""The areas of the spec, one module each.

An area module defines its Python protocols, its in-process binding (a subclass
of :class:`conformance._inprocess.AreaBinding`) and the facade the suite uses.
Adding an area means adding its module name to ``AREA_MODULES``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance._inprocess import AreaBinding

#: area name -> module under conformance.areas
AREA_MODULES: dict[str, str] = {
    "hist": "hist",
    "life": "life",
    "store": "store",
    "id": "id",
    "task": "task",
}


def in_process_bindings() -> dict[str, type[AreaBinding]]:
    bindings: dict[str, type[AreaBinding]] = {}
    for area, module in AREA_MODULES.items():
        mod = importlib.import_module(f"conformance.areas.{module}")
        for value in vars(mod).values():
            if isinstance(value, type) and getattr(value, "area", None) == area and hasattr(value, "factory_name"):
                bindings[area] = value
    return bindings
