"""Datasette 0.65 serving the items as a SQLite table ``items`` in database ``shop``.

As Datasette's docs recommend: build a SQLite file (``shop.db`` in the working directory), then
serve it with ``Datasette([...]).app()`` under uvicorn, in this process. Its JSON API is
``/shop/items.json`` (``_shape=objects``: ``rows``, ``next``, ``next_url``; ``_size``, ``_sort``,
``_next``; column filters such as ``updated_at__gte``), and SQL queries (``/shop.json?sql=``:
one page of at most ``max_returned_rows``, ``"truncated": true`` when cut).

Auth: Datasette 0.65 has no API tokens of its own (``dstok_`` tokens came in 1.0 alphas); its
docs point to the ``datasette-auth-tokens`` plugin, which turns ``Authorization: Bearer <token>``
into an actor, and an ``allow`` block in the metadata that admits only that actor. With
``REAL_API_TOKEN`` set, that is what runs: any other request is 403 Forbidden (Datasette's answer
to a denied actor; it has no 401).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import uvicorn
from datasette.app import Datasette

COLUMNS = ("id", "name", "category", "price", "updated_at")


def build(items: list[dict[str, Any]], path: Path) -> None:
    """Write the items into ``path`` as table ``items`` (id the primary key)."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, category TEXT,"
            " price INTEGER, updated_at TEXT)"
        )
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?, ?)",
            [tuple(item[c] for c in COLUMNS) for item in items],
        )
    db.close()


def metadata(token: str | None) -> dict[str, Any]:
    """No restriction without a token; with one, datasette-auth-tokens and an allow block."""
    if not token:
        return {}
    return {
        "allow": {"id": "tap"},
        "plugins": {
            "datasette-auth-tokens": {
                "tokens": [{"token": {"$env": "REAL_API_TOKEN"}, "actor": {"id": "tap"}}]
            }
        },
    }


def main() -> None:
    """Parse ``--port --data``, build the database and serve it until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    items = json.loads(args.data.read_text())
    db = Path.cwd() / "shop.db"
    build(items, db)
    token = os.environ.get("REAL_API_TOKEN")
    # --setting max_returned_rows (default 1000) lowered below the 137 items: a SQL query over
    # all of them is cut at 100 rows with "truncated": true (tables page as before, _size <= 100)
    settings = {"max_returned_rows": 100}
    datasette = Datasette([str(db)], metadata=metadata(token), settings=settings)
    uvicorn.run(datasette.app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
