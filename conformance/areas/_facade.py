"""What every area's facade shares: the type of an answer, and one way to leave an argument out.

A facade method is named after its wire operation and sends exactly the arguments it was given:
one left at :data:`UNSET` is *absent* from the wire, which the spec tells apart from null.
"""

from __future__ import annotations

from typing import Any

from conformance._traceback import kit_frame

__tracebackhide__ = kit_frame  # failures show the test and the implementation, not this module

__all__ = ["UNSET", "Answer", "passed"]

#: An implementation's answer, not yet validated: the test judges it.  A facade returns what the
#: implementation sent (any JSON value, or none), never a value of the type the spec promises.
Answer = Any

#: "This argument was not passed", distinct from null (``None``).
UNSET: Any = object()


def passed(**args: Any) -> dict[str, Any]:
    """The arguments as sent on the wire: those left at :data:`UNSET` are left out."""
    return {name: value for name, value in args.items() if value is not UNSET}
