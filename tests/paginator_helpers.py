"""Shared by the tests/test_paginators_*.py files: the endpoint URL, records, pages as seen."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from helpers import BASE_URL
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.paginators import Page

URL = f"{BASE_URL}/items"
SMOREST = {"type": "page_number", "base_page": 1, "total_header": "X-Pagination"}


def rows(*numbers: int) -> list[dict[str, int]]:
    """Records ``{"id": n}``."""
    return [{"id": n} for n in numbers]


def unproven(page_number: int, url: str, reason: str) -> str:
    """The error line of a stream that stopped where it cannot prove the data ended."""
    return f"stream 'items': page {page_number} (GET {url}): {reason}; not a proven end"


def x_pagination(total: int, pages: int, number: int) -> dict[str, str]:
    """Flask-Smorest's pagination header for page ``number``."""
    meta = {"total": total, "total_pages": pages, "first_page": 1, "last_page": pages}
    return {"X-Pagination": json.dumps({**meta, "page": number})}


def fake_page(
    body: Any, headers: dict[str, str] | None = None, records: list[dict[str, Any]] | None = None
) -> Page:
    """A fetched page as the paginator sees it."""
    response = requests.Response()
    response.headers.update(headers or {})
    request = HTTPRequest(url=URL, method="GET", params={}, headers={}, data=None)
    found = body if isinstance(body, list) else body.get("items", [])
    return Page(request, response, body, found if records is None else records, 1)


def guesses(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The logged paginator guesses."""
    return [r.getMessage() for r in caplog.records if "No paginator configured" in r.message]
