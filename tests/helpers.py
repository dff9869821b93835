"""Shared test helpers: build a tap from a small config, serve pages, read what was sent."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_restgeneric.http import requester
from tap_restgeneric.sync.sequence import UnprovenEnd
from tap_restgeneric.sync.streams import RestGenericStream
from tap_restgeneric.tap import TapRestGeneric

BASE_URL = "https://api.example.com"
Record = dict[str, Any]
Message = dict[str, Any]
ResourceConfig = str | dict[str, Any]


class UnexpectedRequestError(AssertionError):
    """Raised by a fake endpoint asked for more pages than the test served."""


def make_tap(
    resources: ResourceConfig | list[ResourceConfig],
    client: Mapping[str, Any] | None = None,
    **settings: Any,
) -> TapRestGeneric:
    """A tap whose client points at ``BASE_URL`` (overridable) with the given resources."""
    config: dict[str, Any] = {
        "client": {"base_url": BASE_URL, **(client or {})},
        "resources": resources if isinstance(resources, list) else [resources],
        **settings,
    }
    return TapRestGeneric(config=config, parse_env_config=False)


def resource(name: str, path: str | None = None, **endpoint: Any) -> dict[str, Any]:
    """A resource dict ``{"name": name, "endpoint": {"path": path or name, **endpoint}}``."""
    return {"name": name, "endpoint": {"path": path or name, **endpoint}}


def records_of(tap: TapRestGeneric, name: str) -> list[Record]:
    """Every record the stream's page loop yields (run inside a requests_mock.Mocker)."""
    stream = tap.streams[name]
    assert isinstance(stream, RestGenericStream)
    return list(stream.request_records(None))


def run(
    endpoint: Mapping[str, Any], client: Mapping[str, Any] | None = None, name: str = "items"
) -> list[Record]:
    """Build a one-resource tap (path = name) and return its records."""
    return records_of(make_tap(resource(name, **endpoint), client), name)


def run_to_failure(
    endpoint: Mapping[str, Any], client: Mapping[str, Any] | None = None, name: str = "items"
) -> tuple[list[Record], str]:
    """Like ``run`` for a stream that must end unproven: the records before, and the line."""
    stream = make_tap(resource(name, **endpoint), client).streams[name]
    assert isinstance(stream, RestGenericStream)
    records: list[Record] = []
    try:
        records.extend(stream.request_records(None))
    except UnprovenEnd as exc:
        return records, str(exc)
    msg = f"the stream ended as proven after {len(records)} records"
    raise AssertionError(msg)


def ids(records: list[Record], key: str = "id") -> list[Any]:
    """The ``key`` of each record, in order."""
    return [record[key] for record in records]


def page(body: Any = None, **response: Any) -> dict[str, Any]:
    """requests-mock response kwargs for one JSON page (``body`` None: no JSON)."""
    return response if body is None else {"json": body, **response}


def serve(mocker: Any, url: str, *responses: dict[str, Any], method: str = "GET") -> Any:
    """Serve ``responses`` in order at ``url`` (any query); one request more fails the test."""
    guard = {"exc": UnexpectedRequestError(f"more requests to {url} than the test served")}
    return mocker.register_uri(method, url, [*responses, guard])


def query(request: Any) -> dict[str, list[str]]:
    """The query string of a recorded request, parsed (blank values kept)."""
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def params(request: Any) -> dict[str, str]:
    """The query of a recorded request as single values (fails on a repeated name)."""
    parsed = query(request)
    repeated = [name for name, values in parsed.items() if len(values) != 1]
    assert not repeated, f"repeated query params {repeated} in {request.url}"
    return {name: values[0] for name, values in parsed.items()}


def sent_params(mocker: Any) -> list[dict[str, str]]:
    """The query of every request sent, in order."""
    return [params(request) for request in mocker.request_history]


def sent_urls(mocker: Any) -> list[str]:
    """The full URL of every request sent, in order."""
    return [request.url for request in mocker.request_history]


def sent_json(mocker: Any) -> list[Any]:
    """The JSON body of every request sent, in order (None for no body)."""
    return [
        json.loads(request.body) if request.body else None for request in mocker.request_history
    ]


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make retry waits instant; return the list the requested waits are appended to."""
    waits: list[float] = []
    monkeypatch.setattr(requester, "sleep", waits.append)
    return waits


def sync_tap(
    tap: TapRestGeneric,
    into: list[Message] | None = None,
    output: Callable[[str], None] | None = None,
) -> list[Message]:
    """Run ``sync_all`` in-process; the Singer messages written (also on failure, via ``into``).

    ``output`` receives the raw text written, also on failure.
    """
    messages = [] if into is None else into
    written = io.BytesIO()
    out = io.TextIOWrapper(written, encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out):
            tap.sync_all()
    finally:
        out.flush()
        text = written.getvalue().decode()
        messages.extend(json.loads(line) for line in text.splitlines() if line.strip())
        if output is not None:
            output(text)
    return messages


def sync(
    cfg: dict[str, Any],
    state: dict[str, Any] | None = None,
    *,
    catalog: dict[str, Any] | None = None,
    into: list[Message] | None = None,
) -> list[Message]:
    """Build a tap from ``cfg`` (and state, catalog) and ``sync_tap`` it."""
    tap = TapRestGeneric(
        config=cfg, state=copy.deepcopy(state), catalog=catalog, parse_env_config=False
    )
    return sync_tap(tap, into)


# --------------------------------------------------------------------------------------------
# reading what a run wrote: its Singer messages

DAY = "2024-01-{:02d}T00:00:00Z"


def day(n: int) -> str:
    """``2024-01-<n>T00:00:00Z``."""
    return DAY.format(n)


def records(messages: list[Message], stream: str | None = None) -> list[Record]:
    """The records written (for one stream, or for every stream), in order."""
    return [
        m["record"]
        for m in messages
        if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
    ]


def states(messages: list[Message]) -> list[dict[str, Any]]:
    """The value of every STATE message."""
    return [m["value"] for m in messages if m["type"] == "STATE"]


def last_state(messages: list[Message]) -> dict[str, Any]:
    """The value of the last STATE message (what a runner stores)."""
    found = states(messages)
    assert found, "no STATE message"
    return found[-1]


def bookmark(messages: list[Message], stream: str = "items") -> dict[str, Any]:
    """The stream's entry in the last STATE."""
    value: dict[str, Any] = last_state(messages)["bookmarks"][stream]
    return value
