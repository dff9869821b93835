"""Large pages: parsed in chunks along the data path, or whole (and why, said once).

A large page (a body the requester spooled to a file) is parsed in chunks when the sequence is
``chunked`` (the sync's): its records are handed out chunk by chunk (``PageStep.batches``), and
the page is judged (next request, proven end) once the last chunk is out, since fields after the
records array are known only then. Before the first record: the identical-content check (on the
digest computed while the body arrived) and, on page 2, page 1's records (first chunks) again.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.requester import Fetched
from tap_restgeneric.paginators import Page, Paginator
from tap_restgeneric.records.selectors import (
    ChunkedParse,
    ChunkedParseError,
    RecordSelector,
    StreamedRecords,
    chunk_keys,
    guess_path,
    reads_into,
)
from tap_restgeneric.redaction import REDACT
from tap_restgeneric.sync.parallel import Halted
from tap_restgeneric.sync.steps import PageStep

if TYPE_CHECKING:
    from tap_restgeneric.sync.sequence import PageSequence

logger = logging.getLogger(__name__)
Chunks = Generator[list[dict[str, Any]], None, None]


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


def large_step(
    seq: PageSequence,
    step: PageStep,
    fetched: Fetched,
    digest: bytes,
    keys: tuple[str, ...],
    *,
    include: dict[str, Any],
) -> PageStep | None:
    """A large page of ``seq``: checked before any record is handed out, then parsed in chunks
    (None: the paginator recovered, the page is asked for again)."""
    assert fetched.spooled is not None and step.response is not None
    stand_in = Page(step.request, step.response, None, [], step.number)
    earlier = seq.guards.contents.get(digest)
    if earlier is not None:
        fetched.close()
        return seq._repeated(step, stand_in, f"the page is identical to page {earlier}")
    parse = ChunkedParse(fetched.spooled.open(), keys)
    chunks = iter(parse)
    try:
        first = next(chunks, None)
    except BaseException as exc:
        fetched.close()
        raise broken(_described(seq, step), step, fetched, exc, 0) from None
    if first is None:  # no records array (or an empty one): the body is small after all
        fetched.close()
        body = parse.body
        records, found = seq.stream.selector.select_page(body)
        page = Page(step.request, step.response, body, records, step.number)
        whole = Fetched(step.response, body)
        return seq._judge(step, page, whole, records, digest=digest, found=found, include=include)
    repeat = seq.guards.first_records
    if step.number == 2 and repeat and first == repeat:
        parse.close()
        fetched.close()
        return seq._repeated(step, stand_in, "the page repeats the records of page 1")
    step.chunks = seq._large = _hand_out(
        seq, step, fetched, parse, chunks, first=first, digest=digest, include=include
    )
    return step


def _hand_out(
    seq: PageSequence,
    step: PageStep,
    fetched: Fetched,
    parse: ChunkedParse,
    chunks: Iterator[list[dict[str, Any]]],
    *,
    first: list[dict[str, Any]],
    digest: bytes,
    include: dict[str, Any],
) -> Chunks:
    """A large page's kept records chunk by chunk (incremental filter per record), then
    the page's judgement with the rest of the document and the records' count and last."""
    assert step.response is not None
    stream = seq.stream
    try:
        chunk: list[dict[str, Any]] | None = first
        last = first[-1]
        while chunk is not None:
            if (halt := stream.shared.halt).is_set():
                raise Halted(halt.signum)
            last = chunk[-1] if chunk else last
            yield stream._kept(seq.run, seq.window, chunk, include)
            try:
                chunk = next(chunks, None)
            except ChunkedParseError as exc:
                described = _described(seq, step)
                raise broken(described, step, fetched, exc, parse.records) from None
        records = StreamedRecords(parse.records, first, last)
        body: Any = records
        if parse.keys:
            body = parse.body
            node = body
            for key in parse.keys[:-1]:
                node = node[key]
            node[parse.keys[-1]] = records
        page = Page(step.request, step.response, body, records, step.number)
        seq._note(page, True, digest, first)
        seq._advance(step, page)
    finally:
        seq._large = None
        parse.close()
        fetched.close()


def _described(seq: PageSequence, step: PageStep) -> str:
    return seq.stream.requester.describe(step.prepared)
