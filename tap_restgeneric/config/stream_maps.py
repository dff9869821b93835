"""``stream_maps`` checked as the SDK will read them, so a bad map is a config error line."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from tap_restgeneric.config.fields import Field, check_value, clip, describe, json_type
from tap_restgeneric.errors import ConfigErrors, Path

MAP_OPTIONS = ("__alias__", "__else__", "__filter__", "__key_properties__", "__source__")
"""The SDK's stream map operators; any other key of a stream map is a property expression."""
NULL_MAP = "__NULL__"


def _map_expression(expr: Any, path: Path, errors: ConfigErrors, *, what: str) -> None:
    """Check one stream map expression parses as the SDK parses it (one Python expression)."""
    if not isinstance(expr, str):
        errors.add(path, f"wrong type: got {json_type(expr)}", what)
        return
    shown = clip(expr, 60)
    shown = repr(shown) if len(expr) <= 60 else repr(shown.partition(" … ")[0]) + "…"
    problem = None
    try:
        body = ast.parse(expr).body
    except SyntaxError as exc:
        problem = exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        problem = str(exc) or type(exc).__name__
    else:
        if len(body) != 1 or not isinstance(body[0], ast.Expr):
            problem = "not a single expression"
    if problem is not None:
        errors.add(path, f"invalid stream map expression {shown}: {problem}", what)


def check_stream_maps(maps: Any, errors: ConfigErrors) -> None:
    """Check ``stream_maps`` as the SDK will read it, so a bad map is a config error line."""
    if not isinstance(maps, dict):
        return  # the SDK's schema check reports the wrong type
    null = f"null or {NULL_MAP!r}"
    for name, stream_map in maps.items():
        path: Path = ("stream_maps", name)
        if name == "__else__":
            if stream_map not in (None, NULL_MAP):
                errors.add(path, f"unsupported value {describe(stream_map)}", null)
        elif str(name).startswith("__"):
            errors.add(path, f"unknown stream map option {name!r}", "a stream name or '__else__'")
        elif isinstance(stream_map, dict):
            _check_stream_map(stream_map, path, errors)
        elif stream_map not in (None, NULL_MAP):
            errors.add(
                path,
                f"wrong type: got {describe(stream_map)}",
                f"an object of property expressions, or {null} to leave the stream out",
            )


def _check_stream_map(stream_map: Mapping[str, Any], path: Path, errors: ConfigErrors) -> None:
    expression = 'a Python expression such as "id * 2" or "str(created_at)"'
    for key, value in stream_map.items():
        where = (*path, key)
        if key == "__source__":
            check_value(value, Field("name", nullable=False), where, errors)
        elif key == "__alias__":
            _map_expression(value, where, errors, what="a stream name or an expression")
        elif key == "__filter__":
            _map_expression(value, where, errors, what=expression)
        elif key == "__key_properties__":
            check_value(value, Field("string list"), where, errors)
        elif key == "__else__":
            if value not in (None, NULL_MAP):
                errors.add(where, f"unsupported value {describe(value)}", f"null or {NULL_MAP!r}")
        elif str(key).startswith("__"):
            errors.unknown_name(where, "stream map option", key, MAP_OPTIONS)
        elif value not in (None, NULL_MAP):
            _map_expression(value, where, errors, what=f"{expression}, or null to drop the field")
