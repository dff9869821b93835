"""``auto``: detect the paginator from the first response as dlt does, and log the guess."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.errors import ConfigErrors
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    MoreData,
    Page,
    PaginationError,
    Paginator,
    PaginatorOptions,
    Recovery,
)

logger = logging.getLogger(__name__)
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
CURSOR_PARAMS = (
    "cursor",
    "next",
    "after",
    "next_cursor",
    "nextCursor",
    "page_token",
    "pageToken",
    "next_page_token",
    "starting_after",
    "continuation",
    "continuation_token",
    "token",
)
"""Query parameters an API may expect a body cursor in, tried in order until one moves on."""


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


def _leaf(path: str) -> str:
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
    return value.startswith(("http", "/")) or _leaf(path).lower().startswith(("href", "url"))


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


def _more_than_one_page(page: Page) -> str | None:
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


@PAGINATORS.register("auto")
class AutoPaginator(Paginator):
    """Sends the first request as configured, then delegates to the detected paginator."""

    def __init__(self, options: PaginatorOptions, *, base_url: str = "") -> None:
        super().__init__(options, base_url=base_url)
        self.inner: Paginator | None = None
        self.detected: dict[str, Any] | None = None
        self._tried: list[str] = []  # cursor parameter names sent so far

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Let the detected paginator write tokens after the first page."""
        if self.inner is not None:
            self.inner.apply(request, token)

    def next_token(self, page: Page, token: Any) -> Any:
        """Detect on the first page, then follow the detected style."""
        if self.inner is None:
            self._use(detect(page))
            assert self.detected is not None and self.inner is not None
            if self.detected["type"] != "single_page" or len(page.records) > 1:
                logger.warning(
                    "No paginator configured; guessed %s from the first response. "
                    "Set it explicitly to silence this guess.",
                    json.dumps(self.detected),
                )
            token = self.inner.first_token()
            if self.detected["type"] == "single_page":
                self._check_single(page)
        elif page.number == 2 and len(self._tried) > 1:
            logger.warning(
                "No paginator configured; %s moved past page 1. Set it explicitly.",
                json.dumps(self.detected),
            )
        return self.inner.advance(page, token)

    def _check_single(self, page: Page) -> None:
        """A single_page guess ends the data only if the response does not say there is more."""
        more = _more_than_one_page(page)
        if more is None:
            return
        example = {
            "type": "offset",
            "limit": max(len(page.records), 1),
            "offset_param": "<the API's parameter>",
            "limit_param": "<the API's parameter>",
        }
        msg = (
            f"the guessed single_page ends here, but {more}; configure the paginator, "
            f'for example {json.dumps(example)}, or "single_page" if the API serves only this page'
        )
        raise MoreData(msg)

    def _use(self, detected: dict[str, Any]) -> None:
        cls = PAGINATORS[detected["type"]]
        self.detected = detected
        self.inner = cls(cls.options_from(detected, (), ConfigErrors()), base_url=self.base_url)

    def recover(self, repeated: Page, token: Any) -> Recovery | None:
        """Page 2 repeated page 1: the guess did not move on; try the next plausible one.

        A guessed cursor is sent under the other names APIs use for it, one at a time; a guessed
        page count is healed by the page_number rule. With nothing left to try, fail with what
        was tried and the config to write.
        """
        if self.inner is None or self.detected is None or repeated.number != 2:
            return None
        if self.detected["type"] != "cursor":
            recovery = self.inner.recover(repeated, token)
            if recovery is not None and self.detected["type"] == "page_number":
                self.detected = {**self.detected, "base_page": 1}
            return recovery
        tried = self._tried or [self.detected["cursor_param"]]
        self._tried = tried
        names = [n for n in (_leaf(self.detected["cursor_path"]), *CURSOR_PARAMS) if n not in tried]
        if not names:
            example = {**self.detected, "cursor_param": "<the API's parameter>"}
            msg = (
                "the guessed paginator did not move past page 1 (the cursor was sent as "
                f"{', '.join(repr(t) for t in tried)}); configure the paginator, for example "
                f"{json.dumps(example)}"
            )
            raise PaginationError(msg)
        tried.append(names[0])
        self._use({**self.detected, "cursor_param": names[0]})
        note = f"page 2 repeated page 1 with the cursor sent as {tried[-2]!r}; trying {names[0]!r}"
        return Recovery(token, note)

    def explain(self, token: Any) -> str:
        """The detected paginator's explanation."""
        return self.inner.explain(token) if self.inner is not None else super().explain(token)

    def detection(self) -> dict[str, Any] | None:
        """The detected paginator as config to paste (None before the first response)."""
        return self.detected
