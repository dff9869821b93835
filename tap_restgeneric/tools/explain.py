"""What ``restgeneric preview`` prints: pages, detected config, schema, state, Singer messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import requests

from tap_restgeneric.errors import format_path
from tap_restgeneric.records.schemas import inferred_schema, schema_for
from tap_restgeneric.sync.streams import RestGenericStream
from tap_restgeneric.tap import TapRestGeneric
from tap_restgeneric.tools.common import ToolError, short_json
from tap_restgeneric.tools.pageloop import PageLoop, PageReport

SECRET_HEADER_WORDS = ("auth", "token", "key", "secret", "password", "cookie", "session")
Print = Callable[[str], None]
RECORD_WIDTH = 160


def header_line(name: str, value: str) -> str:
    """``  > Name: value`` with credential headers masked (an auth scheme stays visible)."""
    lowered = name.lower()
    if any(word in lowered for word in SECRET_HEADER_WORDS):
        scheme, sep, _ = value.partition(" ")
        value = f"{scheme} ***" if sep and lowered == "authorization" else "***"
    return f"  > {name}: {value}"


def body_text(request: requests.PreparedRequest) -> str | None:
    """The request body as short JSON (or text), None when there is none."""
    body = request.body
    if not body:
        return None
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return short_json(json.loads(raw), 500)
    except ValueError:
        return raw if len(raw) <= 500 else raw[:499] + "…"


class Preview:
    """Prints a resource's first pages and keeps what the Singer messages need."""

    def __init__(self, stream: RestGenericStream, text: Print, shown: int) -> None:
        self.stream = stream
        self.text = text
        self.shown = shown
        self.records: list[dict[str, Any]] = []
        self.schema: dict[str, Any] = {}
        self.state: dict[str, Any] | None = None

    def show(
        self, tap: TapRestGeneric, state: Mapping[str, Any], pages: int, index: int | None
    ) -> None:
        """Print the header, each page, the detected config, the schema and the state."""
        stream, resource = self.stream, self.stream.resource
        endpoint = resource.endpoint
        self.text(f"resource {resource.name!r} (stream {stream.name!r})")
        auto = "auto (none configured: detected from the first response)"
        self.text(
            f"paginator: {auto if endpoint.paginator.type == 'auto' else endpoint.paginator.type}"
        )
        selector = endpoint.data_selector
        self.text(f"data_selector: {auto if selector is None else repr(selector)}")
        context = self._context(tap, stream)
        bookmarks = (state.get("bookmarks") or {}).get(stream.name) or {}
        loop = PageLoop(stream, context, dict(bookmarks))
        if loop.run is not None:
            spec = loop.run.spec
            self.text(f"incremental: cursor {spec.cursor_path!r}, start {loop.run.raw_start!r}")
        last: PageReport | None = None
        for report in loop.pages(pages):
            self._page(report, pages)
            last = report
        self._detected(loop, index)
        self._show_schema()
        self._state(loop, last)

    def _context(self, tap: TapRestGeneric, stream: RestGenericStream) -> dict[str, Any] | None:
        parent_name = stream.resource.parent
        if parent_name is None:
            return None
        parent = tap.streams[tap.api.stream_names[parent_name]]
        assert isinstance(parent, RestGenericStream)
        parent_context = self._context(tap, parent)
        for report in PageLoop(parent, parent_context).pages(1):
            if report.kept:
                context = parent.child_context(report.kept[0])
                url = report.request.url or ""
                self.text(
                    f"parent {parent_name!r}: {report.request.method} {url} → {report.status}, "
                    f"{len(report.kept)} records; context from the first: {short_json(context)}"
                )
                return context
        msg = f"parent {parent_name!r} gave no records on its first page: nothing to preview"
        raise ToolError(msg)

    def _page(self, report: PageReport, pages: int) -> None:
        request = report.request
        self.text("")
        self.text(f"page {report.number}")
        self.text(f"  {request.method} {request.url}")
        for name, value in request.headers.items():
            self.text(header_line(name, value))
        body = body_text(request)
        if body is not None:
            self.text(f"  body: {body}")
        retries = f" (after {report.retries} retries)" if report.retries else ""
        self.text(f"  < {report.status}{retries}")
        kept = report.kept
        filtered = len(report.records) - len(kept)
        note = f" ({filtered} outside the incremental range)" if filtered else ""
        self.text(f"  records: {len(kept)}{note}")
        for record in kept[: self.shown]:
            self.text(f"    {short_json(record, RECORD_WIDTH)}")
        if len(kept) > self.shown:
            self.text(f"    … {len(kept) - self.shown} more")
        self.records += kept
        if report.stop is not None:
            self.text(f"  stop: {report.stop}")
        elif report.number >= pages:
            self.text(f"  next: {report.next_reason} (not requested: --pages {pages})")
        else:
            self.text(f"  next: {report.next_reason}")

    def _detected(self, loop: PageLoop, index: int | None) -> None:
        snippet: dict[str, Any] = {}
        if loop.detected is not None:
            snippet["paginator"] = loop.detected
        if self.stream.resource.endpoint.data_selector is None and self.stream.selector.path:
            snippet["data_selector"] = self.stream.selector.path
        if snippet:
            where = (
                format_path(("resources", index, "endpoint"))
                if index is not None
                else "the endpoint"
            )
            self.text("")
            self.text(f"detected (paste into {where} to make it explicit):")
            self.text(f"  {json.dumps(snippet)}")
        if loop.detected == {"type": "single_page"} and self.records:
            self.text(
                "  note: nothing in the first response looked like pagination (no next link, "
                "cursor or page count); if the API pages, configure a paginator"
            )

    def _show_schema(self) -> None:
        resource = self.stream.resource
        self.text("")
        if resource.schema_complete:
            self.schema, label = schema_for(resource), "declared"
        elif self.records:
            self.schema = inferred_schema(resource, self.records)
            label = f"inferred from {len(self.records)} records"
        else:
            self.schema = schema_for(resource)
            self.text("schema: no records to infer it from (a run starts permissive)")
            return
        self.text(f"schema ({label}):")
        for name, prop in (self.schema.get("properties") or {}).items():
            self.text(f"  {json.dumps(name)}: {short_json(prop, 300)}")
        if self.schema.get("required"):
            self.text(f"  required: {json.dumps(self.schema['required'])}")

    def _state(self, loop: PageLoop, last: PageReport | None) -> None:
        self.text("")
        if loop.run is None:
            self.text("state: none (the resource is not incremental: no bookmark)")
            return
        bookmark: dict[str, Any] = {}
        if not loop.run.store(bookmark):
            self.text("state: no bookmark (no record inside the incremental range)")
            return
        name = self.stream.name
        if self.stream.state_partitioning_keys and self.stream.resource.parent:
            bookmark = {"partitions": [{"context": loop.context, **bookmark}]}
        self.state = {"bookmarks": {name: bookmark}}
        unfinished = last is not None and last.stop is None and loop.run.spec.row_order != "asc"
        note = (
            " (after these pages; a full run stores it after the last page)" if unfinished else ""
        )
        self.text(f"state{note}: {json.dumps(self.state)}")

    def write_singer(self, write: Print) -> None:
        """SCHEMA, the previewed RECORDs and STATE, as the tap would write them."""
        stream = self.stream
        schema: dict[str, Any] = {"type": "SCHEMA", "stream": stream.name, "schema": self.schema}
        schema["key_properties"] = list(stream.resource.primary_key)
        if stream.replication_key:
            schema["bookmark_properties"] = [stream.replication_key]
        write(json.dumps(schema))
        now = datetime.now(timezone.utc).isoformat()
        for record in self.records:
            message = {"type": "RECORD", "stream": stream.name, "record": record}
            write(json.dumps({**message, "time_extracted": now}, default=str))
        if self.state is not None:
            write(json.dumps({"type": "STATE", "value": self.state}))
