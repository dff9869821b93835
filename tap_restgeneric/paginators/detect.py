"""How ``auto`` reads a first response: the paginator it looks like, and whether there is more."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tap_restgeneric.paginators.base import Page

_TOTAL_PAGE_KEYS = {"total_pages", "pages", "totalpages"}
_TOTAL_RECORD_KEYS = {
    "total",
    "count",
    "totalcount",
    "totalitems",
    "totalresults",
    "totalrecords",
    "totalentries",
    "totalelements",
}
"""Names (lower case, without ``_``) of a record total: more than one page holds means more."""


def _find_key(body: Any, match: Any, trail: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Depth-first search for the first key path whose last key satisfies ``match``."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if match(str(key), value):
            return (*trail, str(key))
        found = _find_key(value, match, (*trail, str(key)))
        if found:
            return found
    return None


def _is_count(value: Any) -> bool:
    """Whether a value reads as a page count (an int, or a string or float int() accepts)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        int(value)
    except (ValueError, OverflowError):
        return False
    return True


def leaf(path: str) -> str:
    """The last key of a dotted path (``cursors.next`` → ``next``)."""
    return path.rsplit(".", 1)[-1].strip("[]'")


def _quote(keys: tuple[str, ...]) -> str:
    return ".".join(k if k.replace("_", "").isalnum() else f"['{k}']" for k in keys)


def _next_value(body: Any) -> tuple[str, Any] | None:
    """The first key starting with "next" (or its href/url child) and its scalar value."""
    keys = _find_key(body, lambda k, v: k.lower().startswith("next"))
    if keys is None:
        return None
    node: Any = body
    for key in keys:
        node = node[key]
    if isinstance(node, dict):
        inner = next((k for k in node if str(k).lower().startswith(("href", "url"))), None)
        if inner is None:
            return None
        keys, node = (*keys, str(inner)), node[inner]
    if isinstance(node, str | int | float) and not isinstance(node, bool):
        return _quote(keys), node
    return None


def _is_link(path: str, value: Any) -> bool:
    """A next URL: absolute, from the root, or any ``href``/``url`` (Eve's ``items?page=2``)."""
    if not isinstance(value, str):
        return False
    return value.startswith(("http", "/")) or leaf(path).lower().startswith(("href", "url"))


def detect(page: Page) -> dict[str, Any]:
    """Return a paginator config (as a user would write it) matching the first response."""
    if "next" in page.response.links:
        return {"type": "header_link"}
    found = _next_value(page.body)
    if found and _is_link(*found):
        return {"type": "json_link", "next_url_path": found[0]}
    total = _find_key(page.body, lambda k, v: k.lower() in _TOTAL_PAGE_KEYS and _is_count(v))
    if total is not None:
        return {"type": "page_number", "total_path": _quote(total)}
    counted = _header_page_count(page)
    if counted is not None:
        return counted
    if found:
        return {"type": "cursor", "cursor_path": found[0], "cursor_param": "cursor"}
    # Litestar's CursorPagination: {items, results_per_page, cursor}; a next… key, even null,
    # names the next page itself (a "cursor" beside it may be this page's)
    no_next = _find_key(page.body, lambda k, v: k.lower().startswith("next")) is None
    cursor = _find_key(page.body, lambda k, v: k.lower() == "cursor" and _is_cursor(v))
    if cursor is not None and no_next:
        return {"type": "cursor", "cursor_path": _quote(cursor), "cursor_param": "cursor"}
    return {"type": "single_page"}


def _is_cursor(value: Any) -> bool:
    """Whether a value can be sent as a cursor: a non-empty string or a number."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (isinstance(value, str) and value != "")


def more_than_one_page(page: Page) -> str | None:
    """Why a page guessed ``single_page`` is not all the data: its record total, or a top-level
    ``truncated: true`` (Datasette's SQL results past max_returned_rows), else None.

    A total (``total``, ``count``, ``total_count``, ``totalItems``…) above the page's records
    says the API pages (Litestar's OffsetPagination, Feathers' ``{total, limit, skip, data}``).
    A key inside the record itself (a single object's ``count``) is not a total.
    """
    count = len(page.records)
    first = page.records[0] if count else None
    body = page.body
    if isinstance(body, dict) and body.get("truncated") is True and body != first:
        return f"the response says it was truncated ('truncated': true after {count} records)"
    totals = [(_quote(keys), total) for keys, total in _totals(page.body, first)]
    for where, total in [*totals, *_header_totals(page)]:
        if total > count:
            return f"the response's total ({where}: {total}) is more than its {count} records"
    return None


def _headers(page: Page) -> Iterator[tuple[str, Any]]:
    """Each response header: a JSON object's value parsed, any other as its text."""
    for name, text in page.response.headers.items():
        if not text.lstrip().startswith("{"):
            yield name, text
            continue
        try:
            yield name, json.loads(text)
        except ValueError:
            continue


def _squash(name: str) -> str:
    """A name lower case without ``-`` and ``_`` (``X-Total-Count`` → ``xtotalcount``)."""
    return name.lower().replace("-", "").replace("_", "")


def _header_page_count(page: Page) -> dict[str, Any] | None:
    """A page count in a header — a JSON header's key (Flask-Smorest's ``X-Pagination``
    ``total_pages``, its ``first_page`` the base page) or ``X-Total-Pages`` — as a page_number."""
    for name, value in _headers(page):
        if isinstance(value, dict):
            key = next((k for k in value if str(k).lower() in _TOTAL_PAGE_KEYS), None)
            if key is not None and _is_count(value[key]):
                found: dict[str, Any] = {"type": "page_number", "total_header": name}
                found["total_path"] = _quote((key,))
                if _is_count(value.get("first_page")):
                    found["base_page"] = int(value["first_page"])
                return found
        elif _squash(name).endswith("totalpages") and _is_count(value):
            return {"type": "page_number", "total_header": name}
    return None


def _header_totals(page: Page) -> Iterator[tuple[str, int]]:
    """Every record total in the headers: ``X-Total-Count``, ``X-Total``, a JSON header's key."""
    plain = _TOTAL_RECORD_KEYS - {"count"}  # a header ending in "count" need not count records
    for name, value in _headers(page):
        if isinstance(value, dict):
            for key, item in value.items():
                if str(key).lower().replace("_", "") in _TOTAL_RECORD_KEYS and _is_count(item):
                    yield f"header {name} {_quote((str(key),))}", int(item)
        elif _squash(name).endswith(tuple(plain)) and _is_count(value):
            yield f"header {name}", int(value)


def _totals(
    body: Any, record: Any, trail: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], int]]:
    """Every record total in the body's objects (not in lists, nor in ``record``)."""
    if not isinstance(body, dict) or (record is not None and body == record):
        return
    for key, value in body.items():
        if str(key).lower().replace("_", "") in _TOTAL_RECORD_KEYS and _is_count(value):
            yield (*trail, str(key)), int(value)
        yield from _totals(value, record, (*trail, str(key)))
