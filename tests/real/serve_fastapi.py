"""A FastAPI app paged by fastapi-pagination: ``serve_fastapi.py --port N --data FILE``.

Built as fastapi-pagination's docs show, one route per page class, the ``Params`` class of each
as a dependency and the page class as the ``response_model``:

- ``GET /items?page=&size=`` → ``Page[Item]``: ``{items, total, page, size, pages}``; ``page``
  counts from 1 (``ge=1``: page 0 is a 422), ``size`` at most 100 (default 50);
- ``GET /items/limit-offset?limit=&offset=`` → ``LimitOffsetPage[Item]``:
  ``{items, total, limit, offset}``;
- ``GET /items/cursor?cursor=&size=`` → ``CursorPage[Item]``:
  ``{items, total, current_page, current_page_backwards, previous_page, next_page}``; the cursor
  is the page's last id, encoded by ``CursorParams`` (base64, URL-quoted), and ``next_page`` is
  ``null`` on the last page. fastapi-pagination's in-memory ``paginate`` pages by limit/offset
  only, so this route builds its page with ``CursorPage.create`` as its custom-paginate docs do.

Each takes the filters ``category`` and ``updated_since`` (a datetime; items with ``updated_at``
at or after it). Items are served in id order. FastAPI writes its own document at
``/openapi.json``.

When ``REAL_API_TOKEN`` is set, every route depends on ``HTTPBearer`` (so the document declares
a bearer scheme) and a token other than that one is a 401. uvicorn serves the app in this process.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_pagination import LimitOffsetPage, LimitOffsetParams, Page, Params, paginate
from fastapi_pagination.cursor import CursorPage, CursorParams
from pydantic import BaseModel


class Item(BaseModel):
    """One item as the data file holds it."""

    id: int
    name: str
    category: str
    price: int
    updated_at: datetime


ITEMS: list[Item] = []
bearer = HTTPBearer(auto_error=False)


def require_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """``Authorization: Bearer <REAL_API_TOKEN>``, else 401."""
    if credentials is None or credentials.credentials != os.environ.get("REAL_API_TOKEN"):
        raise HTTPException(status_code=401, detail="Not authenticated")


def select(
    category: Annotated[str | None, Query()] = None,
    updated_since: Annotated[datetime | None, Query()] = None,
) -> list[Item]:
    """The items matching the filters, in id order."""
    return [
        item
        for item in ITEMS
        if (category is None or item.category == category)
        and (updated_since is None or item.updated_at >= updated_since)
    ]


Selected = Annotated[list[Item], Depends(select)]


def create_app() -> FastAPI:
    """The app; with ``REAL_API_TOKEN`` set, every route behind the bearer token."""
    secured = [Depends(require_token)] if os.environ.get("REAL_API_TOKEN") else []
    app = FastAPI(title="items", dependencies=secured)

    @app.get("/items")
    def items(selected: Selected, params: Annotated[Params, Depends()]) -> Page[Item]:
        """``Page``: page (from 1) and size."""
        page: Page[Item] = paginate(selected, params)
        return page

    @app.get("/items/limit-offset")
    def items_limit_offset(
        selected: Selected, params: Annotated[LimitOffsetParams, Depends()]
    ) -> LimitOffsetPage[Item]:
        """``LimitOffsetPage``: limit and offset."""
        page: LimitOffsetPage[Item] = paginate(selected, params)
        return page

    @app.get("/items/cursor")
    def items_cursor(
        selected: Selected, params: Annotated[CursorParams, Depends()]
    ) -> CursorPage[Item]:
        """``CursorPage``: the items after the cursor's id; ``next_page`` while more follow."""
        raw = params.to_raw_params()
        after = int(raw.cursor) if raw.cursor else 0
        rest = [item for item in selected if item.id > after]
        chosen = rest[: raw.size]
        more = len(rest) > len(chosen) and bool(chosen)
        return CursorPage.create(
            chosen,
            params,
            total=len(selected),
            current=str(after) if after else None,
            next_=str(chosen[-1].id) if more else None,
        )

    return app


def load(path: Path) -> list[Item]:
    """The items in the data file."""
    return [Item.model_validate(raw) for raw in json.loads(path.read_text())]


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
