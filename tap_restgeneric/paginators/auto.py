"""``auto``: detect the paginator from the first response as dlt does, log the guess, prove it."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
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
from tap_restgeneric.paginators.detect import detect, leaf, more_than_one_page
from tap_restgeneric.paginators.page_number import PageNumberPaginator
from tap_restgeneric.paginators.references import CursorPaginator, SinglePagePaginator

logger = logging.getLogger(__name__)
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


@PAGINATORS.register("auto")
class AutoPaginator(Paginator):
    """Sends the first request as configured, then delegates to the detected paginator.

    The detection is kept as config to paste (``detection``); decisions read the detected
    paginator and its typed options.
    """

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
            single = isinstance(self.inner, SinglePagePaginator)
            if not single or len(page.records) > 1:
                logger.warning(
                    "No paginator configured; guessed %s from the first response. "
                    "Set it explicitly to silence this guess.",
                    json.dumps(self.detected),
                )
            token = self.inner.first_token()
            if single:
                self._check_single(page)
        elif page.number == 2 and len(self._tried) > 1:
            logger.warning(
                "No paginator configured; %s moved past page 1. Set it explicitly.",
                json.dumps(self.detected),
            )
        return self.inner.advance(page, token)

    def _check_single(self, page: Page) -> None:
        """A single_page guess ends the data only if the response does not say there is more."""
        more = more_than_one_page(page)
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
        """Build the paginator ``detect`` wrote as config (its options typed from here on)."""
        cls = PAGINATORS[detected["type"]]
        self.detected = detected
        self.inner = cls(cls.options_from(detected, (), ConfigErrors()), base_url=self.base_url)

    def recover(self, repeated: Page, token: Any) -> Recovery | None:
        """Page 2 repeated page 1: the guess did not move on; try the next plausible one.

        A guessed cursor is sent under the other names APIs use for it, one at a time; a guessed
        page count is healed by the page_number rule. With nothing left to try, fail with what
        was tried and the config to write.
        """
        inner = self.inner
        if inner is None or self.detected is None or repeated.number != 2:
            return None
        if not isinstance(inner, CursorPaginator):
            recovery = inner.recover(repeated, token)
            if recovery is not None and isinstance(inner, PageNumberPaginator):
                self.detected = {**self.detected, "base_page": 1}
            return recovery
        options = inner.options
        assert options.cursor_param is not None  # detect sends a cursor as a query parameter
        tried = self._tried or [options.cursor_param]
        self._tried = tried
        names = [n for n in (leaf(options.cursor_path), *CURSOR_PARAMS) if n not in tried]
        if not names:
            example = {**self.detected, "cursor_param": "<the API's parameter>"}
            msg = (
                "the guessed paginator did not move past page 1 (the cursor was sent as "
                f"{', '.join(repr(t) for t in tried)}); configure the paginator, for example "
                f"{json.dumps(example)}"
            )
            raise PaginationError(msg)
        tried.append(names[0])
        self.detected = {**self.detected, "cursor_param": names[0]}
        retry = replace(options, cursor_param=names[0])
        self.inner = CursorPaginator(retry, base_url=self.base_url)
        note = f"page 2 repeated page 1 with the cursor sent as {tried[-2]!r}; trying {names[0]!r}"
        return Recovery(token, note)

    def explain(self, token: Any) -> str:
        """The detected paginator's explanation."""
        return self.inner.explain(token) if self.inner is not None else super().explain(token)

    def detection(self) -> dict[str, Any] | None:
        """The detected paginator as config to paste (None before the first response)."""
        return self.detected
