"""Response bodies: read before the deadline within MAX_BODY_BYTES, spooled when large, parsed once.

The body is read in pieces as they arrive (never one blocking read of a fixed size), each socket
read bounded by the time left, so a server that drips bytes cannot stretch a request past its
deadline. A body larger than ``SPOOL_BYTES`` goes to an unnamed temporary file instead of memory
(``Spooled``), its content digest computed as it arrives, and is parsed later, record chunk by
record chunk.
"""

from __future__ import annotations

import errno
import hashlib
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import msgspec
import requests
import urllib3.exceptions

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.retries import Retry
from tap_restgeneric.redaction import excerpt

_decoder = msgspec.json.Decoder()
_clock = time.monotonic
MAX_BODY_BYTES = 1 << 30
"""The most bytes of one response body read (1 GiB, after decompression)."""
SPOOL_BYTES = 16 << 20
"""A body larger than this (16 MiB, by Content-Length or as read) is spooled to a temporary file."""
HEAD_BYTES = 1 << 16
"""The start of a spooled body kept in memory: ``response.content`` for excerpts."""
_READ_SIZE = 1 << 16
"""Bytes asked for per read; a read returns as soon as any bytes arrive."""
_BOM = b"\xef\xbb\xbf"
_CLOSING = {ord("{"): ord("}"), ord("["): ord("]")}


def content_digest(content: bytes) -> bytes:
    """The digest a page sequence tells identical pages apart by (BLAKE2b, 16 bytes)."""
    return hashlib.blake2b(content, digest_size=16).digest()


class NoRoom(Exception):
    """The temporary file of a large body could not be written (a full disk, a size limit)."""

    def __init__(self, exc: OSError) -> None:
        super().__init__(exc.strerror or str(exc))


