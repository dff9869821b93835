"""A stream's schema over a run: SCHEMA once per change, typed from the first page, drift."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from tap_restgeneric.records.drift import DriftGuard
from tap_restgeneric.records.inference import widen
from tap_restgeneric.records.schemas import finished, inferred_schema

if TYPE_CHECKING:
    from tap_restgeneric.config.spec import ResourceSpec
    from tap_restgeneric.sdk import StreamSeam


class SchemaTracker:
    """Writes SCHEMA once per change, types it from data when none was declared, guards drift.

    A stream owns one (``stream.schema_tracker``); it reads and swaps the stream's schema and
    writes SCHEMA through the stream's seam helpers, and announces a changed schema through the
    stream's ``write_schema`` hook.
    """

    def __init__(self, stream: StreamSeam, resource: ResourceSpec) -> None:
        self.stream = stream
        self.resource = resource
        self.changes = 0
        """SCHEMA messages written after the first (for the stream's summary)."""
        self.inferred = False
        self._written: dict[str, Any] | None = None
        self._guard: DriftGuard | None = None

    @property
    def awaits_first_page(self) -> bool:
        """True while the schema waits for the first page (no catalog and nothing declared)."""
        return not (self.resource.schema_complete or self.inferred or self.stream.has_input_catalog)

    def write(self) -> None:
        """Write SCHEMA unless it waits for the first page (or was written unchanged already)."""
        if not self.awaits_first_page:
            self._emit()

    def _emit(self) -> None:
        schema = self.stream.schema
        if schema != self._written:
            self.stream.write_sdk_schema()
            self.changes += self._written is not None
            self._written = copy.deepcopy(schema)

    def adopt(self, schema: dict[str, Any]) -> None:
        """Use a new schema from now on (stream maps are rebuilt from it when they exist)."""
        self.stream.swap_schema(schema)
        self._guard = None

    def replace(self, schema: dict[str, Any]) -> None:
        """Adopt a new schema for the rest of the run and announce it with a SCHEMA message."""
        self.adopt(schema)
        if self.stream.selected:
            self.stream.write_schema()

    def adopt_sample(self, sample: list[dict[str, Any]]) -> None:
        """Type the schema from sampled records (as --discover does)."""
        self.adopt(inferred_schema(self.resource, sample))
        self.inferred = True

    def fit(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Type the schema from the first page if needed, then apply the drift policy."""
        if self.awaits_first_page and records:
            self.inferred = True
            self.replace(inferred_schema(self.resource, records))
        if self._guard is None:
            self._guard = DriftGuard(
                self.stream.name,
                copy.deepcopy(self.stream.effective_schema),
                self.resource.drift,
                self.replace,
                lambda schema, record: finished(self.resource, widen(schema, record)),
            )
        return self._guard.apply_page(records)

    def settled(self) -> None:
        """After a request sequence without records: SCHEMA anyway (typed later from data)."""
        if self.awaits_first_page and self.stream.selected:
            self._emit()
