"""Large pages: parsed in chunks along the data path, or whole (and why, said once)."""

from __future__ import annotations

import logging

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.requester import Fetched
from tap_restgeneric.paginators import Paginator
from tap_restgeneric.records.selectors import (
    ChunkedParseError,
    RecordSelector,
    chunk_keys,
    guess_path,
    reads_into,
)
from tap_restgeneric.redaction import REDACT
from tap_restgeneric.sync.steps import PageStep

logger = logging.getLogger(__name__)


class LargeBodies:
    """Whether a spooled body of one sequence is parsed in chunks (the sync's: ``chunked``)."""

    def __init__(self, stream_name: str, chunked: bool) -> None:
        self.stream_name = stream_name
        self.chunked = chunked
        self.noted = False

    def keys(
        self, fetched: Fetched, selector: RecordSelector, paginator: Paginator
    ) -> tuple[str, ...] | None:
        """The data path keys to parse a spooled body along in chunks (None: parse it whole)."""
        assert fetched.spooled is not None
        if not self.chunked:
            return None
        head = fetched.spooled.head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
        path = selector.path
        why = ""
        if path is None:
            path = guess_path(fetched.spooled.head)
            if path is None:
                self._whole(fetched, "no data_selector is set and its start shows no records array")
                return None
            selector.adopt(path)
        keys = chunk_keys(path)
        if keys is None:
            why = f"data_selector {path!r} is not a plain dotted path"
        elif head != (b"{" if keys else b"["):
            why = f"it is not a JSON {'object' if keys else 'array'}"
        else:
            paths = paginator.body_paths().items()
            reading = [name for name, path in paths if reads_into(path, keys)]
            if reading:
                why = f"the paginator's {reading[0]} reads into the records"
        if why:
            self._whole(fetched, why)
            return None
        return keys

    def _whole(self, fetched: Fetched, why: str) -> None:
        """Say once per sequence that a large body is parsed whole, in memory, and why."""
        if not self.noted:
            self.noted = True
            assert fetched.spooled is not None
            logger.warning(
                "Stream %r: a response of %s bytes is parsed whole, in memory: %s (a plain "
                'dotted data_selector, or "$" for a top-level array, lets it be parsed in '
                "chunks)",
                self.stream_name,
                f"{fetched.spooled.size:,}",
                why,
            )


def broken(
    described: str, step: PageStep, fetched: Fetched, exc: BaseException, written: int
) -> BaseException:
    """The error a large body that is not valid JSON ends the stream with (``described``: the
    request, as the requester describes it)."""
    if not isinstance(exc, ChunkedParseError):
        return exc
    assert fetched.spooled is not None
    after = f", after the first {written:,} of its records" if written else ""
    return StreamRequestError(
        f"{described} failed: status "
        f"{step.response.status_code if step.response is not None else '?'} but invalid JSON "
        f"in a body of {fetched.spooled.size:,} bytes ({REDACT(str(exc))[:200]}){after}"
    )
