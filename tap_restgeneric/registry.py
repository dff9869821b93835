"""A registry from dlt's type names to the small classes that implement them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Maps a type name (as written in config) to its implementing class."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._classes: dict[str, T] = {}

    def register(self, *names: str) -> Callable[[T], T]:
        """Class decorator: register the class under one or more type names."""

        def decorate(cls: T) -> T:
            for name in names:
                self._classes[name] = cls
            return cls

        return decorate

    def get(self, name: str) -> T | None:
        """Return the class registered under ``name``, if any."""
        return self._classes.get(name)

    def __getitem__(self, name: str) -> T:
        return self._classes[name]

    @property
    def names(self) -> list[str]:
        """All registered type names, sorted."""
        return sorted(self._classes)
