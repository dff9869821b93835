"""What a page sequence remembers to spot a repeat or a response it cannot trust."""

from __future__ import annotations

from typing import Any

import requests

from tap_restgeneric.http.prefetch import request_key
from tap_restgeneric.http.requester import Fetched, content_digest
from tap_restgeneric.paginators import Page
from tap_restgeneric.redaction import excerpt

ERROR_KEYS = ("error", "errors", "fault")
"""Top-level keys of an error-shaped body (when the data path is missing)."""
REMEMBERED = 100_000
"""Pages and requests a sequence remembers to spot a repeat (a few MB at most)."""


def _request_digest(prepared: requests.PreparedRequest) -> bytes:
    return content_digest(repr(request_key(prepared)).encode())


def _remember(seen: dict[bytes, int], key: bytes, number: int) -> None:
    """Note the first page ``key`` was seen on, forgetting the oldest past ``REMEMBERED``."""
    seen.setdefault(key, number)
    if len(seen) > REMEMBERED:
        del seen[next(iter(seen))]


class Guards:
    """The requests and page contents seen so far (by digest), whether data was seen, and page
    1's records: what tells a repeated or doubtful page from new data."""

    def __init__(self) -> None:
        self.requests: dict[bytes, int] = {}
        self.contents: dict[bytes, int] = {}
        self.had_data = False
        self.first_records: list[dict[str, Any]] | None = None

    def requested(self, prepared: requests.PreparedRequest, number: int) -> None:
        """Note the page a request was first made for."""
        _remember(self.requests, _request_digest(prepared), number)

    def first_requested(self, prepared: requests.PreparedRequest, default: int) -> int:
        """The page this request was first made for (``default`` if never)."""
        return self.requests.get(_request_digest(prepared), default)

    def taken(self, number: int, found: bool, digest: bytes, first: list[dict[str, Any]]) -> None:
        """Take a page as new data: its content, that data was seen, page 1's records."""
        _remember(self.contents, digest, number)
        self.had_data |= found
        if self.first_records is None:
            self.first_records = first

    def suspicion(self, fetched: Fetched, found: bool, path: str | None) -> str | None:
        """Why this response cannot be trusted as data or as an end (None: it can);
        ``path``: the data_selector."""
        body = fetched.body
        if not found and isinstance(body, dict) and any(body.get(k) for k in ERROR_KEYS):
            return f"the response looks like an error: {excerpt(fetched.response.text, 200)}"
        if found or not self.had_data:
            return None
        if body is None and fetched.response.status_code == 204:
            return (
                "the response is a 204 No Content, while earlier pages had data (if the API "
                "ends its pages so, say it: response_actions [{status_code: 204, action: "
                "ignore}])"
            )
        if body is None:
            return "the response body is empty, while earlier pages had data"
        shown = excerpt(fetched.response.text, 200)
        return (
            f"the response has nothing at data_selector {path!r}, while earlier pages had: {shown}"
        )

    def repeat(self, page: Page, digest: bytes, empty_ends: bool) -> str | None:
        """Why this page is not new data: identical to an earlier page, or page 1's records.

        An empty page where the style ends on one is that end, even repeated (pages 0 and 1
        both empty, page 1 asked for after an empty page 0): ``empty_ends``."""
        if not page.records and empty_ends:
            return None
        earlier = self.contents.get(digest)
        if earlier is not None:
            return f"the page is identical to page {earlier}"
        first = self.first_records
        if page.number == 2 and first is not None and page.records == first != []:
            return "the page repeats the records of page 1"
        return None
