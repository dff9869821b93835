"""The fast record path: whole pages written as RECORD lines when no SDK per-record step applies."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from singer_sdk.mapper import SameRecordTransform

from tap_restgeneric.sdk import RECORD_ENCODER
from tap_restgeneric.sync.output import write_lines

if TYPE_CHECKING:
    from tap_restgeneric.sdk import StreamSeam


class RecordWriter:
    """Writes a stream's RECORD lines, skipping the SDK's steps when they change nothing.

    Those steps are selection pruning, type conformance and message objects. They change
    nothing when the stream has no stream map but the identity, no flattening, every property
    selected, and the drift guard has already made every record fit its schema (records parsed
    from JSON are JSON-native, so conformance would leave them as they are). A stream without
    children and without a record limit then also runs its sync loop a page at a time (the
    tap's streams have no ``post_process``, so that step of the SDK's loop is not needed).

    A stream owns one (``stream.record_writer``) and hands it its record hooks.
    """

    def __init__(self, stream: StreamSeam) -> None:
        self.stream = stream
        self._fast: bool | None = None
        self._extracted_at: datetime | None = None

    @property
    def fast(self) -> bool:
        """Whether RECORD lines can be written without the SDK's per-record steps."""
        if self._fast is None:
            stream = self.stream
            maps = stream.stream_maps
            self._fast = (
                len(maps) == 1
                and type(maps[0]) is SameRecordTransform
                and not maps[0].flattening_enabled
                and all(stream.mask.values())
                and stream.get_batch_config(stream.config) is None
            )
        return self._fast

    def pages_at_once(self, write_messages: bool) -> bool:
        """Whether the sync loop may write a page at a time (no record limit, nothing per
        record to do); the stream adds its own condition (no children)."""
        stream = self.stream
        return (
            write_messages
            and stream.selected
            and self.fast
            and stream.ABORT_AT_RECORD_COUNT is None
        )

    def mark_extracted(self) -> None:
        """Stamp the records of the page about to be written with the time it was fetched."""
        self._extracted_at = datetime.now(timezone.utc)

    def encode(self, records: Iterable[dict[str, Any]]) -> bytearray:
        """RECORD lines for ``records``, encoded with the SDK's msgspec encoder."""
        message: dict[str, Any] = {"type": "RECORD", "stream": self.stream.name, "record": None}
        version = self.stream.stream_version
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
            self.stream.write_sdk_record(record)
            return
        write_lines(self.encode((record,)))
        self.stream.state_manager.is_flushed = False

    def write_page(self, records: list[dict[str, Any]]) -> None:
        """Write one page's RECORD lines in one write."""
        write_lines(self.encode(records))
        self.stream.state_manager.is_flushed = False
