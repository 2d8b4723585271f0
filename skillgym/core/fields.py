"""Checking records read from files (checkpoint metadata, benchmark results) field by field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

# A field's check: the test its value must pass, and what a person is told it must be.
FieldCheck = tuple[Callable[[Any], bool], str]


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_fields(
    record: Any,
    checks: Mapping[str, FieldCheck],
    source: object,
    where: str = "",
    required: Iterable[str] | None = None,
) -> None:
    """Raise a ValueError naming `source` and the first field of `record` (an object read from
    `source`, its fields prefixed by `where` in messages) that is missing, unknown or fails its
    check. Every checked field is `required` unless a narrower list is given."""
    if not isinstance(record, dict):
        what = where.rstrip(".") or "the file"
        raise ValueError(f"{source}: {what} should be an object, not {record!r:.60}")
    unknown = sorted(set(record) - set(checks))
    if required is not None and unknown:  # a record of optional fields names all it may hold
        raise ValueError(f"{source}: unknown field {where}{unknown[0]}; known: {', '.join(checks)}")
    for key in checks if required is None else required:
        if key not in record:
            raise ValueError(f"{source}: {where}{key} is missing (expected {checks[key][1]})")
    for key, (valid, expected) in checks.items():
        if key in record and not valid(record[key]):
            raise ValueError(
                f"{source}: {where}{key} should be {expected}, not {record[key]!r:.60}"
            )
