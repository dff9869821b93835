"""The stream's side of the SDK seam: overrides of the SDK's private stream methods, as hooks."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.streams.rest import RESTStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

RECORD_ENCODER = encoder
"""Relies on ``singer_sdk.contrib.msgspec.encoder``: the msgspec encoder whose output (plus a
newline) is the line ``MsgSpecWriter`` writes for a message, so pages can be encoded in place."""


class StreamSeam(RESTStream[Any]):
    """The SDK's private stream methods, overridden once, each handing over to a public hook.

    The rest of the package overrides the hooks (``write_record``, ``write_schema``,
    ``observe_record``, ``pages_at_once``, ``request_pages``, ``write_page``) and calls the
    helpers (``write_sdk_record``, ``write_sdk_schema``, ``write_state``, ``stream_version``,
    ``has_input_catalog``, ``swap_schema``); no other module names a private SDK attribute.
    """

    # Hooks (the defaults are the SDK's own behaviour).

    def write_record(self, record: dict[str, Any]) -> None:
        """Write one RECORD (hook; default: the SDK's message objects through the stream maps)."""
        self.write_sdk_record(record)

    def write_schema(self) -> None:
        """Write SCHEMA when the SDK would (hook; default: the SDK's one per stream map)."""
        self.write_sdk_schema()

    def observe_record(self, record: dict[str, Any], context: Context | None) -> None:
        """Track a written record's replication key (hook; default: the SDK's bookmark step)."""
        RESTStream._increment_stream_state(self, record, context=context)

    def pages_at_once(self, write_messages: bool) -> bool:
        """Whether ``_sync_records`` may run a page at a time (hook; default: never)."""
        return False

    def request_pages(self, context: Context | None) -> Iterable[list[dict[str, Any]]]:
        """The records of each page, in order (hook for the page-at-a-time loop)."""
        raise NotImplementedError

    def write_page(self, records: list[dict[str, Any]]) -> None:
        """Write one page's RECORD lines (hook for the page-at-a-time loop)."""
        raise NotImplementedError

    # Helpers: the SDK behaviour the hooks build on.

    def write_sdk_record(self, record: dict[str, Any]) -> None:
        """Relies on ``Stream._write_record_message(record)``: prune, conform, map, write."""
        RESTStream._write_record_message(self, record)

    def write_sdk_schema(self) -> None:
        """Relies on ``Stream._write_schema_message()``: one SCHEMA per stream map."""
        RESTStream._write_schema_message(self)

    def write_state(self) -> None:
        """Relies on ``Stream._write_state_message()``: STATE through the tap's state writer
        unless ``state_manager.is_flushed``."""
        self._write_state_message()

    @property
    def stream_version(self) -> int | None:
        """Relies on ``Stream._stream_version``: the ACTIVATE_VERSION a RECORD carries, or None."""
        return self._stream_version

    @property
    def has_input_catalog(self) -> bool:
        """Relies on ``Stream._tap_input_catalog``: the catalog given with --catalog, if any."""
        return bool(self._tap_input_catalog)

    def swap_schema(self, schema: dict[str, Any]) -> None:
        """Use ``schema`` from now on: relies on ``Stream._schema`` (what ``schema`` returns),
        ``_input_schema`` (a catalog's schema, which ``effective_schema`` prefers),
        ``Tap._mapper`` (None before ``setup_mapper``) and ``Stream._stream_maps`` (a cache
        rebuilt from ``tap.mapper`` when None)."""
        self._schema = schema
        if self._input_schema is not None:
            self._input_schema = schema
        if getattr(self._tap, "_mapper", None) is not None:
            self._tap.mapper.register_raw_stream_schema(self.name, schema, self.primary_keys)
            self._stream_maps = None

    # The private overrides.

    def _write_record_message(self, record: dict[str, Any]) -> None:
        """Relies on the SDK calling this for every record it writes one by one."""
        self.write_record(record)

    def _write_schema_message(self) -> None:
        """Relies on the SDK calling this once at the start of ``Stream.sync``."""
        self.write_schema()

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Relies on the SDK calling this for every record written, after the RECORD."""
        self.observe_record(latest_record, context)

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """The SDK's ``Stream._sync_records`` loop a page at a time: one write per page.

        Relies on the steps of the SDK's loop (0.54): the record counter and sync timer per
        context element, ``_get_state_partition_context``, ``_write_starting_replication_value``,
        ``_process_record`` (adds a partition's keys; its child-context and sort steps are not
        needed when ``pages_at_once``), the bookmark step per record, STATE every
        ``STATE_MSG_FREQUENCY`` records, ``_finalize_state`` per partition and for the stream,
        and a last STATE. ``post_process`` is not called (the tap's streams have none).
        """
        if not self.pages_at_once(write_messages):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        counter, timer = self.get_record_counter(), self.get_sync_timer()
        written = 0
        every = self.STATE_MSG_FREQUENCY
        observe = self.observe_record if self.replication_key else None
        with counter, timer:
            for element in [context] if context is not None else self.partitions or [{}]:
                counter.with_context(element)
                timer.with_context(element)
                current = element or None
                partition = self._get_state_partition_context(current)
                self._write_starting_replication_value(current)
                for records in self.request_pages(current):
                    for record in records if partition else ():
                        self._process_record(record, None, partition)  # adds partition keys
                    self.write_page(records)
                    if observe is not None:
                        for record in records:
                            observe(record, current)
                    if (written + len(records)) // every > written // every:
                        self._write_state_message()
                    written += len(records)
                    counter.increment(len(records))
                    yield from records
                if current == partition:
                    self._finalize_state(self.get_context_state(current))
        if not context:
            self._finalize_state(self.stream_state)
        self._write_state_message()
