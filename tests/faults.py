"""A fault-injecting HTTP API for tests (standard library only).

``FaultServer`` serves paged JSON collections on 127.0.0.1 (``/items?page=N``, 10 records a page,
``{"data": [...], "page": N, "total_pages": T, "next": <url or null>}`` plus a ``Link: rel="next"``
header; or ``/items?offset=K&limit=L``, at most 10 records, ``{"data", "offset", "total"}``),
checks credentials (a static Bearer token, OAuth2 client-credentials tokens issued by
``/oauth/token``, an ``api_key`` query param, or none), and injects faults scheduled per request
pattern::

    with FaultServer() as api, FaultServer(auth=None) as other:
        api.inject("/items", page=3, fault="status", status=503, times=2)
        api.inject("/items", page=2, fault="redirect", target=other.url)

Records are ``{"id": i, "updated_at": ..., "name": ...}`` with ids 1..N; two consecutive ids share
an ``updated_at`` (``2024-01-01T00:00:00Z`` + ``i // 2`` hours), so page boundaries fall inside
groups of equal cursors. ``since=<ISO>`` keeps records with ``updated_at >= since``,
``until=<ISO>`` those with ``updated_at < until``.

Every request is logged (``requests``: time, path, query, headers, fault, status), every
injected fault is counted by kind (``fault_counts``), and ``most_in_flight`` is the most
requests the server was answering at once. A second host is a second instance.
"""

from __future__ import annotations

import email.utils
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode

from local_server import LocalHandler, LocalServer, Reply

FAULT_KINDS = frozenset(
    {
        "status",
        "reset_mid_body",
        "slow",
        "truncated_json",
        "html_200",
        "expire_token",
        "redirect",
        "next_link_other_host",
    }
)
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>\n"
    "<body><h1>We'll be back soon</h1><p>The API is under maintenance.</p></body></html>\n"
)


