"""dlt's ``incremental``: resolve its three config forms into an IncrementalSpec."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tap_restgeneric.config.fields import REQUIRED, Field, check_options
from tap_restgeneric.config.raw import IncrementalConfig
from tap_restgeneric.config.spec import IncrementalSpec
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.records.cursors import FORMATS, parse_duration
from tap_restgeneric.records.selectors import check_jsonpath

INCREMENTAL_FIELDS = {
    "cursor_path": Field("name", REQUIRED, nullable=False),
    "initial_value": Field("any"),
    "end_value": Field("any"),
    "start_param": Field("name"),
    "end_param": Field("name"),
    "lag": Field("number", 0, nullable=False),
    "on_cursor_value_missing": Field("string", "raise", False, ("raise", "include", "exclude")),
    "row_order": Field("string", None, True, ("asc", "desc")),
    "range_start": Field("string", "closed", False, ("closed", "open")),
    "range_end": Field("string", "open", False, ("open", "closed")),
    "convert": Field("string"),
    "window_size": Field("string"),
    "primary_key": Field("any"),
    "last_value_func": Field("string", "max", False, ("max",)),
    "allow_external_schedulers": Field("boolean"),
    "per_parent": Field("boolean", False, nullable=False),
}
_PLAIN_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def replication_key_for(cursor_path: str) -> str:
    """The record field that carries the cursor: the path itself, or ``a__b`` for nested paths."""
    path = cursor_path.removeprefix("$.")
    if _PLAIN_FIELD.match(path):
        return path
    return "__".join(p for p in re.split(r"[^A-Za-z0-9_]+", path) if p) or "_cursor"


def _from_params(
    params: dict[str, Any], path: Path, errors: ConfigErrors
) -> tuple[str, dict[str, Any]] | None:
    """Find the param-level form ``{"type": "incremental", …}``; remove it from params."""
    found = [k for k, v in params.items() if isinstance(v, dict) and v.get("type") == "incremental"]
    if len(found) > 1:
        errors.add(path, f"params {found} are all incremental", "only a single incremental param")
    if not found:
        return None
    name = found[0]
    raw = dict(params.pop(name))
    for other in found[1:]:
        params.pop(other)
    for key in ("end_value", "end_param"):
        if key in raw:
            errors.add(
                (*path, name, key),
                f"a param-level incremental cannot set {key!r}",
                "endpoint 'incremental' with 'end_param'",
            )
    raw.pop("type")
    return name, raw


def incremental_spec(
    raw: IncrementalConfig | None,
    params: dict[str, Any],
    path: Path,
    errors: ConfigErrors,
    *,
    primary_key: tuple[str, ...],
    start_date: Any,
) -> IncrementalSpec | None:
    """Resolve ``endpoint.incremental`` or a param-level incremental (not both)."""
    in_params = _from_params(params, (*path, "params"), errors)
    if in_params is not None and raw is not None:
        errors.add(
            (*path, "incremental"),
            "incremental is given both in 'params' and as 'incremental'",
            "only one of them",
        )
    given: object = raw  # as written: JSON may hold anything here
    if in_params is not None:
        given = {**in_params[1], "start_param": in_params[0]}
        where: Path = (*path, "params", in_params[0])
    elif raw is None:
        return None
    else:
        where = (*path, "incremental")
    if not isinstance(given, dict):
        errors.add(where, "wrong type", "an object with 'cursor_path'")
        return None
    opts = check_options(given, INCREMENTAL_FIELDS, where, errors)
    if opts["cursor_path"] and (problem := check_jsonpath(opts["cursor_path"])):
        errors.add((*where, "cursor_path"), f"invalid JSONPath: {problem}", "a JSONPath")
    convert = opts["convert"]
    if convert is not None and convert not in FORMATS and "%" not in convert:
        errors.unknown_name((*where, "convert"), "convert format", convert, [*FORMATS, "%Y…"])
    window = None
    if opts["window_size"] is not None:
        window = parse_duration(opts["window_size"])
        if window is None:
            errors.add(
                (*where, "window_size"),
                f"invalid duration {opts['window_size']!r}",
                "an ISO 8601 duration such as 'P7D' or 'PT6H'",
            )
        elif window < timedelta(seconds=1):  # cursors are written to the second (or ms)
            errors.add(
                (*where, "window_size"),
                f"window {opts['window_size']!r} is shorter than a second",
                "a duration of at least one second such as 'PT1H' or 'P7D'",
            )
            window = None
        elif opts["initial_value"] is None and not start_date:
            errors.add(
                (*where, "window_size"),
                "date windows need a start",
                "'initial_value' here or the 'start_date' setting",
            )
    keys = opts["primary_key"]
    if keys is not None and not (
        isinstance(keys, str) or (isinstance(keys, list) and all(isinstance(k, str) for k in keys))
    ):
        errors.add((*where, "primary_key"), "wrong type", "a field name or a list of field names")
        keys = None
    # None (no key anywhere) de-duplicates the boundary by content hash; an explicit [] is off
    if keys is None:
        dedupe: tuple[str, ...] | None = primary_key or None
    else:
        dedupe = (keys,) if isinstance(keys, str) else tuple(keys)
    return IncrementalSpec(
        cursor_path=opts["cursor_path"] or "",
        replication_key=replication_key_for(opts["cursor_path"] or ""),
        initial_value=opts["initial_value"],
        end_value=opts["end_value"],
        start_param=opts["start_param"],
        end_param=opts["end_param"],
        lag=opts["lag"] or 0,
        on_cursor_value_missing=opts["on_cursor_value_missing"] or "raise",
        row_order=opts["row_order"],
        range_start=opts["range_start"] or "closed",
        range_end=opts["range_end"] or "open",
        convert=convert,
        window=window,
        primary_key=dedupe,
        per_parent=bool(opts["per_parent"]),
        start_date=start_date,
    )


def incremental_names(spec: IncrementalSpec | None) -> frozenset[str]:
    """The ``incremental.*`` placeholders an endpoint may use."""
    if spec is None:
        return frozenset()
    attrs = ("start_value", "end_value", "last_value", "initial_value", "lag", "cursor_path")
    return frozenset(f"incremental.{a}" for a in attrs)
