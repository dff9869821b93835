"""Django Ninja 1.7 serving the items, as its docs build an API, in a one-file Django project.

``settings.configure()`` with an in-memory SQLite database holding an ``Item`` model (the items
inserted through the ORM, ``updated_at`` an aware datetime). One ``NinjaAPI`` under ``/api/``,
the same query filtered by an ``ItemFilter`` (``FilterSchema``: ``category``, and
``updated_since`` looked up as ``updated_at__gte``) and ordered by id, paged each way Ninja
offers:

- ``/api/items``: ``@paginate(LimitOffsetPagination)``, ``limit`` (default 100) and ``offset``:
  ``{"items": [...], "count": 137}`` (count: records);
- ``/api/items/pages``: ``@paginate(PageNumberPagination, page_size=20)``, ``page`` from 1 (and
  ``page_size``, at most 100): ``{"items": [...], "count": 137}`` — count counts records, not
  pages; a page past the end is empty, not an error;
- ``/api/items/cursor``: ``@paginate(CursorPagination, ordering=("id",), page_size=25)``:
  ``{"results": [...], "next": "<url with ?cursor=…>", "previous": …}``.

Auth: with ``REAL_API_TOKEN`` set, ``NinjaAPI(auth=...)`` an ``HttpBearer`` that accepts that
token (``Authorization: Bearer <token>``); anything else is 401 ``{"detail": "Unauthorized"}``.

Served by Django's WSGI handler under wsgiref in this process (one thread, so the in-memory
database is the one the items were loaded into; one request log line each on stderr).
"""

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any
from wsgiref.simple_server import make_server

import django  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]

settings.configure(
    DEBUG=False,
    SECRET_KEY="tests-real-ninja",  # a test app on 127.0.0.1 only
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    USE_TZ=True,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()

from django.core.handlers.wsgi import WSGIHandler  # type: ignore[import-untyped]  # noqa: E402
from django.db import connection, models  # type: ignore[import-untyped]  # noqa: E402
from django.http import HttpRequest  # type: ignore[import-untyped]  # noqa: E402
from django.urls import path  # type: ignore[import-untyped]  # noqa: E402
from ninja import FilterLookup, FilterSchema, NinjaAPI, Query, Schema  # noqa: E402
from ninja.pagination import (  # noqa: E402
    CursorPagination,
    LimitOffsetPagination,
    PageNumberPagination,
    paginate,
)
from ninja.security import HttpBearer  # noqa: E402

STAMP = "%Y-%m-%dT%H:%M:%SZ"


class Item(models.Model):  # type: ignore[misc]  # django is untyped here
    """One item."""

    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=20)
    price = models.IntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        app_label = "shop"


class ItemOut(Schema):
    """One item as the API writes it."""

    id: int
    name: str
    category: str
    price: int
    updated_at: datetime


class ItemFilter(FilterSchema):
    """The filters: a category, and items updated at or after a moment."""

    category: str | None = None
    updated_since: Annotated[datetime | None, FilterLookup("updated_at__gte")] = None


class BearerToken(HttpBearer):
    """The one token in ``REAL_API_TOKEN``."""

    def authenticate(self, request: HttpRequest, token: str) -> str | None:
        """The token when it is the configured one, else None (401)."""
        return token if token == os.environ.get("REAL_API_TOKEN") else None


api = NinjaAPI(auth=BearerToken() if os.environ.get("REAL_API_TOKEN") else None)


def filtered(filters: ItemFilter) -> Any:
    """The items the filters keep, in id order."""
    return filters.filter(Item.objects.order_by("id"))


@api.get("/items", response=list[ItemOut])
@paginate(LimitOffsetPagination)
def items(request: HttpRequest, filters: Query[ItemFilter]) -> Any:
    """Limit/offset pages."""
    return filtered(filters)


@api.get("/items/pages", response=list[ItemOut])
@paginate(PageNumberPagination, page_size=20)
def item_pages(request: HttpRequest, filters: Query[ItemFilter]) -> Any:
    """Numbered pages of 20."""
    return filtered(filters)


@api.get("/items/cursor", response=list[ItemOut])
@paginate(CursorPagination, ordering=("id",), page_size=25)
def item_cursor(request: HttpRequest, filters: Query[ItemFilter]) -> Any:
    """Cursor pages of 25."""
    return filtered(filters)


urlpatterns = [path("api/", api.urls)]


def load(items: list[dict[str, Any]]) -> None:
    """Create the table and insert the items through the ORM."""
    with connection.schema_editor() as editor:
        editor.create_model(Item)
    Item.objects.bulk_create(
        Item(
            **{
                **item,
                "updated_at": datetime.strptime(item["updated_at"], STAMP).replace(
                    tzinfo=timezone.utc
                ),
            }
        )
        for item in items
    )


def main() -> None:
    """Parse ``--port --data``, load the items and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8784)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    load(json.loads(args.data.read_text()))
    with make_server("127.0.0.1", args.port, WSGIHandler()) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
