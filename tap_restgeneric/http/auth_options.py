"""Typed authenticator options: a frozen dataclass per auth type, each field carrying its check."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, TypeVar

from tap_restgeneric.config.fields import REQUIRED, Field, check_options
from tap_restgeneric.errors import ConfigErrors, Path

CHECK = "check"
"""Metadata key of an option's ``Field``: the kind, default and choices the validator checks."""
SECRET = "secret"
"""Metadata key: the option holds a credential (left out of the options' repr)."""
_HASHED_KINDS = frozenset({"string", "name", "integer", "number", "boolean"})
"""Kinds whose values are hashable: the options' hash covers these (objects and lists not)."""

OptionsT = TypeVar("OptionsT", bound="AuthOptions")


def option(
    kind: str,
    default: Any = None,
    *,
    nullable: bool = True,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
) -> Any:
    """A config option: a dataclass field carrying the ``Field`` it is checked with.

    A ``secret`` option is left out of the repr, so a logged or printed spec never shows it.
    """
    check = Field(kind, default, nullable, choices)
    meta = {CHECK: check, SECRET: secret}
    if isinstance(default, dict | list):
        empty = type(default)
        return dataclasses.field(default_factory=empty, repr=not secret, metadata=meta)
    value = None if default is REQUIRED else default
    return dataclasses.field(default=value, repr=not secret, metadata=meta)


@dataclasses.dataclass(frozen=True, eq=False)
class AuthOptions(Mapping[str, Any]):
    """An authenticator's checked options as typed attributes, built once when config is resolved.

    Subclasses (``@dataclass(frozen=True, eq=False, kw_only=True)``) declare each option with
    ``option()``; the validator's table is derived from them (``fields()``). Read as a Mapping
    the options are what config gave (for display and comparison with a dict); code reads the
    attributes. Equal options hash alike, so they key the run's authenticators without JSON.
    """

    @classmethod
    def fields(cls) -> dict[str, Field]:
        """The validator's table: option name → ``Field``, in declaration order."""
        return dict(_fields(cls))

    @classmethod
    def secrets(cls) -> frozenset[str]:
        """The options that hold credentials."""
        return frozenset(f.name for f in dataclasses.fields(cls) if f.metadata.get(SECRET))

    @classmethod
    def build(
        cls: type[OptionsT], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> OptionsT:
        """Check ``raw`` (a config object, its ``type`` aside) and build the options.

        A wrong or missing value is reported to ``errors`` and built as None: resolving
        fails at its end, so options with errors never reach a run.
        """
        values = check_options(raw, _fields(cls), path, errors, ignore=frozenset({"type"}))
        return cls(**values)

    def __getitem__(self, key: str) -> Any:
        if key not in _fields(type(self)):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_fields(type(self)))

    def __len__(self) -> int:
        return len(_fields(type(self)))

    def __hash__(self) -> int:
        checks = _fields(type(self))
        scalars = [getattr(self, n) for n, f in checks.items() if f.kind in _HASHED_KINDS]
        return hash(tuple(scalars))


@cache
def _fields(cls: type[AuthOptions]) -> dict[str, Field]:
    return {f.name: f.metadata[CHECK] for f in dataclasses.fields(cls) if CHECK in f.metadata}
