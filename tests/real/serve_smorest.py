"""Flask-Smorest 0.47 serving the items at ``/items/``, as its docs build an API.

An ``Api`` with one ``Blueprint``; marshmallow schemas for the items (``ItemSchema``) and the
query arguments (``ItemQueryArgsSchema``: ``category``, and ``updated_since``, an aware datetime,
keeping items updated at or after it); ``@blp.paginate(Page)`` pages the filtered list with
``page`` (from 1) and ``page_size`` (default 10, at most 100) and writes the metadata in the
``X-Pagination`` header as JSON (``{"total": 137, "total_pages": 14, "first_page": 1,
"last_page": 14, "page": 1, "next_page": 2}``): the body is the bare list. Items are returned
sorted by id; ``updated_at`` is written as ``2024-01-01T01:00:00Z``.

Auth: Flask-Smorest has none of its own (its docs leave it to Flask extensions), so
``REAL_API_TOKEN`` is refused: an app here would not be the framework's standard way.

Served by werkzeug's development server in this process (threaded; one request log line each on
stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint, Page

STAMP = "%Y-%m-%dT%H:%M:%SZ"


class ItemSchema(ma.Schema):
    """One item."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    category = ma.fields.String()
    price = ma.fields.Integer()
    updated_at = ma.fields.DateTime(format=STAMP)


class ItemQueryArgsSchema(ma.Schema):
    """The filters: a category, and items updated at or after a moment."""

    category = ma.fields.String()
    updated_since = ma.fields.AwareDateTime(default_timezone=timezone.utc)


def create_app(items: list[dict[str, Any]]) -> Flask:
    """The app: ``GET /items/`` (filtered, paginated) and the OpenAPI document."""
    app = Flask("items")
    app.config.update(
        API_TITLE="Items", API_VERSION="v1", OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/"
    )
    api = Api(app)
    blp = Blueprint("items", "items", url_prefix="/items", description="The items")
    rows = sorted(
        (
            {
                **item,
                "updated_at": datetime.strptime(item["updated_at"], STAMP).replace(
                    tzinfo=timezone.utc
                ),
            }
            for item in items
        ),
        key=lambda row: row["id"],
    )

    @blp.route("/")
    class Items(MethodView):
        @blp.arguments(ItemQueryArgsSchema, location="query")  # type: ignore[untyped-decorator]
        @blp.response(200, ItemSchema(many=True))  # type: ignore[untyped-decorator]
        @blp.paginate(Page)  # type: ignore[untyped-decorator]  # flask_smorest is untyped
        def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
            """The items, filtered by the query arguments, in id order."""
            since = args.get("updated_since")
            category = args.get("category")
            return [
                row
                for row in rows
                if (category is None or row["category"] == category)
                and (since is None or row["updated_at"] >= since)
            ]

    api.register_blueprint(blp)
    return app


def main() -> None:
    """Parse ``--port --data`` and serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8783)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    if os.environ.get("REAL_API_TOKEN"):
        sys.exit("flask-smorest has no standard auth: REAL_API_TOKEN is not supported")
    app = create_app(json.loads(args.data.read_text()))
    app.run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
