"""A Litestar API for the integration suite (issue 14): ``serve_litestar.py --port N --data FILE``.

Built as Litestar's docs recommend (*Usage → Responses → Pagination*): one paginator class per
style, subclassing ``AbstractSyncOffsetPaginator``, ``AbstractSyncClassicPaginator`` and
``AbstractSyncCursorPaginator``, and handlers returning the models they build:

- ``GET /offset/items?limit=&offset=`` → ``OffsetPagination``: ``{items, limit, offset, total}``;
- ``GET /classic/items?page_size=&current_page=`` → ``ClassicPagination``:
  ``{items, page_size, current_page, total_pages}`` (pages count from 1);
- ``GET /cursor/items?results_per_page=&cursor=`` → ``CursorPagination``:
  ``{items, results_per_page, cursor}``; the cursor is the last id of the page (as the docs'
  example returns ``results[-1].id``), so the last page is followed by an empty one whose cursor
  is ``null``.

Each takes the filters ``category`` and ``updated_since`` (a datetime Litestar parses; items with
``updated_at`` at or after it). Items are served in id order.

When ``REAL_API_TOKEN`` is set every route requires it in the ``X-API-KEY`` header, through an
``AbstractAuthenticationMiddleware`` as Litestar's *Security → Authentication* docs show; a
missing or wrong key is Litestar's ``NotAuthorizedException`` (401). uvicorn serves the app in
this process.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)
from litestar.pagination import (
    AbstractSyncClassicPaginator,
    AbstractSyncCursorPaginator,
    AbstractSyncOffsetPaginator,
    ClassicPagination,
    CursorPagination,
    OffsetPagination,
)

API_KEY_HEADER = "X-API-KEY"


@dataclass
class Item:
    """One item as the data file holds it."""

    id: int
    name: str
    category: str
    price: int
    updated_at: datetime


ITEMS: list[Item] = []


def select(category: str | None, updated_since: datetime | None) -> list[Item]:
    """The items matching the filters, in id order."""
    return [
        item
        for item in ITEMS
        if (category is None or item.category == category)
        and (updated_since is None or item.updated_at >= updated_since)
    ]


class ItemOffsetPaginator(AbstractSyncOffsetPaginator[Item]):
    """Limit/offset pages over the filtered items."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items

    def get_total(self) -> int:
        return len(self.items)

    def get_items(self, limit: int, offset: int) -> list[Item]:
        return self.items[offset : offset + limit]


class ItemClassicPaginator(AbstractSyncClassicPaginator[Item]):
    """Numbered pages (from 1) over the filtered items."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items

    def get_total(self, page_size: int) -> int:
        return -(-len(self.items) // page_size)

    def get_items(self, page_size: int, current_page: int) -> list[Item]:
        start = (current_page - 1) * page_size
        return self.items[start : start + page_size]


class ItemCursorPaginator(AbstractSyncCursorPaginator[int, Item]):
    """Pages after an id: the next cursor is the page's last id, ``None`` on an empty page."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items

    def get_items(self, cursor: int | None, results_per_page: int) -> tuple[list[Item], int | None]:
        after = [item for item in self.items if cursor is None or item.id > cursor]
        page = after[:results_per_page]
        return page, page[-1].id if page else None


@get("/offset/items", sync_to_thread=False)
def offset_items(
    limit: int,
    offset: int,
    category: str | None = None,
    updated_since: datetime | None = None,
) -> OffsetPagination[Item]:
    """``{items, limit, offset, total}``."""
    return ItemOffsetPaginator(select(category, updated_since))(limit=limit, offset=offset)


@get("/classic/items", sync_to_thread=False)
def classic_items(
    page_size: int,
    current_page: int,
    category: str | None = None,
    updated_since: datetime | None = None,
) -> ClassicPagination[Item]:
    """``{items, page_size, current_page, total_pages}``."""
    paginator = ItemClassicPaginator(select(category, updated_since))
    return paginator(page_size=page_size, current_page=current_page)


@get("/cursor/items", sync_to_thread=False)
def cursor_items(
    results_per_page: int,
    cursor: int | None = None,
    category: str | None = None,
    updated_since: datetime | None = None,
) -> CursorPagination[int, Item]:
    """``{items, results_per_page, cursor}``."""
    paginator = ItemCursorPaginator(select(category, updated_since))
    return paginator(cursor=cursor, results_per_page=results_per_page)


class ApiKeyAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """The ``X-API-KEY`` header must be ``REAL_API_TOKEN``."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        key = connection.headers.get(API_KEY_HEADER)
        if not key or key != os.environ.get("REAL_API_TOKEN"):
            raise NotAuthorizedException("a valid X-API-KEY header is required")
        return AuthenticationResult(user="api-client", auth=key)


def load(path: Path) -> list[Item]:
    """The items in the data file (``updated_at`` as ISO 8601 ``...Z``)."""
    return [
        Item(
            id=raw["id"],
            name=raw["name"],
            category=raw["category"],
            price=raw["price"],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
        )
        for raw in json.loads(path.read_text())
    ]


def create_app() -> Litestar:
    """The app; with ``REAL_API_TOKEN`` set, behind the API-key middleware."""
    middleware = []
    if os.environ.get("REAL_API_TOKEN"):
        middleware.append(DefineMiddleware(ApiKeyAuthenticationMiddleware))
    return Litestar(
        route_handlers=[offset_items, classic_items, cursor_items], middleware=middleware
    )


def main() -> None:
    """Serve the data file's items on 127.0.0.1:PORT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    ITEMS.extend(load(args.data))
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
