"""What a page sequence hands out: each page's step, and how the sequence ended."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.errors import StreamRequestError


class UnprovenEnd(StreamRequestError):
    """A stream stopped where it cannot prove the data ended: the run fails (SPEC §8)."""


@dataclass(frozen=True)
class End:
    """Why a request sequence ended; an unproven end carries the error line it fails with."""

    reason: str
    proven: bool = True
    failure: str | None = None


@dataclass
class PageStep:
    """One page of a sequence: what was sent and received, its records, and what comes next."""

    number: int
    request: HTTPRequest
    prepared: requests.PreparedRequest
    response: requests.Response | None
    records: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    next_request: requests.PreparedRequest | None = None
    next_reason: str = ""
    end: End | None = None
    chunks: Iterator[list[dict[str, Any]]] | None = None
    """A large page's kept records, chunk by chunk (``records`` and ``kept`` stay empty); the
    step's ``end`` and next request are set once the last chunk was handed out."""

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """The kept records to write: the page's, or a large page's chunk by chunk."""
        if self.chunks is None:
            yield self.kept
        else:
            yield from self.chunks
