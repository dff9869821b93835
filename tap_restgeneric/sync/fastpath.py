"""The fast record path: whole pages written as RECORD lines when no SDK per-record step applies."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from singer_sdk.mapper import SameRecordTransform

from tap_restgeneric.sdk import RECORD_ENCODER, StreamSeam
from tap_restgeneric.sync.output import write_lines

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class FastRecords(StreamSeam):
    """Skips selection pruning, type conformance and message objects when they change nothing.

    That is the case when the stream has no stream map but the identity, no flattening, every
    property selected, and the drift guard has already made every record fit its schema (records
    parsed from JSON are JSON-native, so conformance would leave them as they are). A stream
    without children and without a record limit then also runs its sync loop a page at a time
    (the tap's streams have no ``post_process``, so that step of the SDK's loop is not needed).
    """

    _fast: bool | None = None
    _extracted_at: datetime | None = None

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
        version = self.stream_version
        if version is not None:
            message["version"] = version
        message["time_extracted"] = self._extracted_at or datetime.now(timezone.utc)
        lines = bytearray()
        for record in records:
            message["record"] = record
            RECORD_ENCODER.encode_into(message, lines, -1)
            lines += b"\n"
        return lines

    def write_record(self, record: dict[str, Any]) -> None:
        """Write one RECORD line with the SDK's encoder, or defer to the SDK when needed."""
        if not self.fast:
            self.write_sdk_record(record)
            return
        write_lines(self._encode((record,)))
        self.state_manager.is_flushed = False

    def pages_at_once(self, write_messages: bool) -> bool:
        """Whether the sync loop runs a page at a time (see the class docstring)."""
        return (
            write_messages
            and self.selected
            and self.fast
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.has_children()
        )

    def write_page(self, records: list[dict[str, Any]]) -> None:
        """Write one page's RECORD lines in one write."""
        write_lines(self._encode(records))
        self.state_manager.is_flushed = False
