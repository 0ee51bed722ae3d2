"""The areas of the spec, one module each, and the registry of their in-process bindings.

An area module defines its Python protocols, its in-process binding (a subclass of
:class:`conformance._binding.AreaBinding`) and the facade the suite uses.  Adding an area means
adding its binding to ``BINDINGS``: the registry is a plain mapping, read by the in-process
transport, never discovered by scanning modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.areas.bcast import InProcessBcast
from conformance.areas.hist import InProcessHist
from conformance.areas.id import InProcessId
from conformance.areas.life import InProcessLife
from conformance.areas.store import InProcessStore
from conformance.areas.task import InProcessTask

if TYPE_CHECKING:
    from conformance._binding import AreaBinding

#: area name -> its in-process binding
BINDINGS: dict[str, type[AreaBinding]] = {
    binding.area: binding
    for binding in (InProcessHist, InProcessStore, InProcessId, InProcessTask, InProcessLife, InProcessBcast)
}
