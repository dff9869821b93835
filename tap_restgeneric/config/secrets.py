"""Named secrets: {"secret": "NAME"} resolved from the secrets setting or the environment
(NAME, then dlt's names such as SOURCES__REST_API__CREDENTIALS__NAME)."""

from __future__ import annotations

import os
import re
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


# dlt's environment names for a secret NAME, after NAME itself (dlt's config providers look in
# these sections for a rest_api source's credentials and a source's dlt.secrets values).
DLT_PREFIXES = (
    "SOURCES__REST_API__CREDENTIALS__",
    "SOURCES__REST_API__",
    "SOURCES__CREDENTIALS__",
    "SOURCES__",
    "CREDENTIALS__",
)
ANY_SOURCE = "SOURCES__<SOURCE>__"


def env_names(name: str) -> list[str]:
    """The environment variables tried for a secret, in order.

    ``NAME`` upper-cased, then dlt's names: ``SOURCES__REST_API__CREDENTIALS__NAME``,
    ``SOURCES__REST_API__NAME``, ``SOURCES__CREDENTIALS__NAME``, ``SOURCES__NAME``,
    ``CREDENTIALS__NAME``. A dotted name (dlt's ``sources.x.token``) is tried as is upper-cased
    and as dlt writes it in the environment (``SOURCES__X__TOKEN``).
    """
    upper = name.upper()
    if "." in name:
        return list(dict.fromkeys([upper, "__".join(upper.split("."))]))
    return [upper, *(prefix + upper for prefix in DLT_PREFIXES)]


def any_source_values(name: str) -> dict[str, str]:
    """``SOURCES__<SOURCE>__NAME`` and ``SOURCES__<SOURCE>__CREDENTIALS__NAME`` set, by variable."""
    if "." in name:
        return {}
    pattern = re.compile(
        rf"SOURCES__(?:(?!__)[A-Z0-9_])+__(?:CREDENTIALS__)?{re.escape(name.upper())}"
    )
    return {key: value for key, value in os.environ.items() if pattern.fullmatch(key)}


def lookup(name: str, secrets: Mapping[str, Any]) -> Any:
    """Find a secret by name: the secrets setting first, then the environment (``env_names``).

    Last, ``SOURCES__<SOURCE>__NAME`` (or ``...__CREDENTIALS__NAME``) for any one dlt source
    section, when all such variables set hold the same value.
    """
    if name in secrets:
        return secrets[name]
    for variable in env_names(name):
        if variable in os.environ:
            return os.environ[variable]
    values = set(any_source_values(name).values())
    return values.pop() if len(values) == 1 else None


def report_missing(name: str, path: Path, errors: ConfigErrors) -> None:
    """Report a secret that is in none of the places it is looked for, naming each."""
    where = format_path(("secrets", name))
    tried = env_names(name)
    if "." not in name:
        upper = name.upper()
        tried += [f"{ANY_SOURCE}{upper}", f"{ANY_SOURCE}CREDENTIALS__{upper}"]
    found = sorted(any_source_values(name))
    clash = f" (set with different values in {', '.join(found)})" if len(found) > 1 else ""
    errors.add(
        path,
        f"secret {name!r} is not set{clash}",
        f"it in {where} or one of the environment variables {', '.join(tried)}",
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
