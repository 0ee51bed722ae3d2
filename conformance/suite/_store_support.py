"""Helpers the STORE tests share: instants on the kit's clock, and record checks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from conformance._data import validator_for
from conformance._values import json_equal
from conformance.areas.store import RECORD_FIELDS
from conformance.contract import ManualClock
from conformance.suite._support import show

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


def assert_record(record: Any, doing: str) -> dict[str, Any]:
    """Check that ``record`` matches schemas/store/record.schema.json and return it."""
    if not isinstance(record, dict):
        pytest.fail(f"{doing}: expected a session record, got {show(record)}", pytrace=False)
    errors = sorted(validator_for("store/record.schema.json").iter_errors(record), key=str)
    if errors:
        pytest.fail(f"{doing}: the record {show(record)} breaks the schema: {errors[0].message}", pytrace=False)
    for field in ("created_at", "last_active_at", "expires_at"):
        instant(record, field)
    return record


def assert_times(record: Any, doing: str, *, created: float, active: float, expires: float) -> None:
    """Compare a record's three instants with the clock start plus the given seconds."""
    assert_record(record, doing)
    expected = {"created_at": at(created), "last_active_at": at(active), "expires_at": at(expires)}
    got = {field: instant(record, field) for field in expected}
    wrong = {f: (got[f].isoformat(), expected[f].isoformat()) for f in expected if got[f] != expected[f]}
    if wrong:
        lines = "\n".join(f"  {f}: got {g}, expected {e}" for f, (g, e) in wrong.items())
        pytest.fail(f"{doing}:\n{lines}", pytrace=False)


def same_session(a: Any, b: Any) -> bool:
    """Records equal field by field, instants compared as instants (not strings)."""
    if not isinstance(a, dict) or not isinstance(b, dict) or set(a) != set(RECORD_FIELDS) or set(b) != set(a):
        return False
    for field in RECORD_FIELDS:
        if field in ("created_at", "last_active_at", "expires_at"):
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
    return [assert_record(r, doing)["id"] for r in records]
