"""Turn the ``--impl`` value into an implementation object, or say exactly what is wrong."""

from __future__ import annotations

import importlib
import re
import traceback
from collections.abc import Collection, Mapping
from typing import Any

from conformance._requirements import capabilities
from conformance.driver import ImplementationInfo
from conformance.errors import ConformanceError

FORM = (
    "MODULE[:OBJECT], e.g. --impl=reference_impl or --impl=my_sdk.conformance:implementation; "
    'or exec:COMMAND for an adapter in any language, e.g. --impl="exec:node examples/node-adapter/adapter.mjs"'
)
DEFAULT_OBJECT = "implementation"
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_REQUIRED = ("name", "version", "spec_version", "claims")


class ImplSpecError(ConformanceError, ValueError):
    """The ``--impl`` value does not name a usable implementation."""


def _split(target: str) -> tuple[str, str]:
    target = target.strip()
    if not target:
        msg = f"--impl is empty; give {FORM}"
        raise ImplSpecError(msg)
    if " " in target or re.search(r"\.(m?js|cjs|ts|jar|exe|sh|dll)$", target):
        msg = (
            f"--impl={target!r} is not of the form {FORM}. If it is a command that runs an adapter in "
            f'another language, give --impl="exec:{target}" (spec/adapter-protocol.md)'
        )
        raise ImplSpecError(msg)
    if target.endswith(".py") or "/" in target or "\\" in target:
        guess = target.removesuffix(".py").replace("/", ".").replace("\\", ".").strip(".")
        msg = f"--impl={target!r} looks like a file path; give a module name instead: --impl={guess}  ({FORM})"
        raise ImplSpecError(msg)
    module, sep, obj = target.partition(":")
    if not _DOTTED.match(module) or (sep and not _DOTTED.match(obj)):
        fixed = module.strip() + (f":{obj.split(':')[0]}" if sep and obj else "")
        msg = f"--impl={target!r} is not of the form {FORM}"
        if _DOTTED.match(fixed.replace(":", ".")) and fixed != target:
            msg += f"; you may mean --impl={fixed}"
        raise ImplSpecError(msg)
    return module, obj or DEFAULT_OBJECT


def _import(module: str, target: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            msg = (
                f"--impl={target}: cannot import module {module!r} ({exc}). Install it in this environment "
                f"(pip install -e .), or, for a module in a local file, run `python -m pytest --impl={target}` "
                f"from the directory that holds it, or add that directory with `-o pythonpath=DIR`"
            )
            raise ImplSpecError(msg) from None
        raise ImplSpecError(_import_crash(target, exc)) from None
    except Exception as exc:
        raise ImplSpecError(_import_crash(target, exc)) from None


def _import_crash(target: str, exc: BaseException) -> str:
    tail = "".join(traceback.format_exception(exc)[-3:]).rstrip()
    return f"--impl={target}: importing the module raised {type(exc).__name__}: {exc}\n{tail}"


def _candidates(mod: Any) -> list[str]:
    return sorted(
        name
        for name, value in vars(mod).items()
        if not name.startswith("_") and not isinstance(value, type) and all(hasattr(value, a) for a in _REQUIRED)
    )


def load(target: str) -> tuple[Any, ImplementationInfo]:
    """Resolve ``target`` and check the implementation's declared identity and claims."""
    module, attr = _split(target)
    mod = _import(module, target)
    obj: Any = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            found = _candidates(mod)
            hint = f" Implementations found there: {', '.join(f'{module}:{c}' for c in found)}." if found else ""
            msg = f"--impl={target}: module {module!r} has no attribute {attr!r}.{hint} ({FORM})"
            raise ImplSpecError(msg)
        obj = getattr(obj, part)
    if callable(obj) and not all(hasattr(obj, a) for a in _REQUIRED):
        try:
            obj = obj()
        except Exception as exc:
            msg = f"--impl={target}: calling {attr}() to build the implementation raised {type(exc).__name__}: {exc}"
            raise ImplSpecError(msg) from None
    missing = [a for a in _REQUIRED if not hasattr(obj, a)]
    if missing:
        msg = (
            f"--impl={target}: {type(obj).__name__} object is not an implementation; it lacks "
            f"{', '.join(missing)} (see spec/contract.md, 'The implementation object')"
        )
        raise ImplSpecError(msg)
    return obj, info_of(obj, target)


def info_of(obj: Any, target: str) -> ImplementationInfo:
    for attr in ("name", "version", "spec_version"):
        if not isinstance(getattr(obj, attr), str) or not getattr(obj, attr):
            msg = f"--impl={target}: {attr} must be a non-empty string, got {getattr(obj, attr)!r}"
            raise ImplSpecError(msg)
    claims = obj.claims
    if isinstance(claims, str) or not isinstance(claims, Collection) or not all(isinstance(c, str) for c in claims):
        msg = f"--impl={target}: claims must be a collection of strings such as {{'hist'}}, got {claims!r}"
        raise ImplSpecError(msg)
    known = capabilities()
    unknown = sorted(set(claims) - known)
    if unknown:
        msg = (
            f"--impl={target}: claims {', '.join(map(repr, unknown))}, which this kit does not know. "
            f"Known capabilities: {', '.join(sorted(known))}"
        )
        raise ImplSpecError(msg)
    for claim in claims:
        area = claim.split(".")[0]
        if area not in claims:
            msg = f"--impl={target}: claims {claim!r} but not its area {area!r}; add {area!r} to claims"
            raise ImplSpecError(msg)
    return ImplementationInfo(obj.name, obj.version, obj.spec_version, frozenset(claims), target, _adds(obj, target))


def _adds(obj: Any, target: str) -> dict[str, str]:
    """The optional ``adds`` declaration: requirement id -> what the adapter adds (spec/contract.md)."""
    from conformance._requirements import index

    adds = getattr(obj, "adds", None)
    if adds is None:
        return {}
    if not isinstance(adds, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in adds.items()):
        msg = f"--impl={target}: adds must map requirement ids to sentences, such as {{'HIST-028': 'copies items'}}"
        raise ImplSpecError(msg)
    unknown = sorted(set(adds) - set(index()))
    if unknown:
        msg = f"--impl={target}: adds names {', '.join(unknown)}, which this kit's requirement index does not have"
        raise ImplSpecError(msg)
    empty = sorted(rid for rid, what in adds.items() if not what.strip())
    if empty:
        msg = f"--impl={target}: adds must say what the adapter adds for {', '.join(empty)}; the sentence is empty"
        raise ImplSpecError(msg)
    return dict(sorted(adds.items()))
