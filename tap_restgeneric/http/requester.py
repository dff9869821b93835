"""Send one request with retries (Retry-After, backoff, response_actions); parse its body once.

``request_timeout`` is a deadline for the whole request: connecting, the headers, any redirect
hops and the body. The body is read here in pieces as they arrive (never one blocking read of a
fixed size), each socket read bounded by the time left, so a server that drips bytes cannot
stretch a request past its deadline. A body is read up to ``MAX_BODY_BYTES``; one larger than
``SPOOL_BYTES`` goes to an unnamed temporary file instead of memory (``Spooled``), its content
digest computed as it arrives, and is parsed later, record chunk by record chunk.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import logging
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urljoin

import msgspec
import requests
import urllib3.exceptions

from tap_restgeneric.config.spec import ResponseAction, RetrySpec
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.limiter import HostLimiter
from tap_restgeneric.redaction import REDACT, excerpt

logger = logging.getLogger(__name__)
TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_decoder = msgspec.json.Decoder()
sleep = time.sleep
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


class Spooled:
    """A response body too large to hold in memory: in an unnamed temporary file (deleted when
    closed or collected), with the content digest computed as it was written and its start."""

    def __init__(self) -> None:
        # closed by ``close`` once the page is done (or when collected, after a failure)
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="restgeneric-body-")  # noqa: SIM115
        self.size = 0
        self.head = b""
        self._hash = hashlib.blake2b(digest_size=16)

    def write(self, chunk: bytes) -> None:
        """Append a piece of the body."""
        self.file.write(chunk)
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


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait: float | None = None, *, throttled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.throttled = throttled


class _Reauthenticated(Exception):
    """Internal: a 401 was answered by fetching fresh credentials; send this request instead."""

    def __init__(self, request: requests.PreparedRequest) -> None:
        super().__init__("reauthenticated")
        self.request = request


@dataclass
class StreamHooks:
    """What sending needs from the stream: credentials for redirects and after a 401."""

    follow: Callable[[requests.PreparedRequest, str, int], requests.PreparedRequest]
    reauthenticate: Callable[[requests.PreparedRequest], requests.PreparedRequest | None]


MAX_REDIRECTS = 10


def retry_after(response: requests.Response, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), capped; None if absent."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):  # not an HTTP date either: use the backoff
            return None
        if parsed.tzinfo is None:  # HTTP dates are GMT
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, cap))


def _waits(retry: RetrySpec) -> Iterator[float]:
    """Exponential backoff (factor · 2^n) with up to 10% jitter, capped at max_delay.

    Written here rather than taken from ``backoff``: the ``backoff`` and ``python-backoff``
    distributions (the SDK requires the latter) install the same ``backoff`` package.
    """
    value = float(retry.backoff_factor)
    while True:
        yield min(retry.max_delay, value * (1 + random.random() / 10))
        if value < retry.max_delay:  # stops doubling at the cap (no overflow)
            value *= 2


class Requester:
    """Sends prepared requests for one stream under its retry policy and response actions."""

    def __init__(
        self,
        session: requests.Session,
        stream_name: str,
        retry: RetrySpec,
        actions: tuple[ResponseAction, ...],
        timeout: float,
        *,
        limiter: HostLimiter | None = None,
        hooks: StreamHooks | None = None,
    ) -> None:
        self.session = session
        self.stream_name = stream_name
        self.retry = retry
        self.actions = actions
        self.timeout = timeout
        self.limiter = limiter or HostLimiter()
        self.hooks = hooks
        self.retries = 0
        self.throttled = 0.0
        self._counting = threading.Lock()  # worker threads fetching ahead share the counters
        self._thread = threading.local()  # waited_for_host: this thread just sat out a 429

    def describe(self, request: requests.PreparedRequest) -> str:
        """``stream 'x': GET <redacted url>``."""
        return f"stream {self.stream_name!r}: {request.method} {REDACT(request.url or '')}"

    def fetch(
        self, request: requests.PreparedRequest, session: requests.Session | None = None
    ) -> Fetched | None:
        """Send with retries; return the parsed page, or None when a response action ignores it.

        ``session`` lets a worker thread send with its own connection pool.
        """
        waits = _waits(self.retry)
        attempt = 0
        reauthenticated = False
        while True:
            try:
                return self._attempt(
                    request, session or self.session, may_reauthenticate=not reauthenticated
                )
            except _Reauthenticated as fresh:
                request, reauthenticated = fresh.request, True
                continue
            except _Retry as problem:
                attempt += 1
                if attempt > self.retry.max_retries:
                    tries = f" after {self.retry.max_retries} retries" if attempt > 1 else ""
                    msg = f"{self.describe(request)} failed{tries}: {problem.reason}"
                    raise StreamRequestError(msg) from None
                wait = problem.wait if problem.wait is not None else next(waits)
                if problem.throttled:
                    self.limiter.hold(request.url or "", wait)
                    self._thread.waited_for_host = True
                self._count(retries=1, throttled=wait if problem.throttled else 0.0)
                logger.warning(
                    "%s: %s; retry %d/%d in %.1f s",
                    self.describe(request),
                    problem.reason,
                    attempt,
                    self.retry.max_retries,
                    wait,
                )
                sleep(wait)

    def _count(self, retries: int = 0, throttled: float = 0.0) -> None:
        with self._counting:
            self.retries += retries
            self.throttled += throttled

    def _send(
        self, request: requests.PreparedRequest, session: requests.Session
    ) -> tuple[requests.Response, Spooled | None]:
        """Send, following redirects here so that credentials never follow to another host.

        Returns the response with its body read, and the file it went to when it was large.
        """
        waited = getattr(self._thread, "waited_for_host", False)
        pause = 0.0 if waited else self.limiter.delay(request.url or "")
        self._thread.waited_for_host = False
        if pause > 0:
            self._count(throttled=pause)
            sleep(pause)
        with self.limiter.slot:
            deadline = _clock() + self.timeout
            timeout = self.timeout
            for _ in range(MAX_REDIRECTS + 1):
                try:
                    response = session.send(
                        request, timeout=timeout, allow_redirects=False, stream=True
                    )
                except requests.exceptions.ReadTimeout:
                    if timeout < self.timeout:  # a later hop, given what was left
                        raise _Retry(self._late()) from None
                    raise
                spooled = self._read_body(request, response, deadline)
                if not response.is_redirect or self.hooks is None:
                    return response, spooled
                if spooled is not None:
                    spooled.close()
                target = urljoin(response.url, response.headers["location"])
                request = self.hooks.follow(request, target, response.status_code)
                timeout = deadline - _clock()
                if timeout <= 0:
                    raise _Retry(self._late())
        msg = f"{self.describe(request)} failed: more than {MAX_REDIRECTS} redirects"
        raise StreamRequestError(msg)

    def _late(self) -> str:
        return f"no complete response within {self.timeout:g} s (request_timeout)"

    def _read_body(
        self, request: requests.PreparedRequest, response: requests.Response, deadline: float
    ) -> Spooled | None:
        """Read the whole body before ``deadline`` and within MAX_BODY_BYTES, or close it.

        A body over SPOOL_BYTES (announced or counted) goes to a temporary file, returned;
        ``response.content`` then holds its first HEAD_BYTES.
        """
        if getattr(response, "_content", False) is not False or response.raw is None:
            return None
        cap = MAX_BODY_BYTES
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise StreamRequestError(self._too_large(request, f" (Content-Length {declared})"))
        raw = response.raw
        chunks: list[bytes] = []
        spooled = Spooled() if declared.isdigit() and int(declared) > SPOOL_BYTES else None
        size = 0
        try:
            while True:
                left = deadline - _clock()
                if left <= 0:
                    raise _Retry(self._late())
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
                    raise StreamRequestError(self._too_large(request))
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
            if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
                raise _Retry(self._late()) from None
            if isinstance(exc, urllib3.exceptions.SSLError):
                raise requests.exceptions.SSLError(exc) from None
            if isinstance(exc, urllib3.exceptions.DecodeError):
                raise requests.exceptions.ContentDecodingError(exc) from None
            if isinstance(exc, urllib3.exceptions.ProtocolError | OSError):
                raise requests.exceptions.ChunkedEncodingError(exc) from None
            raise
        response._content = b"".join(chunks) if spooled is None else spooled.head
        response._content_consumed = True  # type: ignore[attr-defined]
        return spooled

    def _too_large(self, request: requests.PreparedRequest, declared: str = "") -> str:
        return (
            f"{self.describe(request)} failed: the response body is larger than "
            f"{MAX_BODY_BYTES:,} bytes{declared}, the most one response may hold in memory"
        )

    def _attempt(
        self,
        request: requests.PreparedRequest,
        session: requests.Session,
        *,
        may_reauthenticate: bool,
    ) -> Fetched | None:
        try:
            response, spooled = self._send(request, session)
        except TRANSIENT_ERRORS as exc:
            raise _Retry(f"{type(exc).__name__} ({REDACT(str(exc))[:200]})") from None
        try:
            fetched = self._judge(request, response, spooled, may_reauthenticate)
        except BaseException:
            if spooled is not None:
                spooled.close()
            raise
        if fetched is None and spooled is not None:
            spooled.close()
        return fetched

    def _judge(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        spooled: Spooled | None,
        may_reauthenticate: bool,
    ) -> Fetched | None:
        """The response's fate: reauthenticate, a response action, retry, fail, or the page."""
        status = response.status_code
        if status == 401 and may_reauthenticate and self.hooks is not None:
            fresh = self.hooks.reauthenticate(request)
            if fresh is not None:
                logger.warning(
                    "%s: 401; fetching a new token and retrying once", self.describe(request)
                )
                raise _Reauthenticated(fresh)
        failure = f"status {status} {response.reason or ''}".rstrip()
        for action in self.actions:
            if self._matches(action, response, spooled):
                if action.action == "ignore":
                    logger.info(
                        "%s: %s ignored by response_actions", self.describe(request), failure
                    )
                    return None
                if action.action == "retry":
                    raise _Retry(
                        f"{failure} (response_actions: retry)", self._retry_after(response)
                    )
                raise StreamRequestError(
                    self._fatal(request, response, f"{failure} (response_actions: fail)")
                )
        if status in self.retry.status_codes:
            body = excerpt(response.text, 120)
            raise _Retry(
                f"{failure}: {body}" if body else failure,
                self._retry_after(response),
                throttled=status == 429,
            )
        if status >= 400:
            raise StreamRequestError(self._fatal(request, response, failure))
        if spooled is not None and self._check_spooled(request, response, spooled):
            return Fetched(response, None, spooled)
        return Fetched(response, self._parse(request, response))

    def _retry_after(self, response: requests.Response) -> float | None:
        return retry_after(response, self.retry.max_delay)

    @staticmethod
    def _matches(
        action: ResponseAction, response: requests.Response, spooled: Spooled | None = None
    ) -> bool:
        if action.status_code is not None and action.status_code != response.status_code:
            return False
        if action.content is None:
            return True
        if spooled is not None:
            return spooled.contains(action.content)
        return action.content in response.text

    def _fatal(
        self, request: requests.PreparedRequest, response: requests.Response, what: str
    ) -> str:
        body = excerpt(response.text)
        return f"{self.describe(request)} failed with {what}" + (f": {body}" if body else "")

    def _check_spooled(
        self, request: requests.PreparedRequest, response: requests.Response, spooled: Spooled
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
                self._fatal(
                    request,
                    response,
                    f"status {response.status_code} but an HTML page where JSON was expected",
                )
            )
        if first in _CLOSING and last != _CLOSING[first]:
            raise _Retry(
                f"status {response.status_code} but a truncated JSON body "
                f"({spooled.size} bytes): {excerpt(response.text, 120)}"
            )
        return True

    def parse_spooled(self, request: requests.PreparedRequest, fetched: Fetched) -> Any:
        """Parse a spooled body whole, in memory (for a page that cannot be parsed in chunks);
        the file is deleted. Problems fail the stream: the response cannot be retried here."""
        assert fetched.spooled is not None
        try:
            content = fetched.spooled.load()
        finally:
            fetched.spooled.close()
        try:
            return self._parse(request, fetched.response, content)
        except _Retry as problem:
            raise StreamRequestError(f"{self.describe(request)} failed: {problem.reason}") from None

    def _parse(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        content: bytes | None = None,
    ) -> Any:
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
                    self._fatal(
                        request,
                        response,
                        f"status {response.status_code} but an HTML page where JSON was expected",
                    )
                ) from None
            if "truncated" in str(exc):
                body = f": {excerpt(response.text, 120)}"
                raise _Retry(
                    f"status {response.status_code} but a truncated JSON body "
                    f"({len(content)} bytes){body}"
                ) from None
            raise StreamRequestError(
                self._fatal(
                    request, response, f"status {response.status_code} but invalid JSON ({exc})"
                )
            ) from None
