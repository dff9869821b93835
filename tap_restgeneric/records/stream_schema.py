"""A stream's schema over a run: sampled at discovery, typed from the first page, drift handled."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.records.drift import DriftGuard
from tap_restgeneric.records.inference import widen
from tap_restgeneric.records.schemas import finished, inferred_schema
from tap_restgeneric.sync.bookmarks import IncrementalRun, utc_now
from tap_restgeneric.sync.fastpath import FastRecords
from tap_restgeneric.sync.summary import StreamStats

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.config.spec import ResourceSpec, RestApiSpec
    from tap_restgeneric.http.requester import Requester

logger = logging.getLogger(__name__)


class SchemaTracking(FastRecords):
    """Writes SCHEMA once per change, types it from data when none was declared, guards drift."""

    resource: ClassVar[ResourceSpec]
    api: ClassVar[RestApiSpec]
    children_fields: ClassVar[dict[str, str]] = {}
    requester: Requester
    stats: StreamStats
    _written_schema: dict[str, Any] | None = None
    _inferred: bool = False
    schema_changes: int = 0
    _guard: DriftGuard | None = None

    if TYPE_CHECKING:

        def _pages(
            self,
            context: Context | None,
            run: IncrementalRun | None,
            window: Any,
            *,
            max_pages: int | None = None,
            commit: bool = True,
        ) -> Iterable[list[dict[str, Any]]]: ...

    @property
    def awaits_first_page(self) -> bool:
        """True while the schema waits for the first page (no catalog and nothing declared)."""
        return not (self.resource.schema_complete or self._inferred or self.has_input_catalog)

    def write_schema(self) -> None:
        """Write SCHEMA unless it waits for the first page (or was written unchanged already)."""
        if not self.awaits_first_page:
            self._emit_schema()

    def _emit_schema(self) -> None:
        if self.schema != self._written_schema:
            self.write_sdk_schema()
            self.schema_changes += self._written_schema is not None
            self._written_schema = copy.deepcopy(self.schema)

    def adopt_schema(self, schema: dict[str, Any]) -> None:
        """Use a new schema from now on (stream maps are rebuilt from it when they exist)."""
        self.swap_schema(schema)
        self._guard = None

    def replace_schema(self, schema: dict[str, Any]) -> None:
        """Adopt a new schema for the rest of the run and announce it with a SCHEMA message."""
        self.adopt_schema(schema)
        if self.selected:
            self.write_schema()

    def fit(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Type the schema from the first page if needed, then apply the drift policy."""
        if self.awaits_first_page and records:
            self._inferred = True
            self.replace_schema(inferred_schema(self.resource, records))
        if self._guard is None:
            self._guard = DriftGuard(
                self.name,
                copy.deepcopy(self.effective_schema),
                self.resource.drift,
                self.replace_schema,
                lambda schema, record: finished(self.resource, widen(schema, record)),
            )
        self.mark_extracted()
        return self._guard.apply_page(records)

    def schema_settled(self) -> None:
        """After a request sequence without records: SCHEMA anyway (typed later from data)."""
        if self.awaits_first_page and self.selected:
            self._emit_schema()

    @property
    def bookmarked(self) -> bool:
        """Whether the state holds a bookmark this stream's requests would start from."""
        spec = self.resource.endpoint.incremental
        if spec is None or spec.end_value is not None:  # a backfill ignores state
            return False
        if self.replication_method != REPLICATION_INCREMENTAL:
            return False
        entry = ((self.tap_state or {}).get("bookmarks") or {}).get(self.tap_stream_id) or {}
        return any(
            part.get("replication_key") == spec.replication_key
            and part.get("replication_key_value") is not None
            for part in (entry, *(entry.get("partitions") or ()))
        )

    def sample_schema(
        self, contexts: list[Context | None], *, sync: bool = False, type_it: bool = True
    ) -> list[dict[str, Any]]:
        """Type the schema from the first pages (as --discover does); return the sampled records.

        Streams with a declared schema, or with ``type_it`` false, are sampled only to feed
        their children's sampling. Before a sync (``sync``: state would filter the first page
        synced) the sample is the page a sync without state types the stream from: the first
        page with records (of the first context with one), all its records; a sample without
        records types nothing (the first page synced does, as without sampling); the sampled
        pages are left out of the stream's summary.
        """
        if (self.resource.schema_complete or not type_it) and not self.children_fields:
            return []
        sample: list[dict[str, Any]] = []
        limit, pages = self.api.sample_records, self.api.sample_pages
        retry = self.requester.retry
        self.requester.retry = replace(retry, max_retries=min(retry.max_retries, 1), max_delay=2.0)
        try:
            for context in contexts:
                spec = self.resource.endpoint.incremental
                run = IncrementalRun(spec, {}, utc_now()) if spec else None
                window = next(iter(run.windows())) if run else None
                for records in self._pages(context, run, window, max_pages=pages, commit=False):
                    sample += records
                    if sync and sample:
                        break
                if len(sample) >= limit or (sync and sample):
                    break
        except (StreamRequestError, OSError) as exc:
            logger.warning(
                "Stream %r: could not sample records to infer a schema (%s); %s",
                self.name,
                exc,
                "typing it from the first page synced"
                if sync
                else "using a permissive schema (declare 'schema' or 'columns' to avoid this)",
            )
            return []
        finally:
            self.requester.retry = retry
            if sync:
                self.stats = StreamStats(self.name)
        if not sync:
            sample = sample[:limit]
        if type_it and not self.resource.schema_complete and (sample or not sync):
            self.adopt_schema(inferred_schema(self.resource, sample))
            self._inferred = True
            if sync:
                logger.info(
                    "Stream %r: typed from its first page sampled from its start value (%d "
                    "records), not from the first page synced, which state filters",
                    self.name,
                    len(sample),
                )
        return sample
