"""Helpers the STORE tests share: instants on the kit's clock, and record checks."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest

from conformance._data import validator_for
from conformance._values import json_equal
from conformance.areas.store import RECORD_FIELDS
from conformance.contract import ManualClock
from conformance.errors import ImplementationError
from conformance.suite._support import not_judged, show

if TYPE_CHECKING:
    from conformance.areas.store import StoreClient

#: Where every test's clock starts.
T0 = ManualClock.EPOCH


#: RFC 3339 § 5.6 ``date-time``, as the kit reads it: "T", "t" or a space between date and time
#: (the space is RFC 3339's own note), "Z", "z" or a numeric offset.  What an implementation
#: writes is stricter (UTC, upper-case "T" and "Z": schemas/store/record.schema.json).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def parse_instant(text: Any, what: str = "an instant") -> dt.datetime:
    """Parse an RFC 3339 date-time from the wire; raise AssertionError when it is not one.

    Accepts exactly RFC 3339's ``date-time`` (no ISO 8601 week dates, ordinal dates or basic
    format), compared as an instant.  A second of 60 (a leap second) and digits finer than a
    microsecond that are not zero cannot name an instant of the kit's clock, so they are wrong too.
    """
    if not isinstance(text, str):
        msg = f"{what} is {text!r}, not an RFC 3339 string"
        raise AssertionError(msg)  # noqa: TRY004 - a wrong answer is a failed assertion, not a TypeError
    match = _RFC3339.fullmatch(text)
    if match is None:
        msg = f"{what} {text!r} is not an RFC 3339 date-time such as '2026-01-01T00:00:00.250Z'"
        raise AssertionError(msg)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    fraction = fraction or ""
    if fraction[6:].strip("0"):
        msg = f"{what} {text!r} is finer than a microsecond: no instant of the kit's clock"
        raise AssertionError(msg)
    if not zulu and (int(off_h) > 23 or int(off_m) > 59):
        msg = f"{what} {text!r} has an offset outside RFC 3339's -23:59 to +23:59"
        raise AssertionError(msg)
    try:
        offset = dt.timedelta(hours=int(off_h), minutes=int(off_m)) if not zulu else dt.timedelta(0)
        tz = dt.timezone(-offset if sign == "-" else offset)
        value = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int(fraction[:6].ljust(6, "0")), tzinfo=tz,
        )  # fmt: skip
    except ValueError as exc:
        msg = f"{what} {text!r} is not a valid RFC 3339 date-time: {exc}"
        raise AssertionError(msg) from None
    return value.astimezone(dt.UTC)


def at(seconds: float) -> dt.datetime:
    """The instant ``seconds`` after the clock's start."""
    return T0 + dt.timedelta(seconds=seconds)


def instant(record: Any, field: str) -> dt.datetime:
    """Read one of a record's instants, failing the test when it is not RFC 3339."""
    if not isinstance(record, dict):
        pytest.fail(f"expected a session record, got {show(record)}", pytrace=False)
    try:
        return parse_instant(record.get(field), f"{field} of session {record.get('id')!r}")
    except AssertionError as exc:
        pytest.fail(str(exc), pytrace=False)


def as_record(answer: Any, doing: str) -> dict[str, Any]:
    """Fail the test unless ``answer`` is a JSON object, the shape every test reads a record as.

    What a record holds is judged by the requirement about the field a test reads; its written
    form (the schema) is STORE-036's alone, so that no other requirement fails for it.
    """
    if not isinstance(answer, dict):
        pytest.fail(f"{doing}: expected a session record, got {show(answer)}", pytrace=False)
    return answer


def id_of(answer: Any, doing: str) -> str:
    """The id of a record; a test that needs it fails when there is none."""
    sid = as_record(answer, doing).get("id")
    if not isinstance(sid, str):
        pytest.fail(f"{doing}: the record's id is {show(sid)}, not a string", pytrace=False)
    return sid


def assert_record_format(record: Any, doing: str, *, ttl: bool) -> dict[str, Any]:
    """Check ``record`` against schemas/store/record.schema.json for the claims (STORE-036)."""
    checked = as_record(record, doing)
    kind = "with-ttl" if ttl else "without-ttl"
    for name, validator in (("the record schema", _RECORD), (f"its {kind} form", _RECORD_KIND[ttl])):
        errors = sorted(validator.iter_errors(record), key=str)
        if errors:
            pytest.fail(f"{doing}: the record {show(record)} breaks {name}: {errors[0].message}", pytrace=False)
    return checked


_RECORD = validator_for("store/record.schema.json")
_RECORD_KIND = {
    ttl: validator_for("store/record.schema.json").evolve(schema={"$ref": f"{_RECORD.schema['$id']}#/$defs/{kind}"})
    for ttl, kind in ((True, "with-ttl"), (False, "without-ttl"))
}


def assert_times(record: Any, doing: str, **expected_at: float | None) -> None:
    """Compare instants of a record (``created=``, ``active=``, ``expires=``) with the clock start plus seconds.

    Only the instants named are compared; ``expires=None`` expects ``expires_at`` null.
    """
    as_record(record, doing)
    fields = {"created": "created_at", "active": "last_active_at", "expires": "expires_at"}
    wrong = {}
    for name, seconds in expected_at.items():
        field = fields[name]
        if seconds is None:
            if record.get(field) is not None:
                wrong[field] = (show(record.get(field)), "null")
            continue
        got = instant(record, field)
        if got != at(seconds):
            wrong[field] = (got.isoformat(), at(seconds).isoformat())
    if wrong:
        lines = "\n".join(f"  {f}: got {g}, expected {e}" for f, (g, e) in wrong.items())
        pytest.fail(f"{doing}:\n{lines}", pytrace=False)


def same_session(a: Any, b: Any) -> bool:
    """Records equal field by field, instants compared as instants (not strings)."""
    if not isinstance(a, dict) or not isinstance(b, dict) or set(a) != set(RECORD_FIELDS) or set(b) != set(a):
        return False
    for field in RECORD_FIELDS:
        if field in ("created_at", "last_active_at", "expires_at"):
            if a[field] is None or b[field] is None:
                if a[field] is not b[field]:
                    return False
                continue
            try:
                if parse_instant(a[field]) != parse_instant(b[field]):
                    return False
            except AssertionError:
                return False
        elif not json_equal(a[field], b[field]):
            return False
    return True


def assert_same_session(actual: Any, expected: Any, doing: str) -> None:
    if not same_session(actual, expected):
        pytest.fail(f"{doing}:\n  expected {show(expected)}\n  got      {show(actual)}", pytrace=False)


def ids_of(records: Any, doing: str) -> list[str]:
    if not isinstance(records, list):
        pytest.fail(f"{doing}: expected an array of records, got {show(records)}", pytrace=False)
    return [id_of(r, doing) for r in records]


def count_removed(store: StoreClient, doing: str) -> int:
    """Call cleanup and return its count; a count that is not an integer is STORE-038's to judge."""
    removed = store.cleanup()
    if type(removed) is not int:
        not_judged("STORE-038", f"{doing} returned {show(removed)}, not an integer count")
    return removed


def restart(store: StoreClient) -> None:
    """Restart the store; a restart that fails with an error answer is STORE-034's to judge."""
    try:
        store.reopen()
    except ImplementationError as exc:
        if exc.kind == "internal":
            raise  # a crash is not an answer (spec/contract.md)
        not_judged("STORE-034", f"the restart failed with {exc.kind!r}: {exc.message}")