def updated_at(record_id: int, epoch: datetime = EPOCH) -> str:
    """The ``updated_at`` of record ``record_id`` (pairs of ids share one)."""
    return (epoch + timedelta(hours=record_id // 2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_records(path: str, count: int, epoch: datetime = EPOCH) -> list[dict[str, Any]]:
    """The records a collection serves: ids 1..count, ascending ``updated_at`` from ``epoch``."""
    name = path.strip("/").replace("/", "_")
    return [
        {"id": i, "updated_at": updated_at(i, epoch), "name": f"{name}-{i}"}
        for i in range(1, count + 1)
    ]


def _parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass
class Fault:
    """One scheduled fault: fires on the next ``times`` requests matching path (and page)."""

    kind: str
    path: str
    page: int | None = None
    times: int = 1
    status: int = 503
    retry_after: float | None = None
    retry_after_date: bool = False
    delay: float = 2.0
    target: str | None = None
    redirect_status: int = 302
    keep_query: bool = True
    body: str | None = None
    skip: int = 0
    fired: int = 0
    skipped: int = 0

    def matches(self, path: str, page: int) -> bool:
        """Whether this fault still fires for a request to ``path`` at ``page``."""
        if self.fired >= self.times or self.path != path:
            return False
        return self.page is None or self.page == page


@dataclass
class Request:
    """One request as the server saw it (``time`` is the server's monotonic clock)."""

    time: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    fault: str | None = None
    status: int | None = None

    @property
    def page(self) -> int:
        """The requested page (1 without a page param)."""
        return int(self.query.get("page") or 1)


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    """A JSON response."""
    return Reply(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers}
    )


class FaultServer(LocalServer):
    """A paged JSON API with scheduled faults; ``with FaultServer() as s: s.url``."""

    def __init__(
        self,
        datasets: Mapping[str, int] | None = None,
        *,
        page_size: int = 10,
        auth: str | None = "bearer",
        token: str = "static-token-abc",
        api_key: str = "key-secret-xyz",
        client_id: str = "client-1",
        client_secret: str = "client-secret-123",
        expires_in: int = 3600,
        link_base: str | None = None,
        page_delay: float = 0.0,
        epoch: datetime = EPOCH,
    ) -> None:
        if auth not in (None, "bearer", "oauth", "api_key"):
            raise ValueError(f"unknown auth {auth!r}")
        self.datasets = {
            path: make_records(path, n, epoch) for path, n in (datasets or {"/items": 45}).items()
        }
        self.page_size = page_size
        self.auth = auth
        self.token = token
        self.api_key = api_key
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.link_base = link_base
        self.page_delay = page_delay
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.fault_counts: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        self.issued: list[str] = []
        self.valid_tokens: set[str] = set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    # -- scheduling and reading the log ----------------------------------------------------------
    def inject(
        self, path: str, page: int | None = None, *, fault: str, times: int = 1, **options: Any
    ) -> Fault:
        """Schedule ``fault`` for the next ``times`` requests to ``path`` (at ``page``, if given).

        Options: ``status`` and ``body`` (kind ``status``); ``retry_after`` seconds, sent as a
        number or, with ``retry_after_date=True``, as an HTTP date rounded up to the second;
        ``delay`` (``slow``); ``target`` base URL (``redirect``, ``next_link_other_host``),
        ``redirect_status``, ``keep_query``; ``skip``: let that many matching requests through
        first.
        """
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULT_KINDS)}")
        if fault in ("redirect", "next_link_other_host") and not options.get("target"):
            raise ValueError(f"fault {fault!r} needs a target URL")
        scheduled = Fault(fault, path, page, times, **options)
        with self.lock:
            self.faults.append(scheduled)
        return scheduled

    def log(self, path: str | None = None) -> list[Request]:
        """The requests so far (to ``path``, if given), oldest first."""
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def records(self, path: str = "/items") -> list[dict[str, Any]]:
        """The records a collection holds."""
        return list(self.datasets[path])

    def ids(self, path: str = "/items") -> list[int]:
        """The ids a collection holds."""
        return [r["id"] for r in self.datasets[path]]

    @property
    def token_requests(self) -> int:
        """How many OAuth2 tokens were issued."""
        return len(self.issued)

    # -- serving ---------------------------------------------------------------------------------
    def _take_fault(self, path: str, page: int) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(path, page):
                    if fault.skipped < fault.skip:  # let the first ``skip`` matches through
                        fault.skipped += 1
                        continue
                    fault.fired += 1
                    self.fault_counts[fault.kind] += 1
                    return fault
        return None

    def authorized(self, entry: Request) -> bool:
        """Whether the request carries valid credentials for this server's auth."""
        if self.auth is None:
            return True
        if self.auth == "api_key":
            return entry.query.get("api_key") == self.api_key
        presented = entry.headers.get("authorization", "")
        if self.auth == "bearer":
            return presented == f"Bearer {self.token}"
        with self.lock:
            return presented.removeprefix("Bearer ") in self.valid_tokens

    def issue_token(self, form: Mapping[str, str]) -> Reply:
        """``POST /oauth/token`` (client credentials): ``tok-1``, ``tok-2``, …."""
        if form.get("grant_type") != "client_credentials" or (
            form.get("client_id"),
            form.get("client_secret"),
        ) != (self.client_id, self.client_secret):
            return json_reply(401, {"error": "invalid_client"})
        with self.lock:
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
            self.valid_tokens = {token}
        payload = {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
        return json_reply(200, payload, **{"Cache-Control": "no-store"})

    def page_reply(self, entry: Request, next_base: str | None = None) -> Reply:
        """One page of a collection with its next link (to ``next_base`` when given)."""
        records = self.datasets[entry.path]
        since, until = entry.query.get("since"), entry.query.get("until")
        if since:
            start = _parse_instant(since)
            records = [r for r in records if _parse_instant(r["updated_at"]) >= start]
        if until:
            end = _parse_instant(until)
            records = [r for r in records if _parse_instant(r["updated_at"]) < end]
        if "offset" in entry.query:  # offset paging; the server caps ``limit`` at its page size
            offset = int(entry.query["offset"])
            limit = min(int(entry.query.get("limit") or self.page_size), self.page_size)
            window = records[offset : offset + limit]
            return json_reply(200, {"data": window, "offset": offset, "total": len(records)})
        total_pages = max(1, math.ceil(len(records) / self.page_size))
        page = entry.page
        chunk = records[(page - 1) * self.page_size : page * self.page_size]
        payload: dict[str, Any] = {"data": chunk, "page": page, "total_pages": total_pages}
        headers: dict[str, str] = {}
        nxt = None
        if page < total_pages:
            base = next_base or self.link_base or self.url
            nxt = f"{base}{entry.path}?{urlencode({**entry.query, 'page': page + 1})}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        payload["next"] = nxt
        return json_reply(200, payload, **headers)

    def reply(self, entry: Request, form: Mapping[str, str]) -> Reply | Fault:
        """The normal reply to a request, or the fault that replaces it."""
        fault = self._take_fault(entry.path, entry.page)
        if fault is not None:
            entry.fault = fault.kind
            if fault.kind == "status":
                return self._status_reply(fault)
            if fault.kind == "html_200":
                return Reply(200, HTML_PAGE.encode(), {"Content-Type": "text/html; charset=utf-8"})
            if fault.kind == "expire_token":
                with self.lock:
                    self.valid_tokens.clear()
                return json_reply(401, {"error": "invalid_token", "detail": "token expired"})
            if fault.kind == "redirect":
                assert fault.target is not None
                location = fault.target + entry.path
                if fault.keep_query and entry.query:
                    location += "?" + urlencode(entry.query)
                return Reply(fault.redirect_status, b"", {"Location": location})
            if fault.kind in ("reset_mid_body", "slow", "truncated_json"):
                return fault
        if entry.path == "/oauth/token":
            return self.issue_token(form)
        if entry.path not in self.datasets:
            return json_reply(404, {"error": f"no such collection {entry.path}"})
        if self.page_delay:  # credentials are checked once the page is ready
            time.sleep(self.page_delay)
        if not self.authorized(entry):
            presented = entry.headers.get("authorization") or entry.query.get("api_key") or "none"
            return json_reply(401, {"error": "unauthorized", "presented": presented})
        if fault is not None and fault.kind == "next_link_other_host":
            return self.page_reply(entry, fault.target)
        return self.page_reply(entry)

    @staticmethod
    def _status_reply(fault: Fault) -> Reply:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            if fault.retry_after_date:
                at = math.ceil(time.time() + fault.retry_after)
                headers["Retry-After"] = email.utils.formatdate(at, usegmt=True)
            else:
                headers["Retry-After"] = f"{fault.retry_after:g}"
        body = fault.body
        if body is None:
            body = json.dumps({"error": f"injected status {fault.status}"})
        return Reply(fault.status, body.encode(), {"Content-Type": "application/json", **headers})


class _Handler(LocalHandler):
    def do_GET(self) -> None:
        """Any method: log, reply or inject, count."""
        api = self.server.owner
        path, query = self.query()
        raw = self.read_body()
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        entry = Request(
            time.monotonic(),
            self.command,
            path,
            query,
            {name.lower(): value for name, value in self.headers.items()},
        )
        with api.lock:
            api.requests.append(entry)
            api.in_flight += 1
            api.most_in_flight = max(api.most_in_flight, api.in_flight)
        try:
            outcome = api.reply(entry, form)
        except Exception as exc:  # a bug in the server: say so rather than hang the client
            outcome = json_reply(500, {"error": f"fault server bug: {exc!r}"})
        finally:
            with api.lock:
                api.in_flight -= 1
        if isinstance(outcome, Fault):
            self._misbehave(api, entry, outcome)
            return
        entry.status = outcome.status
        with api.lock:
            api.status_counts[outcome.status] += 1
        self.send_reply(outcome)

    do_POST = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET
    do_PATCH = do_GET

    def _misbehave(self, api: FaultServer, entry: Request, fault: Fault) -> None:
        full = api.page_reply(entry)
        try:
            if fault.kind == "truncated_json":
                cut = Reply(200, full.body[: len(full.body) // 2], full.headers)
                entry.status = 200
                self.send_reply(cut)  # an honest Content-Length for a body that is cut
            elif fault.kind == "reset_mid_body":
                entry.status = 200
                self.send_reply(
                    Reply(200, full.body[: len(full.body) // 2], full.headers),
                    length=len(full.body),
                )
                self.reset()
            else:  # slow: answer after the client gave up
                time.sleep(fault.delay)
                entry.status = 200
                self.send_reply(full)
                self.close_connection = True
        except OSError:  # the client hung up first
            self.close_connection = True
        with api.lock:
            api.status_counts[200] += 1


FaultServer.handler = _Handler
