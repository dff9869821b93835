"""Eve 2.3 serving the items as resource ``items``, on mongomock instead of MongoDB.

MongoDB is not installable here, so ``pymongo.MongoClient`` is replaced by
``mongomock.MongoClient`` before Eve is imported (Eve's PyMongo wrapper imports the name from
pymongo): everything above the driver is Eve's own code, as its docs configure it — a ``DOMAIN``
with a Cerberus schema, HATEOAS on (``_links.next.href``, relative to the API root;
``_meta.total``), ``page`` and ``max_results`` (default 25, at most 50), ``where`` (Mongo
JSON), ``sort``, and a sub-resource ``categories/<category>/items``. ``updated_at`` is a
``datetime`` field, stored as a datetime and written in Eve's ``DATE_FORMAT``, RFC 1123
(``Mon, 01 Jan 2024 01:00:00 GMT``); a ``where`` value in that format is read back as a datetime.
The items are inserted through Eve's own ``post_internal`` (validation, ``_created``, ``_etag``).

Auth: with ``REAL_API_TOKEN`` set, ``eve.auth.TokenAuth`` (``Authorization: Bearer <token>``, or
the token as a Basic username) guards every method; anything else is 401.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import mongomock
import pymongo

pymongo.MongoClient = mongomock.MongoClient  # type: ignore[misc]  # before eve: no MongoDB

from eve import Eve  # noqa: E402
from eve.auth import TokenAuth  # noqa: E402
from eve.methods.post import post_internal  # noqa: E402

SCHEMA: dict[str, Any] = {
    "id": {"type": "integer", "required": True, "unique": True},
    "name": {"type": "string"},
    "category": {"type": "string", "allowed": ["tools", "garden", "kitchen"]},
    "price": {"type": "integer"},
    "updated_at": {"type": "datetime"},
}
SETTINGS: dict[str, Any] = {
    "MONGO_URI": "mongodb://127.0.0.1:27017/shop",
    "RESOURCE_METHODS": ["GET"],
    "ITEM_METHODS": ["GET"],
    "DOMAIN": {
        "items": {"schema": SCHEMA},
        # A sub-resource (Eve's docs, "Sub Resources"): /categories/garden/items filters by the
        # URL's category. Its links are relative to the API root: categories/garden/items?page=2
        "category_items": {
            "url": 'categories/<regex("[a-z]+"):category>/items',
            "datasource": {"source": "items"},
            "schema": SCHEMA,
        },
    },
}


class Token(TokenAuth):  # type: ignore[misc]  # eve is untyped
    """The one token in ``REAL_API_TOKEN``."""

    def check_auth(self, token: str, allowed_roles: Any, resource: str, method: str) -> bool:
        """Whether the request's token is the configured one."""
        return token == os.environ.get("REAL_API_TOKEN")


def load(app: Any, items: list[dict[str, Any]]) -> None:
    """Insert the items through Eve's POST logic, updated_at as a datetime."""
    documents = [
        {**item, "updated_at": datetime.strptime(item["updated_at"], "%Y-%m-%dT%H:%M:%SZ")}
        for item in items
    ]
    with app.test_request_context():
        response, _, _, status, _ = post_internal("items", payl=documents)
    if status != 201:
        raise RuntimeError(f"loading the items failed: {status} {response}")


def main() -> None:
    """Parse ``--port --data``, load the items and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8782)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    items = json.loads(args.data.read_text())
    auth = Token if os.environ.get("REAL_API_TOKEN") else None
    app = Eve(settings=SETTINGS, auth=auth)
    load(app, items)
    app.run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
