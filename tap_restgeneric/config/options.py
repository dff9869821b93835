"""Typed component options: one frozen dataclass per component, its fields carrying their checks."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, TypeVar

from tap_restgeneric.config.fields import REQUIRED, Field, check_options
from tap_restgeneric.errors import ConfigErrors, Path

CHECK = "check"
"""Metadata key of a dataclass field that is a config option: its ``Field`` (kind, default…)."""
JSONPATH = "jsonpath"
"""Metadata key: the option is a JSONPath read in the response body."""
ALIAS = "alias"
"""Metadata key: the option is another name for others, folded into them when built (it is
checked, but not part of the built options' Mapping view)."""

OptionsT = TypeVar("OptionsT", bound="Options")


def option(
    kind: str,
    default: Any = None,
    *,
    nullable: bool = True,
    choices: tuple[str, ...] | None = None,
    jsonpath: bool = False,
    alias: bool = False,
) -> Any:
    """A config option: a dataclass field carrying the ``Field`` the validator checks it with."""
    check = Field(kind, default, nullable, choices)
    value = None if default is REQUIRED else default
    meta = {CHECK: check, JSONPATH: jsonpath, ALIAS: alias}
    return dataclasses.field(default=value, metadata=meta)


def derived(default: Any = None) -> Any:
    """A value computed from the options when they are built (not written in config)."""
    return dataclasses.field(default=default, repr=False)


@dataclasses.dataclass(frozen=True, eq=False)
class Options(Mapping[str, Any]):
    """A component's checked options as typed attributes, built once when config is resolved.

    Subclasses declare each config option as a field made with ``option()`` (its check travels
    with it) and values computed from them with ``derived()``. Read as a Mapping it shows the
    config options only (for display and comparison with a dict); code reads the attributes.
    """

    @classmethod
    def fields(cls) -> dict[str, Field]:
        """The validator's table, in the order the options are declared (own before inherited)."""
        return _fields(cls)

    @classmethod
    def jsonpaths(cls) -> tuple[str, ...]:
        """The options that are JSONPaths read in the response body."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get(JSONPATH))

    @classmethod
    def build(
        cls: type[OptionsT], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> OptionsT:
        """Check ``raw`` against the fields, normalize across keys, and build the options."""
        values = check_options(raw, cls.fields(), path, errors, ignore=frozenset({"type"}))
        cls.normalize(values, raw, path, errors)
        return cls(**values)

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check values across keys and compute derived ones, in place, before building."""

    def __getitem__(self, key: str) -> Any:
        if key not in _view(type(self)):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_view(type(self)))

    def __len__(self) -> int:
        return len(_view(type(self)))


@cache
def _fields(cls: type[Options]) -> dict[str, Field]:
    order: list[str] = []
    for klass in cls.__mro__:
        order += [name for name in inspect.get_annotations(klass) if name not in order]
    checks = {f.name: f.metadata[CHECK] for f in dataclasses.fields(cls) if CHECK in f.metadata}
    return {name: checks[name] for name in order if name in checks}


@cache
def _view(cls: type[Options]) -> tuple[str, ...]:
    """The option names the Mapping view shows: the declared options but aliases."""
    aliases = {f.name for f in dataclasses.fields(cls) if f.metadata.get(ALIAS)}
    return tuple(name for name in _fields(cls) if name not in aliases)
