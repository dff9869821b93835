"""The fast record path: write RECORD lines directly when no SDK per-record step has an effect."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams.rest import RESTStream


class FastRecords(RESTStream[Any]):
    """Skips selection pruning, type conformance and message objects when they change nothing.

    That is the case when the stream has no stream map but the identity, no flattening, every
    property selected, and the drift guard has already made every record fit its schema (records
    parsed from JSON are JSON-native, so conformance would leave them as they are).
    """

    _fast: bool | None = None
    _line = bytearray(256)
    _extracted_at: datetime | None = None

    def _fast_path_applies(self) -> bool:
        maps = self.stream_maps
        return (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and all(self.mask.values())
            and self.get_batch_config(self.config) is None
        )

    def mark_extracted(self) -> None:
        """Stamp the records of the page about to be written with the time it was fetched."""
        self._extracted_at = datetime.now(timezone.utc)

    def _write_record_message(self, record: dict[str, Any]) -> None:
        """Write one RECORD line with the SDK's encoder, or defer to the SDK when needed."""
        if self._fast is None:
            self._fast = self._fast_path_applies()
        if not self._fast:
            super()._write_record_message(record)
            return
        message: dict[str, Any] = {"type": "RECORD", "stream": self.name, "record": record}
        if self._stream_version is not None:
            message["version"] = self._stream_version
        message["time_extracted"] = self._extracted_at or datetime.now(timezone.utc)
        line = self._line
        encoder.encode_into(message, line)
        line.extend(b"\n")
        sys.stdout.buffer.write(line)
        self.state_manager.is_flushed = False
