"""dlt placeholders (``{incremental.start_value}``) in path, params, json, data and headers."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tap_restgeneric.errors import ConfigErrors, Path

_FORMATTER = string.Formatter()


class _WholeNameFormatter(string.Formatter):
    """Looks fields up by their whole dotted name, as dlt does (``incremental.start_value``)."""

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        return kwargs[field_name], field_name


_WHOLE = _WholeNameFormatter()


def fields_in(text: str) -> list[str]:
    """The placeholder names in a template string (raises ValueError on unbalanced braces)."""
    return [name for _, name, _, _ in _FORMATTER.parse(text) if name is not None]


def lone_field(text: str) -> str | None:
    """The name if the string is exactly one placeholder (``"{x.y}"``), else None."""
    parts = list(_FORMATTER.parse(text))
    if len(parts) == 1 and parts[0][0] == "" and parts[0][1] and not parts[0][2]:
        return parts[0][1] if not parts[0][3] else None
    return None


def escape(text: str) -> str:
    """Escape braces so that a literal survives rendering."""
    return text.replace("{", "{{").replace("}", "}}")


def render_text(text: str, values: Mapping[str, Any]) -> str:
    """Fill the placeholders of one string."""
    return _WHOLE.vformat(text, (), values)


def render(node: Any, values: Mapping[str, Any], *, native: bool = False) -> Any:
    """Fill placeholders in strings (and dict keys) of a nested value.

    With ``native`` (JSON bodies), a string that is exactly one placeholder keeps the value's type.
    """
    if isinstance(node, str):
        if native and (name := lone_field(node)) is not None:
            return values[name]
        return render_text(node, values)
    if isinstance(node, dict):
        return {
            render_text(k, values) if isinstance(k, str) else k: render(v, values, native=native)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [render(v, values, native=native) for v in node]
    return node


def collect(node: Any) -> list[str]:
    """Every placeholder name in a nested value (strings and dict keys)."""
    if isinstance(node, str):
        return fields_in(node)
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if isinstance(key, str):
                found += fields_in(key)
            found += collect(value)
        return found
    if isinstance(node, list):
        return [name for item in node for name in collect(item)]
    return []


@dataclass(frozen=True)
class Allowed:
    """The placeholders an endpoint may use: exact names and ``resources.<parent>.*``."""

    names: frozenset[str] = frozenset()
    parent: str | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        prefix = f"resources.{self.parent}."
        return name in self.names or (self.parent is not None and name.startswith(prefix))

    def describe(self) -> str:
        """The allowed names, for an error's "expected" clause."""
        shown = [f"{{{n}}}" for n in sorted(self.names)]
        if self.parent is not None:
            shown.append(f"{{resources.{self.parent}.<field>}}")
        if not shown:
            return "no placeholders: {incremental.*} ones need an 'incremental' on the endpoint"
        return "one of " + ", ".join(shown)


def _check_name(name: str, allowed: Allowed, where: Path, what: str, errors: ConfigErrors) -> bool:
    """Record a problem for a placeholder that cannot be filled; True when it is fine.

    ``resources.*`` names outside the parent were already reported by the parent check.
    """
    if name in allowed:
        return True
    if not name.startswith("resources."):
        errors.add(where, f"placeholder {{{name}}} in {what} is not valid", allowed.describe())
    return False


def bind_path(
    text: str, params: dict[str, Any], allowed: Allowed, where: Path, errors: ConfigErrors
) -> tuple[str, bool]:
    """Fill static ``{name}`` path params (removing them from the query).

    Returns the path and whether it still holds placeholders to fill per request (then the
    path is a template with literal braces escaped).
    """
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        errors.add(
            where,
            f"path {text!r} is not a valid template: {exc}",
            "'{{' and '}}' for literal braces",
        )
        return text, False
    plain, template, bound = [], [], set()
    dynamic = False
    for literal, name, spec, conversion in parsed:
        plain.append(literal)
        template.append(escape(literal))
        if name is None:
            continue
        if "." in name:
            if _check_name(name, allowed, where, f"path {text!r}", errors):
                dynamic = True
                template.append(
                    "{"
                    + name
                    + (f"!{conversion}" if conversion else "")
                    + (f":{spec}" if spec else "")
                    + "}"
                )
        elif name in params and not isinstance(params[name], dict):
            value = format(params[name], spec or "")
            plain.append(value)
            template.append(escape(value))
            bound.add(name)
        else:
            errors.add(where, f"path {text!r} requires a param named {name!r}", f"params[{name!r}]")
    for name in bound:
        params.pop(name)
    return ("".join(template), True) if dynamic else ("".join(plain), False)


def _has_braces(node: Any) -> bool:
    """True if any string (or dict key) in a nested value holds a brace."""
    if isinstance(node, str):
        return "{" in node or "}" in node
    if isinstance(node, dict):
        return any(_has_braces(k) or _has_braces(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_braces(v) for v in node)
    return False


def check_placeholders(
    endpoint: Mapping[str, Any], allowed: Allowed, path: Path, errors: ConfigErrors
) -> bool:
    """Check placeholders in params, json, data and headers; True if any need rendering.

    Escaped braces (``{{x}}``) also need rendering: they are sent as ``{x}``.
    """
    used = False
    for key in ("params", "json", "data", "headers"):
        used |= _has_braces(endpoint.get(key))
        try:
            names = collect(endpoint.get(key))
        except ValueError as exc:
            errors.add((*path, key), f"invalid braces: {exc}", "'{{' and '}}' for literal braces")
            continue
        for name in names:
            _check_name(name, allowed, (*path, key), f"'{key}'", errors)
    return used
