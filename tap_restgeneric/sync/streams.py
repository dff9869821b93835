"""The REST stream driven by a ResourceSpec: requests, pages, records, bookmarks, summary."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.spec import ResourceSpec, RestApiSpec
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.credentials import Credentials, configure_session
from tap_restgeneric.http.requester import Requester, StreamHooks
from tap_restgeneric.http.urls import join_url
from tap_restgeneric.paginators import Paginator, build_paginator
from tap_restgeneric.records.schemas import schema_for
from tap_restgeneric.records.selectors import RecordSelector
from tap_restgeneric.records.stream_schema import SchemaTracker
from tap_restgeneric.sdk import StreamSeam
from tap_restgeneric.sync.bookmarks import IncrementalError, IncrementalRun, Window, utc_now
from tap_restgeneric.sync.endpoint_requests import EndpointRequests, Filled
from tap_restgeneric.sync.family import ChildContext
from tap_restgeneric.sync.fastpath import RecordWriter
from tap_restgeneric.sync.sequence import PageSequence
from tap_restgeneric.sync.shared import Shared
from tap_restgeneric.sync.summary import StreamStats
from tap_restgeneric.sync.windows import WindowPages

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.authenticators import APIAuthenticatorBase
    from singer_sdk.helpers.types import Context


class RestGenericStream(StreamSeam):
    """A stream whose requests, pagination and records come from its resource spec.

    Built by the tap with what the run shares (``Shared``: limiter, halt signal,
    authenticators); it owns its schema tracker (SCHEMA, typing, drift) and its record writer
    (the fast RECORD path), and answers the SDK seam's hooks by calling them.
    """

    resource: ClassVar[ResourceSpec]
    api: ClassVar[RestApiSpec]
    children_fields: ClassVar[dict[str, str]] = {}

    def __init__(self, tap: Tap, shared: Shared) -> None:
        self.shared = shared
        super().__init__(tap=tap, name=self.resource.stream_name, schema=schema_for(self.resource))
        self.primary_keys = list(self.resource.primary_key)
        self.selector = RecordSelector(self.resource.endpoint.data_selector, self.name)
        self.schema_tracker = SchemaTracker(self, self.resource)
        self.record_writer = RecordWriter(self)
        endpoint = self.resource.endpoint
        self.credentials = Credentials(
            self.authenticator,
            [self.api.base_url, self.get_url(None)],
            (self.api.headers, endpoint.headers, endpoint.params, endpoint.json, endpoint.data),
        )
        self.requester = Requester(
            self.requests_session,
            self.name,
            endpoint.retry,
            endpoint.response_actions,
            self.api.request_timeout,
            limiter=shared.limiter,
            hooks=StreamHooks(self.credentials.follow, self.credentials.reauthenticate),
        )
        configure_session(self.requests_session, self.api)
        self.endpoint_requests = EndpointRequests(
            self.resource, self.api, self.requests_session, self.credentials, self.user_agent
        )
        self._run: IncrementalRun | None = None
        self._shared_run: IncrementalRun | None = None
        self.stats = StreamStats(self.name)
        self.child_context = ChildContext(self.resource.name, self.children_fields)

    # What the SDK asks of a REST stream.

    @property
    def url_base(self) -> str:
        """The client's base_url."""
        return self.api.base_url

    def get_url(self, context: Context | None) -> str:
        """The endpoint URL: base_url joined with the path as dlt joins them."""
        return join_url(self.api.base_url, self.resource.endpoint.path)

    @cached_property
    def authenticator(self) -> APIAuthenticatorBase:
        """The run-wide authenticator for this endpoint's auth (shared between streams)."""
        return self.shared.authenticators(self.resource.endpoint.auth)

    def get_new_paginator(self) -> Paginator:  # type: ignore[override]
        """A fresh paginator of the configured style (it reads the parsed page)."""
        return build_paginator(self.resource.endpoint.paginator, base_url=self.api.base_url)

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[dict[str, Any] | None]:
        """Hand children only the parent fields they use (nothing when there are no children).

        A plain function, not a generator: the SDK calls it for every record.
        """
        return (self.child_context(record),) if self.child_context else ()

    def has_children(self) -> bool:
        """Whether records hand contexts to child streams (they are then processed one by one)."""
        return bool(self.child_context)

    # The SDK seam's hooks: SCHEMA through the schema tracker, RECORDs through the writer.

    def write_schema(self) -> None:
        """Write SCHEMA unless it waits for the first page (or was written unchanged already)."""
        self.schema_tracker.write()

    def write_record(self, record: dict[str, Any]) -> None:
        """Write one RECORD line (the SDK's steps only when they would change something)."""
        self.record_writer.write_record(record)

    def pages_at_once(self, write_messages: bool) -> bool:
        """Whether the sync loop runs a page at a time: no children, nothing per record."""
        return not self.has_children() and self.record_writer.pages_at_once(write_messages)

    def write_page(self, records: list[dict[str, Any]]) -> None:
        """Write one page's RECORD lines in one write."""
        self.record_writer.write_page(records)

    def observe_record(self, record: dict[str, Any], context: Context | None) -> None:
        """Track the cursor of each written record; bookmarks move only in ``_commit``."""
        if self._run is not None:
            try:
                self._run.observe(record, self._run.spec.primary_key or ())
            except IncrementalError as exc:
                raise StreamRequestError(f"stream {self.name!r}: {exc}") from None

    # Records: every window's request sequences, each page fitted to the schema.

    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every record of every page."""
        for records in self.request_pages(context):
            yield from records

    def request_pages(self, context: Context | None) -> Iterable[list[dict[str, Any]]]:
        """Fetch every window's pages; bookmark when safe (per page, per window, or at the end)."""
        spec = self.resource.endpoint.incremental
        if spec is None:
            for records in self.pages(context, None, None):
                yield self._fit(records)
            self.schema_tracker.settled()
            return
        incremental = self.replication_method == REPLICATION_INCREMENTAL
        shared = self.resource.parent is not None and not spec.per_parent
        run = self._shared_run if shared else None
        if run is None:
            state = self.get_context_state(context) if incremental else {}
            run = IncrementalRun(spec, state, utc_now())
            self._shared_run = run if shared else None
        self._run = run
        commit = incremental and not shared
        windows = WindowPages(self, context, run)
        try:
            for window, pages in windows:
                for records in pages:
                    yield self._fit(records)
                if commit and spec.window is not None:
                    self._commit(context, run, window)
            if commit and spec.window is None:
                self._commit(context, run)
            self.schema_tracker.settled()
        finally:
            windows.close()
            self._run = None

    def _fit(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A page stamped with its fetch time, its schema typed if needed, drift handled."""
        self.record_writer.mark_extracted()
        return self.schema_tracker.fit(records)

    def pages(
        self,
        context: Context | None,
        run: IncrementalRun | None,
        window: Window | None,
        *,
        max_pages: int | None = None,
        commit: bool = True,
    ) -> Iterable[list[dict[str, Any]]]:
        """One request sequence: the kept records of each page, until a proven end.

        With ``row_order: asc`` the bookmark is stored after each page once it was written.
        """
        sorted_commit = bool(run and run.spec.row_order == "asc" and run.spec.window is None)
        sorted_commit &= self.replication_method == REPLICATION_INCREMENTAL
        sorted_commit &= run is not self._shared_run and commit
        sequence = PageSequence(self, context, run, window, max_pages=max_pages, chunked=True)
        sampled = 0
        try:
            for step in sequence:
                for kept in step.batches():  # a large page: chunk by chunk
                    yield kept
                    if commit and self.selected:
                        self.stats.written += len(kept)
                    sampled += len(kept)
                    if not commit and step.chunks and sampled >= self.api.sample_records:
                        return  # a sample needs no more of a large page
                if sorted_commit and run is not None:
                    self._commit(context, run)
        finally:
            if commit:
                self.stats.ended(sequence.end)

    # What a PageSequence asks of its stream.

    def _start_sequence(
        self, context: Context | None, run: IncrementalRun | None, window: Window | None
    ) -> Filled:
        """A sequence's placeholder values, window params and included fields."""
        return self.endpoint_requests.start(context, run, window)

    def _request_for(
        self, filled: Filled, paginator: Paginator, token: Any
    ) -> tuple[HTTPRequest, requests.PreparedRequest]:
        """The request for one page token, ready to send."""
        request = self.endpoint_requests.request(filled)
        paginator.apply(request, token)
        return request, self.endpoint_requests.prepare(request, filled)

    def _new_session(self) -> requests.Session:
        """A session for a worker thread, configured like the stream's own."""
        session = requests.Session()
        configure_session(session, self.api)
        return session

    def _kept(
        self,
        run: IncrementalRun | None,
        window: Window | None,
        records: list[dict[str, Any]],
        include: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """A page's records inside the incremental window, with the parent fields included."""
        kept = records
        if run is not None and window is not None:
            keys = run.spec.primary_key or ()
            try:
                kept = [record for record in records if run.admit(record, window, keys)]
            except IncrementalError as exc:
                raise StreamRequestError(f"stream {self.name!r}: {exc}") from None
        if include:
            for record in kept:
                record.update(include)
        return kept

    # Bookmarks and the summary.

    def _commit(
        self, context: Context | None, run: IncrementalRun, window: Window | None = None
    ) -> None:
        """Store the bookmark (never backwards) and write a STATE message."""
        if run.store(self.get_context_state(context), window):
            self.state_manager.is_flushed = False
            self.write_state()

    def finalize_state_progress_markers(self, state: dict[str, Any] | None = None) -> None:
        """At a stream's end: store a bookmark shared by all parents; log the stream's summary."""
        run, self._shared_run = self._shared_run, None
        if run is not None and self.replication_method == REPLICATION_INCREMENTAL:
            self._commit(None, run)
        super().finalize_state_progress_markers(state)
        self.log_summary()

    def log_summary(self, *, failed: bool = False) -> None:
        """Log the stream's summary line once: at its end, or for every selected stream when
        the run failed (also those it stopped before they started)."""
        if not self.stats.reported and (self.stats.pages or (failed and self.selected)):
            self.stats.retries = self.requester.retries
            self.stats.throttled = self.requester.throttled
            self.stats.host = self.shared.limiter.report(self.get_url(None))
            self.stats.schema_changes = self.schema_tracker.changes
            self.stats.bookmark = self.stream_state.get("replication_key_value")
            self.stats.reported = True
            self.logger.info("%s", self.stats.line())
            if self.stats.host:
                self.logger.info("%s", self.stats.host_line())
