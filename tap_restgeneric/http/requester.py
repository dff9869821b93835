"""Send one request with retries (Retry-After, backoff, response_actions); the page's fate.

``request_timeout`` is a deadline for the whole request: connecting, the headers, any redirect
hops and the body (read by ``http.body``, up to ``MAX_BODY_BYTES``; one larger than
``SPOOL_BYTES`` is spooled to a temporary file and parsed later, record chunk by record chunk).
Retry timing (backoff, Retry-After) lives in ``http.retries``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urljoin

import requests

from tap_restgeneric.config.spec import ResponseAction, RetrySpec
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.body import (
    HEAD_BYTES,
    MAX_BODY_BYTES,
    SPOOL_BYTES,
    Fetched,
    Spooled,
    check_spooled,
    content_digest,
    failure_message,
    parse_json,
    read_body,
)
from tap_restgeneric.http.limiter import HostLimiter
from tap_restgeneric.http.retries import (
    TRANSIENT_ERRORS,
    Reauthenticated,
    Retry,
    retry_after,
)
from tap_restgeneric.http.retries import backoff_waits as _waits
from tap_restgeneric.redaction import REDACT, excerpt

__all__ = [
    "HEAD_BYTES",
    "MAX_BODY_BYTES",
    "MAX_REDIRECTS",
    "SPOOL_BYTES",
    "TRANSIENT_ERRORS",
    "Fetched",
    "Requester",
    "Spooled",
    "StreamHooks",
    "_waits",
    "content_digest",
    "retry_after",
    "sleep",
]

logger = logging.getLogger(__name__)
sleep = time.sleep
_clock = time.monotonic


@dataclass
class StreamHooks:
    """What sending needs from the stream: credentials for redirects and after a 401."""

    follow: Callable[[requests.PreparedRequest, str, int], requests.PreparedRequest]
    reauthenticate: Callable[[requests.PreparedRequest], requests.PreparedRequest | None]


MAX_REDIRECTS = 10


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
            except Reauthenticated as fresh:
                request, reauthenticated = fresh.request, True
                continue
            except Retry as problem:
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
        with self.limiter.sending(request.url or "") as ticket:
            deadline = _clock() + self.timeout
            timeout = self.timeout
            for _ in range(MAX_REDIRECTS + 1):
                try:
                    response = session.send(
                        request, timeout=timeout, allow_redirects=False, stream=True
                    )
                except requests.exceptions.ReadTimeout:
                    if timeout < self.timeout:  # a later hop, given what was left
                        raise Retry(self._late()) from None
                    raise
                spooled = read_body(response, deadline, partial(self.describe, request), self._late)
                if not response.is_redirect or self.hooks is None:
                    ticket.answered(response.status_code, self._retry_after(response))
                    return response, spooled
                if spooled is not None:
                    spooled.close()
                target = urljoin(response.url, response.headers["location"])
                request = self.hooks.follow(request, target, response.status_code)
                timeout = deadline - _clock()
                if timeout <= 0:
                    raise Retry(self._late())
        msg = f"{self.describe(request)} failed: more than {MAX_REDIRECTS} redirects"
        raise StreamRequestError(msg)

    def _late(self) -> str:
        return f"no complete response within {self.timeout:g} s (request_timeout)"

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
            raise Retry(f"{type(exc).__name__} ({REDACT(str(exc))[:200]})") from None
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
                raise Reauthenticated(fresh)
        failure = f"status {status} {response.reason or ''}".rstrip()
        for action in self.actions:
            if self._matches(action, response, spooled):
                if action.action == "ignore":
                    logger.info(
                        "%s: %s ignored by response_actions", self.describe(request), failure
                    )
                    return None
                if action.action == "retry":
                    raise Retry(f"{failure} (response_actions: retry)", self._retry_after(response))
                raise StreamRequestError(
                    self._fatal(request, response, f"{failure} (response_actions: fail)")
                )
        if status in self.retry.status_codes:
            body = excerpt(response.text, 120)
            raise Retry(
                f"{failure}: {body}" if body else failure,
                self._retry_after(response),
                throttled=status == 429,
            )
        if status >= 400:
            raise StreamRequestError(self._fatal(request, response, failure))
        if spooled is not None and check_spooled(
            response, spooled, partial(self.describe, request)
        ):
            return Fetched(response, None, spooled)
        return Fetched(response, parse_json(response, partial(self.describe, request)))

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
        return failure_message(self.describe(request), response, what)

    def parse_spooled(self, request: requests.PreparedRequest, fetched: Fetched) -> Any:
        """Parse a spooled body whole, in memory (for a page that cannot be parsed in chunks);
        the file is deleted. Problems fail the stream: the response cannot be retried here."""
        assert fetched.spooled is not None
        try:
            content = fetched.spooled.load()
        finally:
            fetched.spooled.close()
        try:
            return parse_json(fetched.response, partial(self.describe, request), content)
        except Retry as problem:
            raise StreamRequestError(f"{self.describe(request)} failed: {problem.reason}") from None
