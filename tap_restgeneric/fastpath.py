"""The fast record path: whole pages written as RECORD lines when no SDK per-record step applies."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams.rest import RESTStream

from tap_restgeneric.output import write_lines

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class FastRecords(RESTStream[Any]):
    """Skips selection pruning, type conformance and message objects when they change nothing.

    That is the case when the stream has no stream map but the identity, no flattening, every
    property selected, and the drift guard has already made every record fit its schema (records
    parsed from JSON are JSON-native, so conformance would leave them as they are). A stream
    without children and without a record limit then also runs its sync loop a page at a time
    (the tap's streams have no ``post_process``, so that step of the SDK's loop is not needed).
    """

    _fast: bool | None = None
    _extracted_at: datetime | None = None

    def request_pages(self, context: Context | None) -> Iterable[list[dict[str, Any]]]:
        """The records of each page, in order (the stream's page loop)."""
        raise NotImplementedError

    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every record of every page."""
        for records in self.request_pages(context):
            yield from records

    def has_children(self) -> bool:
        """Whether records hand contexts to child streams (they are then processed one by one)."""
        return False

    @property
    def fast(self) -> bool:
        """Whether RECORD lines can be written without the SDK's per-record steps."""
        if self._fast is None:
            maps = self.stream_maps
            self._fast = (
                len(maps) == 1
                and type(maps[0]) is SameRecordTransform
                and not maps[0].flattening_enabled
                and all(self.mask.values())
                and self.get_batch_config(self.config) is None
            )
        return self._fast

    def mark_extracted(self) -> None:
        """Stamp the records of the page about to be written with the time it was fetched."""
        self._extracted_at = datetime.now(timezone.utc)

    def _encode(self, records: Iterable[dict[str, Any]]) -> bytearray:
        """RECORD lines for ``records``, encoded with the SDK's msgspec encoder."""
        message: dict[str, Any] = {"type": "RECORD", "stream": self.name, "record": None}
        if self._stream_version is not None:
            message["version"] = self._stream_version
        message["time_extracted"] = self._extracted_at or datetime.now(timezone.utc)
        lines = bytearray()
        for record in records:
            message["record"] = record
            encoder.encode_into(message, lines, -1)
            lines += b"\n"
        return lines

    def _write_record_message(self, record: dict[str, Any]) -> None:
        """Write one RECORD line with the SDK's encoder, or defer to the SDK when needed."""
        if not self.fast:
            super()._write_record_message(record)
            return
        write_lines(self._encode((record,)))
        self.state_manager.is_flushed = False

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """The SDK's sync loop a page at a time: one write per page, counters per page."""
        if not (
            write_messages
            and self.selected
            and self.fast
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.has_children()
        ):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        counter, timer = self.get_record_counter(), self.get_sync_timer()
        written = 0
        every = self.STATE_MSG_FREQUENCY
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
                    write_lines(self._encode(records))
                    self.state_manager.is_flushed = False
                    if self.replication_key:
                        for record in records:
                            self._increment_stream_state(record, context=current)
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
