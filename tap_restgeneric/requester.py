"""Send one request with retries (Retry-After, backoff, response_actions); parse its body once.

``request_timeout`` is a deadline for the whole request: connecting, the headers, any redirect
hops and the body. The body is read here in pieces as they arrive (never one blocking read of a
fixed size), each socket read bounded by the time left, so a server that drips bytes cannot
stretch a request past its deadline. A body is held in memory up to ``MAX_BODY_BYTES``.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import backoff
import msgspec
import requests
import urllib3.exceptions

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.limiter import HostLimiter
from tap_restgeneric.redaction import REDACT, excerpt
from tap_restgeneric.spec import ResponseAction, RetrySpec

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
"""The most bytes of one response body held in memory (1 GiB, after decompression)."""
_READ_SIZE = 1 << 16
"""Bytes asked for per read; a read returns as soon as any bytes arrive."""


@dataclass
class Fetched:
    """A successful response and its parsed JSON body (None for an empty body)."""

    response: requests.Response
    body: Any


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
    """Exponential backoff (factor · 2^n) with up to 10% jitter, capped at max_delay."""
    expo = backoff.expo(base=2, factor=retry.backoff_factor, max_value=retry.max_delay)
    next(expo)
    for value in expo:
        yield min(retry.max_delay, value * (1 + random.random() / 10))


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
    ) -> requests.Response:
        """Send, following redirects here so that credentials never follow to another host."""
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
                self._read_body(request, response, deadline)
                if not response.is_redirect or self.hooks is None:
                    return response
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
    ) -> None:
        """Read the whole body before ``deadline`` and within MAX_BODY_BYTES, or close it."""
        if getattr(response, "_content", False) is not False or response.raw is None:
            return
        cap = MAX_BODY_BYTES
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise StreamRequestError(self._too_large(request, f" (Content-Length {declared})"))
        raw = response.raw
        chunks: list[bytes] = []
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
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            response.close()
            raise _Retry(self._late()) from None
        except urllib3.exceptions.SSLError as exc:
            response.close()
            raise requests.exceptions.SSLError(exc) from None
        except urllib3.exceptions.DecodeError as exc:
            response.close()
            raise requests.exceptions.ContentDecodingError(exc) from None
        except (urllib3.exceptions.ProtocolError, OSError) as exc:
            response.close()
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except BaseException:
            response.close()
            raise
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]

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
            response = self._send(request, session)
        except TRANSIENT_ERRORS as exc:
            raise _Retry(f"{type(exc).__name__} ({REDACT(str(exc))[:200]})") from None
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
            if self._matches(action, response):
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
        return Fetched(response, self._parse(request, response))

    def _retry_after(self, response: requests.Response) -> float | None:
        return retry_after(response, self.retry.max_delay)

    @staticmethod
    def _matches(action: ResponseAction, response: requests.Response) -> bool:
        if action.status_code is not None and action.status_code != response.status_code:
            return False
        return action.content is None or action.content in response.text

    def _fatal(
        self, request: requests.PreparedRequest, response: requests.Response, what: str
    ) -> str:
        body = excerpt(response.text)
        return f"{self.describe(request)} failed with {what}" + (f": {body}" if body else "")

    def _parse(self, request: requests.PreparedRequest, response: requests.Response) -> Any:
        content = response.content.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM is not JSON
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