class Spooled:
    """A response body too large to hold in memory: in an unnamed temporary file (deleted when
    closed or collected), with the content digest computed as it was written and its start.

    Unbuffered, so a write that fails leaves nothing behind to fail again on close.
    """

    def __init__(self) -> None:
        # closed by ``close`` once the page is done (or when collected, after a failure)
        try:
            self.file: IO[bytes] = tempfile.TemporaryFile(prefix="restgeneric-body-", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise NoRoom(exc) from None
        self.size = 0
        self.head = b""
        self._hash = hashlib.blake2b(digest_size=16)

    def write(self, chunk: bytes) -> None:
        """Append a piece of the body; NoRoom when the file takes no more."""
        view, done = memoryview(chunk), 0
        try:
            while done < len(view):  # an unbuffered write may take part of it
                wrote = self.file.write(view[done:])
                if not wrote:
                    raise OSError(errno.ENOSPC, "the temporary file took no more bytes")
                done += wrote
        except OSError as exc:
            raise NoRoom(exc) from None
        self._hash.update(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self.size += len(chunk)

    @property
    def digest(self) -> bytes:
        """``content_digest`` of the whole body."""
        return self._hash.digest()

    def close(self) -> None:
        """Delete the file."""
        self.file.close()

    def open(self) -> IO[bytes]:
        """The body from its start, past a UTF-8 BOM."""
        self.file.flush()
        self.file.seek(len(_BOM) if self.head.startswith(_BOM) else 0)
        return self.file

    def load(self) -> bytes:
        """The whole body in memory (for a body that cannot be parsed chunk by chunk)."""
        return self.open().read()

    def contains(self, text: str) -> bool:
        """Whether the body holds ``text`` (as UTF-8), read a block at a time."""
        needle = text.encode()
        keep = len(needle) - 1
        file = self.open()
        tail = b""
        while block := file.read(1 << 20):
            window = tail + block
            if needle in window:
                return True
            tail = window[len(window) - keep :] if keep else b""
        return not needle

    def edges(self) -> tuple[int, int]:
        """The first and last bytes of the body that are not whitespace (-1: none)."""
        file = self.open()
        first = -1
        while first < 0 and (block := file.read(1 << 16)):
            stripped = block.lstrip()
            first = stripped[0] if stripped else -1
        size = self.size
        last, end = -1, size
        while last < 0 and end > 0:
            start = max(0, end - (1 << 16))
            file.seek(start)
            stripped = file.read(end - start).rstrip()
            last = stripped[-1] if stripped else -1
            end = start
        return first, last


@dataclass
class Fetched:
    """A successful response and its parsed JSON body (None for an empty body).

    A body larger than ``SPOOL_BYTES`` is not parsed here: it is ``spooled`` to a file (``body``
    is None, ``response.content`` holds only its first ``HEAD_BYTES``) and parsed by the page
    sequence, record chunk by record chunk.
    """

    response: requests.Response
    body: Any
    spooled: Spooled | None = None

    @property
    def digest(self) -> bytes:
        """The content digest of the whole body."""
        if self.spooled is not None:
            return self.spooled.digest
        return content_digest(self.response.content)

    def close(self) -> None:
        """Delete a spooled body's file (nothing for a body in memory)."""
        if self.spooled is not None:
            self.spooled.close()


def failure_message(description: str, response: requests.Response, what: str) -> str:
    """``<description> failed with <what>: <body excerpt>``."""
    body = excerpt(response.text)
    return f"{description} failed with {what}" + (f": {body}" if body else "")


def read_body(
    response: requests.Response,
    deadline: float,
    describe: Callable[[], str],
    late: Callable[[], str],
) -> Spooled | None:
    """Read the whole body before ``deadline`` and within MAX_BODY_BYTES, or close it.

    A body over SPOOL_BYTES (announced or counted) goes to a temporary file, returned;
    ``response.content`` then holds its first HEAD_BYTES. ``describe`` names the request in a
    failure; ``late`` is the reason a retry gives when the deadline passes.
    """
    if getattr(response, "_content", False) is not False or response.raw is None:
        return None
    cap = MAX_BODY_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        response.close()
        raise StreamRequestError(_too_large(describe(), f" (Content-Length {declared})"))
    raw = response.raw
    chunks: list[bytes] = []
    spooled: Spooled | None = None
    size = 0
    try:
        if declared.isdigit() and int(declared) > SPOOL_BYTES:
            spooled = Spooled()
        while True:
            left = deadline - _clock()
            if left <= 0:
                raise Retry(late())
            # the socket of a connection not yet back in the pool (after the last byte
            # urllib3 releases it, and another request may own it)
            sock = getattr(getattr(raw, "connection", None), "sock", None)
            if isinstance(sock, socket.socket):
                sock.settimeout(left)
            chunk = raw.read1(_READ_SIZE, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise StreamRequestError(_too_large(describe()))
            if spooled is not None:
                spooled.write(chunk)
                continue
            chunks.append(chunk)
            if size > SPOOL_BYTES:
                spooled = Spooled()
                for piece in chunks:
                    spooled.write(piece)
                chunks.clear()
    except BaseException as exc:
        response.close()
        if spooled is not None:
            spooled.close()
        raise _read_failure(exc, describe, late) from None
    response._content = b"".join(chunks) if spooled is None else spooled.head
    response._content_consumed = True  # type: ignore[attr-defined]
    return spooled


def _read_failure(
    exc: BaseException, describe: Callable[[], str], late: Callable[[], str]
) -> BaseException:
    """What a failure while reading a body is raised as: requests' exceptions (retried as
    network errors), a Retry past the deadline, or a StreamRequestError for a full disk."""
    if isinstance(exc, NoRoom):
        return StreamRequestError(
            f"{describe()} failed: no room for its body (over {SPOOL_BYTES >> 20} MiB: kept "
            f"in a temporary file) in {tempfile.gettempdir()} ({exc}); free space there or "
            "set TMPDIR"
        )
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return Retry(late())
    if isinstance(exc, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return requests.exceptions.ContentDecodingError(exc)
    if isinstance(exc, urllib3.exceptions.ProtocolError | OSError):
        return requests.exceptions.ChunkedEncodingError(exc)
    return exc


def _too_large(description: str, declared: str = "") -> str:
    return (
        f"{description} failed: the response body is larger than "
        f"{MAX_BODY_BYTES:,} bytes{declared}, the most one response may hold in memory"
    )


def check_spooled(
    response: requests.Response, spooled: Spooled, describe: Callable[[], str]
) -> bool:
    """What can be told of a spooled body before its records are handed out (False: it is
    only whitespace, an empty body).

    An HTML page fails as it would in memory; a JSON object or array whose last byte does not
    close it is a truncated body, retried like one in memory (a body that breaks off
    elsewhere fails when the parse reaches the break: its earlier records were written).
    """
    first, last = spooled.edges()
    if first < 0:
        spooled.close()
        response._content = b""
        return False
    if first == ord("<"):
        raise StreamRequestError(
            failure_message(
                describe(),
                response,
                f"status {response.status_code} but an HTML page where JSON was expected",
            )
        )
    if first in _CLOSING and last != _CLOSING[first]:
        raise Retry(
            f"status {response.status_code} but a truncated JSON body "
            f"({spooled.size} bytes): {excerpt(response.text, 120)}"
        )
    return True


def parse_json(
    response: requests.Response, describe: Callable[[], str], content: bytes | None = None
) -> Any:
    """The body (``content``, else the response's) as JSON; None when it is only whitespace.

    An HTML page or invalid JSON fails the stream; a truncated body is retried.
    """
    if content is None:
        content = response.content.removeprefix(_BOM)  # a UTF-8 BOM is not JSON
    if not content.strip():
        return None
    try:
        return _decoder.decode(content)
    except msgspec.DecodeError as exc:
        kind = response.headers.get("Content-Type", "")
        if "html" in kind.lower() or content.lstrip()[:1] == b"<":
            raise StreamRequestError(
                failure_message(
                    describe(),
                    response,
                    f"status {response.status_code} but an HTML page where JSON was expected",
                )
            ) from None
        if "truncated" in str(exc):
            body = f": {excerpt(response.text, 120)}"
            raise Retry(
                f"status {response.status_code} but a truncated JSON body "
                f"({len(content)} bytes){body}"
            ) from None
        raise StreamRequestError(
            failure_message(
                describe(), response, f"status {response.status_code} but invalid JSON ({exc})"
            )
        ) from None
