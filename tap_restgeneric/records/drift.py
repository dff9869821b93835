"""Schema drift: each record is checked against the stream's schema; evolve, freeze or fail."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tap_restgeneric.records.page_check import PageCheck

POLICIES = ("evolve", "freeze", "fail")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float, Decimal),
    "string": (str,),
    "object": (dict,),
    "array": (list, tuple),
}
logger = logging.getLogger(__name__)


class SchemaDriftError(Exception):
    """A record does not fit the schema and the policy is ``fail``."""


def _allowed(schema: Mapping[str, Any]) -> frozenset[type] | None:
    """The Python types a property schema accepts (None: anything)."""
    kinds = schema.get("type")
    if kinds is None or "anyOf" in schema or "oneOf" in schema:
        return None
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    found = {t for name in names for t in _PYTHON_TYPES.get(name, ())}
    if "integer" in names and "boolean" not in names:
        found.discard(bool)
    return frozenset(found)


class _Items:
    """What an array property allows for its elements."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        self.allowed = _allowed(items)
        self.checker = Checker(items) if items.get("properties") else None
        inner = items.get("items")
        self.inner: _Items | None = None  # arrays of arrays, all the way down
        if isinstance(inner, dict) and (inner.get("type") or inner.get("properties")):
            self.inner = _Items(inner)

    def misfits(self, values: list[Any], where: str) -> list[str]:
        found: list[str] = []
        for value in values:
            if self.allowed is not None and type(value) not in self.allowed:
                return [f"{where}[]"]
            if self.checker is not None and type(value) is dict:
                found += self.checker.misfits(value, f"{where}[].")
            elif self.inner is not None and type(value) is list:
                found += self.inner.misfits(value, f"{where}[]")
        return found


class Checker:
    """Finds the fields of a record (nested objects, array items) its schema does not describe."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.fields: dict[str, tuple[frozenset[type] | None, Checker | None]] = {}
        self._arrays: list[tuple[str, _Items]] = []
        for name, raw in (schema.get("properties") or {}).items():
            prop = raw if isinstance(raw, dict) else {}
            nested = Checker(prop) if prop.get("properties") else None
            self.fields[name] = (_allowed(prop), nested)
            items = prop.get("items")
            if isinstance(items, dict) and (items.get("type") or items.get("properties")):
                self._arrays.append((name, _Items(items)))
        self._nested = [(name, n) for name, (_, n) in self.fields.items() if n is not None]
        self._good_shapes: set[tuple[tuple[str, ...], tuple[type, ...]]] = set()

    def _deep(self, record: Mapping[str, Any], prefix: str) -> list[str]:
        """Nested objects and arrays of a record whose top level is known to fit."""
        found: list[str] = []
        for name, checker in self._nested:
            value = record.get(name)
            if type(value) is dict:
                inner = (tuple(value), tuple(map(type, value.values())))
                if inner not in checker._good_shapes or checker._nested or checker._arrays:
                    found += checker.misfits(value, f"{prefix}{name}.")
        for name, items in self._arrays:
            values = record.get(name)
            if type(values) is list and values:
                found += items.misfits(values, prefix + name)
        return found

    def misfits(self, record: Mapping[str, Any], prefix: str = "") -> list[str]:
        """Dotted names of unknown fields or values of another type (empty: the record fits).

        Each record shape (keys and value types) is checked once; after that only nested
        objects and array items are looked into.
        """
        shape = (tuple(record), tuple(map(type, record.values())))
        if shape in self._good_shapes:
            return self._deep(record, prefix) if self._nested or self._arrays else []
        found: list[str] = []
        for name, value in record.items():
            spec = self.fields.get(name)
            if spec is None or (spec[0] is not None and type(value) not in spec[0]):
                found.append(prefix + name)
        if not found:
            self._good_shapes.add(shape)
        if self._nested or self._arrays:
            found += self._deep(record, prefix)
        return found


class DriftGuard:
    """Applies a stream's drift policy to its records, calling ``on_schema`` when it evolves."""

    def __init__(
        self,
        stream: str,
        schema: dict[str, Any],
        policy: str,
        on_schema: Callable[[dict[str, Any]], None],
        widen: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]],
    ) -> None:
        self.stream = stream
        self.schema = schema
        self.policy = policy
        self.on_schema = on_schema
        self.widen = widen
        self.checker = Checker(schema)
        self.page_check = PageCheck(schema)
        self.changes = 0
        self._warned: set[str] = set()

    def apply_page(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``apply`` to each record of a page, unless the whole page is seen to fit at once."""
        if self.page_check.fits(records):
            return records
        return [self.apply(record) for record in records]

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        """Return the record as it may be written (freeze drops fields), evolving the schema."""
        misfits = self.checker.misfits(record)
        if not misfits:
            return record
        if self.policy == "fail":
            msg = (
                f"stream {self.stream!r}: a record has fields not in the schema or of another "
                f"type: {', '.join(misfits)} (schema_drift is 'fail')"
            )
            raise SchemaDriftError(msg)
        if self.policy == "freeze":
            for name in misfits:
                self._drop(record, name)
            return record
        self.schema = self.widen(self.schema, record)
        self.checker = Checker(self.schema)
        self.page_check = PageCheck(self.schema)
        self.changes += 1
        logger.info("Stream %r: schema evolved for %s", self.stream, ", ".join(misfits))
        self.on_schema(self.schema)
        return record

    def _drop(self, record: dict[str, Any], dotted: str) -> None:
        *parents, last = dotted.split(".")
        node: Any = record
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
        if dotted not in self._warned:
            self._warned.add(dotted)
            logger.warning(
                "Stream %r: field %r is not in the schema (or has another type) and is dropped "
                "(schema_drift is 'freeze'; this is said once per field)",
                self.stream,
                dotted,
            )
