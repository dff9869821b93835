"""Named secrets: {"secret": "NAME"} resolved from the secrets setting or the environment."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from tap_restgeneric.errors import ConfigErrors, Path, format_path
from tap_restgeneric.redaction import REDACT, SENSITIVE_KEYS


class MissingSecret(str):
    """Stands in for a secret that is not set, so that only the missing secret is reported."""

    __slots__ = ()


def is_reference(value: object) -> bool:
    """True for a ``{"secret": "NAME"}`` reference."""
    return isinstance(value, dict) and len(value) == 1 and "secret" in value


def lookup(name: str, secrets: Mapping[str, Any]) -> Any:
    """Find a secret by name: the secrets setting first, then the environment (upper-cased)."""
    if name in secrets:
        return secrets[name]
    return os.environ.get(name.upper())


def report_missing(name: str, path: Path, errors: ConfigErrors) -> None:
    """Report a secret that is in neither place it is looked for."""
    where = format_path(("secrets", name))
    errors.add(
        path,
        f"secret {name!r} is not set",
        f"it in {where} or the environment variable {name.upper()}",
    )


def resolve_secrets(
    node: Any,
    secrets: Mapping[str, Any],
    path: Path,
    errors: ConfigErrors,
    found: list[Any] | None = None,
) -> Any:
    """Return a copy of ``node`` with secret references replaced by their values.

    The values to redact (resolved secrets, values under sensitive keys) are registered with
    REDACT, or appended to ``found`` for the caller to register. ``node`` must be bounded in
    depth (the config reader and resolve_config refuse more than MAX_DEPTH levels).
    """
    register = REDACT.add if found is None else found.append
    if is_reference(node):
        name = node["secret"]
        if not isinstance(name, str) or not name:
            errors.add((*path, "secret"), "a secret reference needs a name", "a string")
            return MissingSecret("***")
        value = lookup(name, secrets)
        if value is None:
            report_missing(name, path, errors)
            return MissingSecret("***")
        register(value)
        return value
    if isinstance(node, dict):
        resolved = {
            k: resolve_secrets(v, secrets, (*path, k), errors, found) for k, v in node.items()
        }
        for key, value in resolved.items():
            if str(key).lower() in SENSITIVE_KEYS:
                register(value)
        return resolved
    if isinstance(node, list):
        return [resolve_secrets(v, secrets, (*path, i), errors, found) for i, v in enumerate(node)]
    return node


def secret_values(values: Iterable[Any], limit: int) -> list[Any]:
    """The distinct scalars in ``values`` (containers opened, no recursion), at most limit + 1."""
    scalars: dict[tuple[str, Any], Any] = {}
    stack = list(values)
    while stack and len(scalars) <= limit:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif value is not None:
            scalars.setdefault((type(value).__name__, value), value)
    return list(scalars.values())
