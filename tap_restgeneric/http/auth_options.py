"""Typed authenticator options: component options whose secrets stay out of reprs, hashable."""

from __future__ import annotations

import dataclasses
from typing import Any

from tap_restgeneric.config.fields import REQUIRED, Field
from tap_restgeneric.config.options import ALIAS, CHECK, JSONPATH, Options

SECRET = "secret"
"""Metadata key: the option holds a credential (left out of the options' repr)."""
_HASHED_KINDS = frozenset({"string", "name", "integer", "number", "boolean"})
"""Kinds whose values are hashable: the options' hash covers these (objects and lists not)."""


def option(
    kind: str,
    default: Any = None,
    *,
    nullable: bool = True,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
) -> Any:
    """An auth option: a dataclass field carrying the ``Field`` it is checked with
    (``config.options.option`` plus ``secret``: left out of the repr, so a logged or printed
    spec never shows it; an object or list default is a fresh copy per instance)."""
    check = Field(kind, default, nullable, choices)
    meta = {CHECK: check, JSONPATH: False, ALIAS: False, SECRET: secret}
    if isinstance(default, dict | list):
        empty = type(default)
        return dataclasses.field(default_factory=empty, repr=not secret, metadata=meta)
    value = None if default is REQUIRED else default
    return dataclasses.field(default=value, repr=not secret, metadata=meta)


@dataclasses.dataclass(frozen=True, eq=False)
class AuthOptions(Options):
    """An authenticator's checked options (``config.options.Options``: typed attributes built
    once when config is resolved, the validator's table derived from the fields, a read-only
    Mapping view for display and comparison with a dict).

    Subclasses (``@dataclass(frozen=True, eq=False, kw_only=True)``) declare each option with
    this module's ``option()``. Equal options hash alike, so they key the run's authenticators
    without serialising a secret.
    """

    @classmethod
    def secrets(cls) -> frozenset[str]:
        """The options that hold credentials."""
        return frozenset(f.name for f in dataclasses.fields(cls) if f.metadata.get(SECRET))

    def __hash__(self) -> int:
        values = [getattr(self, n) for n, f in self.fields().items() if f.kind in _HASHED_KINDS]
        return hash(tuple(values))
