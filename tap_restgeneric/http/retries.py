"""Retry timing: transient errors, backoff waits, Retry-After, and the signals an attempt raises."""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from collections.abc import Iterator

import requests

from tap_restgeneric.config.spec import RetrySpec

TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait: float | None = None, *, throttled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.throttled = throttled


class Reauthenticated(Exception):
    """Internal: a 401 was answered by fetching fresh credentials; send this request instead."""

    def __init__(self, request: requests.PreparedRequest) -> None:
        super().__init__("reauthenticated")
        self.request = request


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


def backoff_waits(retry: RetrySpec) -> Iterator[float]:
    """Exponential backoff (factor · 2^n) with up to 10% jitter, capped at max_delay.

    Written here rather than taken from ``backoff``: the ``backoff`` and ``python-backoff``
    distributions (the SDK requires the latter) install the same ``backoff`` package.
    """
    value = float(retry.backoff_factor)
    while True:
        yield min(retry.max_delay, value * (1 + random.random() / 10))
        if value < retry.max_delay:  # stops doubling at the cap (no overflow)
            value *= 2
