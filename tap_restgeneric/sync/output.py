"""The one path every Singer line takes to stdout: whole lines, one writer at a time."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from singer_sdk.contrib.msgspec import MsgSpecWriter

if TYPE_CHECKING:
    from singer_sdk.singerlib import Message

_writing = threading.Lock()


class StdoutFailed(BrokenPipeError):
    """Stdout took no more for another reason than its reader leaving (a full disk): as
    final as a closed pipe, with its own message."""


def _emit(lines: bytes | bytearray) -> None:
    out = sys.stdout.buffer
    try:
        out.write(lines)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise StdoutFailed(exc.errno, exc.strerror or str(exc)) from None


def write_lines(lines: bytes | bytearray) -> None:
    """Write whole lines to stdout and flush them before any other thread writes."""
    with _writing:
        _emit(lines)


class SerializedWriter(MsgSpecWriter):
    """The SDK's msgspec writer through ``write_lines`` (it encodes into one shared buffer)."""

    def write_message(self, message: Message) -> None:
        """Encode and write one message while holding the stdout lock."""
        with _writing:
            _emit(self.format_message(message))
