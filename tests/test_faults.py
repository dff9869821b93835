"""Fault injection end to end: every fault is retried or reported as designed, nothing is lost.

The tap runs as a user runs it (``python -m tap_restgeneric.tap``) against ``faults.FaultServer``;
the shared-limiter and fuzz tests run it in-process with ``requester.sleep`` replaced. Every test
updates ``reliability.FIGURES`` before asserting; the figures are written to
``build/reliability.json`` and printed at the end of the session.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import re
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cli
import helpers
import pytest
from cli import Run, run_tap
from faults import FaultServer, Request
from reliability import FIGURES

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import requester
from tap_restgeneric.http.prefetch import SLOW_RESPONSE
from tap_restgeneric.tap import TapRestGeneric

pytest_plugins = ["reliability"]

TOKEN = "static-token-abc"
API_KEY = "key-secret-xyz"
CLIENT_ID = "client-1"
CLIENT_SECRET = "client-secret-123"
SECRETS = (TOKEN, API_KEY, CLIENT_SECRET)
FAST = {"backoff_factor": 0.01, "max_retries": 4}
TIMEOUT = 0.5
START = "2024-01-01T00:00:00Z"
Start = Callable[..., FaultServer]


# --------------------------------------------------------------------------------------------
# Figures


@pytest.fixture(scope="session", autouse=True)
def reliability_figures() -> Iterator[None]:
    """Write build/reliability.json once the fault tests are done."""
    yield
    FIGURES.write()


@pytest.fixture
def servers() -> Iterator[Start]:
    """Start FaultServers for one test; their fault counts go into the figures."""
    started: list[FaultServer] = []
    with contextlib.ExitStack() as stack:

        def start(datasets: dict[str, int] | None = None, **options: Any) -> FaultServer:
            server = stack.enter_context(FaultServer(datasets, **options))
            started.append(server)
            return server

        yield start
    for server in started:
        FIGURES.absorb(server)


# --------------------------------------------------------------------------------------------
# Configs


def auth_config(server: FaultServer, kind: str | None) -> dict[str, Any] | None:
    """The tap's auth for a server's auth kind."""
    if kind == "bearer":
        return {"type": "bearer", "token": TOKEN}
    if kind == "api_key":
        return {"type": "api_key", "name": "api_key", "api_key": API_KEY, "location": "query"}
    if kind == "oauth":
        return {
            "type": "oauth2_client_credentials",
            "access_token_url": f"{server.url}/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    return None


PAGINATORS: dict[str, dict[str, Any]] = {
    "json_link": {"type": "json_link", "next_url_path": "next"},
    "header_link": {"type": "header_link"},
    "page_number": {"type": "page_number", "base_page": 1, "total_path": "total_pages"},
}


def resource(
    name: str = "items",
    path: str = "/items",
    *,
    incremental: bool = True,
    paginator: str = "json_link",
    **endpoint: Any,
) -> dict[str, Any]:
    """A paged resource; incremental ones bookmark per page (``row_order: asc``)."""
    spec: dict[str, Any] = {
        "path": path,
        "data_selector": "data",
        "paginator": PAGINATORS[paginator],
        **endpoint,
    }
    if incremental:
        spec["incremental"] = {
            "cursor_path": "updated_at",
            "start_param": "since",
            "initial_value": START,
            "row_order": "asc",
        }
    return {"name": name, "primary_key": "id", "endpoint": spec}


def config(
    server: FaultServer, *resources: dict[str, Any], auth: str | None = "bearer"
) -> dict[str, Any]:
    """A config for ``server`` with fast retries and a short request timeout."""
    client: dict[str, Any] = {"base_url": server.url}
    if (spec := auth_config(server, auth)) is not None:
        client["auth"] = spec
    return {
        "client": client,
        "request_timeout": TIMEOUT,
        "resource_defaults": {"endpoint": {"error_handler": dict(FAST)}},
        "resources": list(resources) or [resource()],
    }


# --------------------------------------------------------------------------------------------
# Running and checking


def tap(cfg: dict[str, Any], tmp_path: Path, *servers: FaultServer, state: Any = None) -> Run:
    """Run the tap's CLI; scan its output for tracebacks and secrets (issued tokens too)."""
    run = run_tap(cfg, tmp_path, state=state)
    issued = [token for server in servers for token in server.issued]
    FIGURES.output(run.stdout, run.stderr, secrets=[*SECRETS, *issued])
    if state is not None:
        FIGURES.resumed_runs += 1
    return run


def exactly_once(
    run: Run, server: FaultServer, stream: str = "items", path: str = "/items"
) -> None:
    """Exit 0 and every record of the collection written exactly once."""
    written = run.ids(stream)
    lost, dups, _ = FIGURES.account(server.ids(path), written)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert not lost, f"lost {sorted(lost)}"
    assert not dups, f"written twice: {sorted(dups)}"
    assert written == server.ids(path)


def credentials_leaked(request: Request) -> list[str]:
    """What of our credentials a request to a foreign host carried."""
    found = [f"header {name}" for name in ("authorization", "cookie") if name in request.headers]
    if "api_key" in request.query:
        found.append("query param api_key")
    values = [*request.headers.values(), *request.query.values()]
    found += [f"a value holding {s[:3]}…" for s in SECRETS if any(s in v for v in values)]
    found += [f"token {v}" for v in values if re.search(r"\btok-\d+\b", v)]
    return found


def assert_no_credentials(other: FaultServer) -> None:
    """The foreign host was asked, and never received any credential."""
    log = other.log()
    for request in log:
        for what in credentials_leaked(request):
            FIGURES.leak(f"{what} sent to another host ({request.path}?{request.query})")
    assert log, "the other host was never asked"
    assert not [credentials_leaked(r) for r in log if credentials_leaked(r)]


def error_lines(run: Run, stream: str = "items") -> list[str]:
    """Lines of stderr reporting a failed request of ``stream``."""
    return [line for line in run.stderr.splitlines() if f"stream '{stream}': " in line]


def expect_clean_failure(run: Run, pattern: str, stream: str = "items") -> str:
    """Exit 1, no traceback, exactly one ERROR line for the failed request matching pattern."""
    FIGURES.failed_runs_reported += run.returncode == 1
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    failed = [line for line in error_lines(run, stream) if " failed" in line]
    assert len(failed) == 1, run.stderr[-3000:]
    line = failed[0]
    assert "| ERROR" in line, line
    message = line.split(" | ")[-1]
    assert re.fullmatch(pattern, message), message
    assert len(message) < 600, message
    return message


def last_state(run: Run) -> dict[str, Any]:
    """The last STATE the run wrote, checked to be a JSON object that survives a round trip."""
    assert run.states, "the run wrote no STATE"
    state = run.states[-1]
    assert isinstance(state, dict)
    assert json.loads(json.dumps(state)) == state
    return state


def boundary_ids(server: FaultServer, state: dict[str, Any] | None, stream: str) -> set[int]:
    """Ids whose cursor equals the bookmark: the only ones allowed to be written twice."""
    if not state:
        return set()
    bookmark = state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")
    return {r["id"] for r in server.records(f"/{stream}") if r["updated_at"] == bookmark}


def resumed_loses_nothing(
    first: Run, resumed: Run, server: FaultServer, state: dict[str, Any] | None, stream: str
) -> None:
    """The first run's records plus the resumed run's: all of them, no duplicates."""
    written = first.ids(stream) + resumed.ids(stream)
    boundary = boundary_ids(server, state, stream)
    lost, dups, _ = FIGURES.account(server.ids(f"/{stream}"), written, boundary=boundary)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not lost, f"lost {sorted(lost)}"
    assert not dups, f"duplicates beyond the bookmark boundary: {sorted(dups)}"


def sync(cfg: dict[str, Any], state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run ``sync_all`` in-process; return the Singer messages written (also when it fails)."""
    tap = TapRestGeneric(config=cfg, state=copy.deepcopy(state), parse_env_config=False)
    return helpers.sync_tap(tap, output=lambda text: FIGURES.output(text, secrets=SECRETS))


def ids_of(messages: list[dict[str, Any]], stream: str) -> list[Any]:
    """The ids of a stream's RECORD messages."""
    return [m["record"]["id"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def states_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The values of the STATE messages."""
    return [m["value"] for m in messages if m["type"] == "STATE"]


def page_requests(server: FaultServer, page: int, path: str = "/items") -> list[Request]:
    """The requests for one page of a collection."""
    return [r for r in server.log(path) if r.page == page]


# --------------------------------------------------------------------------------------------
# Recoverable faults: exit 0, every record exactly once


URL = r"http://127\.0\.0\.1:\d+"


@pytest.mark.parametrize(
    ("kind", "options", "times"),
    [
        ("status", {"status": 503}, 4),  # as many as max_retries: the last attempt succeeds
        ("reset_mid_body", {}, 2),
        ("truncated_json", {}, 2),
        ("slow", {"delay": 1.0}, 1),
    ],
    ids=["503x4", "reset_mid_body", "truncated_json", "slow"],
)
def test_recoverable_fault_is_retried(
    servers: Start, tmp_path: Path, kind: str, options: dict[str, Any], times: int
) -> None:
    """A burst within the retry budget: retried, every record exactly once."""
    api = servers()
    api.inject("/items", page=3, fault=kind, times=times, **options)
    run = tap(config(api), tmp_path, api)
    exactly_once(run, api)
    assert len(page_requests(api, 3)) == times + 1
    assert [r.fault for r in page_requests(api, 3)] == [kind] * times + [None]


def test_five_hundreds_in_one_run(servers: Start, tmp_path: Path) -> None:
    """500, 502, 503 and 504 bursts on consecutive pages of one run."""
    api = servers({"/items": 55})
    for page, status in enumerate((500, 502, 503, 504), start=2):
        api.inject("/items", page=page, fault="status", status=status, times=page - 1)
    run = tap(config(api), tmp_path, api)
    exactly_once(run, api)
    assert api.fault_counts["status"] == 1 + 2 + 3 + 4


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http_date"])
def test_retry_after_is_honoured(servers: Start, tmp_path: Path, as_date: bool) -> None:
    """429 with Retry-After (seconds, or an HTTP date rounded up): the retry waits that long."""
    api = servers()
    api.inject(
        "/items", page=2, fault="status", status=429, retry_after=1, retry_after_date=as_date
    )
    run = tap(config(api), tmp_path, api)
    exactly_once(run, api)
    throttled, retried = page_requests(api, 2)
    assert throttled.status == 429
    assert retried.status == 200
    waited = retried.time - throttled.time
    assert 0.8 <= waited <= (3.5 if as_date else 2.5), waited  # backoff alone would be ~0.01 s


def test_oauth_token_expired_mid_run_is_refreshed_once(servers: Start, tmp_path: Path) -> None:
    """A 401 after the token expired: one new token, the same request again, nothing lost."""
    api = servers(auth="oauth")
    api.inject("/items", page=3, fault="expire_token")
    run = tap(config(api, auth="oauth"), tmp_path, api)
    exactly_once(run, api)
    assert api.issued == ["tok-1", "tok-2"]
    rejected, retried = page_requests(api, 3)
    assert rejected.headers["authorization"] == "Bearer tok-1"
    assert rejected.status == 401
    assert retried.headers["authorization"] == "Bearer tok-2"
    assert retried.status == 200
    assert [r.headers["authorization"] for r in api.log("/items")][-1] == "Bearer tok-2"


def test_token_expiry_with_requests_in_flight_costs_one_token(servers: Start) -> None:
    """max_concurrency 4: the pages in flight when the token expires all get 401; one new token
    serves them all (no request invalidates the token another one just fetched)."""
    api = servers({"/items": 95}, auth="oauth", page_delay=0.15)
    api.inject("/items", page=6, fault="expire_token")
    cfg = config(api, resource(paginator="page_number"), auth="oauth")
    cfg["max_concurrency"] = 4
    messages = sync(cfg)
    FIGURES.account(api.ids(), ids_of(messages, "items"))
    assert ids_of(messages, "items") == api.ids()
    assert api.issued == ["tok-1", "tok-2"]
    assert len({r.page for r in api.log("/items") if r.status == 401}) >= 1


def test_token_endpoint_hiccup_is_retried(servers: Start, tmp_path: Path) -> None:
    """The token endpoint answers 503 once while a token is refreshed: retried, not fatal."""
    api = servers(auth="oauth")
    api.inject("/items", page=2, fault="expire_token")
    api.inject("/oauth/token", fault="status", status=503, skip=1)
    run = tap(config(api, auth="oauth"), tmp_path, api)
    exactly_once(run, api)
    assert [r.status for r in api.log("/oauth/token")] == [200, 503, 200]
    assert api.issued == ["tok-1", "tok-2"]


# --------------------------------------------------------------------------------------------
# Credentials never follow to another host


@pytest.mark.parametrize(("auth", "status"), [("bearer", 302), ("api_key", 307)])
def test_redirect_to_another_host_gets_no_credentials(
    servers: Start, tmp_path: Path, auth: str, status: int
) -> None:
    """Page 2 redirects to another host (query kept); it serves the page without credentials."""
    api = servers(auth=auth)
    other = servers(auth=None, link_base=api.url)  # its next link leads back to the API
    api.inject("/items", page=2, fault="redirect", target=other.url, redirect_status=status)
    run = tap(config(api, auth=auth), tmp_path, api)
    exactly_once(run, api)
    assert_no_credentials(other)
    assert [r.page for r in other.log()] == [2]
    assert all(api.authorized(r) for r in api.log("/items") if r.fault is None)


@pytest.mark.parametrize("auth", ["api_key", "oauth"])
def test_next_link_to_another_host_gets_no_credentials(
    servers: Start, tmp_path: Path, auth: str
) -> None:
    """Page 2's next link points to another host: it is followed without credentials."""
    api = servers(auth=auth)
    other = servers(auth=None, link_base=api.url)
    api.inject("/items", page=2, fault="next_link_other_host", target=other.url)
    run = tap(config(api, auth=auth), tmp_path, api)
    exactly_once(run, api)
    assert_no_credentials(other)
    assert [r.page for r in other.log()] == [3]


# --------------------------------------------------------------------------------------------
# Unrecoverable faults: exit 1 with one clear line; the last STATE resumes with nothing lost

FAILED = rf"stream 'items': GET {URL}/items\?\S*page=3\S* failed"
UNRECOVERABLE = [
    pytest.param(
        "bearer",
        "status",
        {"status": 503, "body": json.dumps({"error": "overloaded", "token": TOKEN})},
        5,
        FAILED + r" after 4 retries: status 503 Service Unavailable: "
        r'\{"error": "overloaded", "token": "\*\*\*"\}',
        id="503_burst_longer_than_retries",
    ),
    pytest.param(
        "bearer",
        "html_200",
        {},
        1,
        FAILED + r" with status 200 but an HTML page where JSON was expected: <!DOCTYPE html>.*",
        id="html_200",
    ),
    pytest.param(
        "bearer",
        "truncated_json",
        {},
        5,
        FAILED + r" after 4 retries: status 200 but a truncated JSON body \(\d+ bytes\): .*",
        id="truncated_json_every_time",
    ),
    pytest.param(
        "bearer",
        "reset_mid_body",
        {},
        5,
        FAILED + r" after 4 retries: ChunkedEncodingError .*reset.*",
        id="reset_every_time",
    ),
    pytest.param(
        "bearer",
        "slow",
        {"delay": 0.8},
        5,
        FAILED + r" after 4 retries: (ReadTimeout|ConnectionError) .*timed out.*",
        id="slow_every_time",
    ),
    pytest.param(
        "oauth",
        "status",
        {"status": 401, "body": json.dumps({"error": "invalid_token"})},
        2,
        FAILED + r' with status 401 Unauthorized: \{"error": "invalid_token"\}',
        id="401_persists_after_refresh",
    ),
    pytest.param(
        "api_key",
        "status",
        {"status": 403, "body": f"<p>key {API_KEY} is not allowed here</p>"},
        1,
        r"stream 'items': GET " + URL + r"/items\?\S*api_key=\*\*\*\S* failed with status 403 "
        r"Forbidden: <p>key \*\*\* is not allowed here</p>",
        id="403_api_key_redacted",
    ),
]


@pytest.mark.parametrize(("auth", "kind", "options", "times", "pattern"), UNRECOVERABLE)
def test_unrecoverable_fault_fails_cleanly_and_state_resumes(
    servers: Start,
    tmp_path: Path,
    auth: str,
    kind: str,
    options: dict[str, Any],
    times: int,
    pattern: str,
) -> None:
    """Exit 1, one clear line, no traceback; the last STATE resumes and nothing is lost."""
    api = servers(auth=auth)
    api.inject("/items", page=3, fault=kind, times=times, **options)
    cfg = config(api, auth=auth)
    failed = tap(cfg, tmp_path, api)
    expect_clean_failure(failed, pattern)
    assert failed.ids("items") == list(range(1, 21))  # pages 1 and 2
    state = last_state(failed)
    assert state["bookmarks"]["items"]["replication_key_value"] == "2024-01-01T10:00:00Z"
    if auth == "oauth":
        assert api.issued == ["tok-1", "tok-2"]  # refreshed once, then it gave up
    resumed = tap(cfg, tmp_path, api, state=state)
    resumed_loses_nothing(failed, resumed, api, state, "items")
    assert resumed.ids("items")[0] == 21
    assert page_requests(api, 1)[-1].query["since"] == "2024-01-01T10:00:00Z"


def test_failure_on_the_first_page_resumes_from_the_start(servers: Start, tmp_path: Path) -> None:
    """No STATE before the failure (or only the initial one): the rerun gets everything."""
    api = servers()
    api.inject("/items", page=1, fault="status", status=500, times=5)
    cfg = config(api)
    failed = tap(cfg, tmp_path, api)
    message = expect_clean_failure(
        failed, rf"stream 'items': GET {URL}/items\?since=\S+ failed after 4 retries: status 500.*"
    )
    assert "injected status 500" in message
    state = failed.states[-1] if failed.states else None
    resumed = tap(cfg, tmp_path, api, state=state)
    resumed_loses_nothing(failed, resumed, api, state, "items")


def test_a_failed_run_logs_a_single_error_line(servers: Start, tmp_path: Path) -> None:
    """The failing request is the only ERROR line on stderr."""
    api = servers()
    api.inject("/items", page=2, fault="status", status=502, times=5)
    run = tap(config(api), tmp_path, api)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, errors


def test_truncated_json_failure_names_status_and_excerpt(
    servers: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line for a body truncated on every retry has the status and a body excerpt."""
    monkeypatch.setattr(requester, "sleep", lambda _: None)
    api = servers()
    api.inject("/items", page=3, fault="truncated_json", times=5)
    with pytest.raises(StreamRequestError) as failure:
        sync(config(api))
    FIGURES.failed_runs_reported += 1
    assert re.fullmatch(
        FAILED + r" after 4 retries: status 200.*: \{\"data\": \[.*", str(failure.value)
    )


def test_a_redirect_loop_fails_cleanly(servers: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page that redirects to itself forever: a clear error, not a hang or a traceback."""
    monkeypatch.setattr(requester, "sleep", lambda _: None)
    api = servers()
    api.inject("/items", page=2, fault="redirect", target=api.url, times=100)
    with pytest.raises(StreamRequestError) as failure:
        sync(config(api))
    FIGURES.failed_runs_reported += 1
    assert re.fullmatch(
        rf"stream 'items': GET {URL}/items\?\S*page=2\S* failed: more than 10 redirects",
        str(failure.value),
    )
    assert len(page_requests(api, 2)) == 11


# --------------------------------------------------------------------------------------------
# The per-host limiter


def test_a_429_pauses_every_stream_of_that_host(
    servers: Start, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After a 429 on one stream, the next stream's first request to that host waits it out.

    Streams sync one after another (max_concurrency 1), so ``sleep`` is replaced by a recorder:
    the throttled stream retries at once, and the pause left for the host shows on the next
    stream of that host (not on a stream of another host).
    """
    api = servers({"/items": 25, "/orders": 15})
    other = servers({"/jobs": 15}, auth=None)
    api.inject("/items", page=3, fault="status", status=429, retry_after=1)
    pauses: list[tuple[float, int, int]] = []
    monkeypatch.setattr(
        requester,
        "sleep",
        lambda s: pauses.append((s, len(api.log("/orders")), len(other.log("/jobs")))),
    )
    jobs = resource("jobs", f"{other.url}/jobs", incremental=False)  # streams sync by name
    cfg = config(api, resource(), jobs, resource("orders", "/orders", incremental=False))
    messages = sync({**cfg, "max_concurrency": 1})
    FIGURES.scan(caplog.text, secrets=SECRETS)
    for stream, path in (("items", "/items"), ("jobs", "/jobs"), ("orders", "/orders")):
        server = other if stream == "jobs" else api
        FIGURES.account(server.ids(path), ids_of(messages, stream))
        assert ids_of(messages, stream) == server.ids(path)
    retry, *rest = pauses
    assert retry == (1.0, 0, 0)  # the throttled stream waits Retry-After
    assert rest, pauses
    pause, orders_seen, remote_seen = rest[0]
    assert 0.5 < pause <= 1.0
    assert (orders_seen, remote_seen) == (0, 2)  # before the first /orders request
    assert all(seen == 2 for _, _, seen in rest)  # the other host's stream was not paused


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_429_holds_the_host_for_every_stream(
    servers: Start, tmp_path: Path, concurrency: int
) -> None:
    """Server clock: after a 429 nothing new reaches the host during Retry-After.

    One at a time, the next request comes after the pause. Side by side, only what was already
    on the wire when the 429 came back (at most ``max_concurrency`` requests) arrives within it.
    """
    api = servers({"/items": 25, "/orders": 15})
    api.inject("/items", page=3, fault="status", status=429, retry_after=1)
    orders = resource("orders", "/orders", incremental=False)
    run = tap({**config(api, resource(), orders), "max_concurrency": concurrency}, tmp_path, api)
    exactly_once(run, api)
    exactly_once(run, api, "orders", "/orders")
    log = api.log()
    throttled = next(i for i, r in enumerate(log) if r.status == 429)
    after = log[throttled + 1 :]
    early = [r for r in after if r.time - log[throttled].time < 0.9]
    assert len(early) <= (0 if concurrency == 1 else concurrency)
    assert len(after) > len(early)
    if concurrency == 1:
        assert any(r.path == "/orders" for r in after)


# --------------------------------------------------------------------------------------------
# Mixed faults, SIGKILL and resume


def test_mixed_recoverable_faults_two_streams(servers: Start, tmp_path: Path) -> None:
    """Several kinds at once over two streams (OAuth2): every record exactly once."""
    api = servers({"/items": 75, "/orders": 33}, auth="oauth")
    other = servers({"/items": 75, "/orders": 33}, auth=None, link_base=api.url)
    api.inject("/items", page=1, fault="status", status=429, retry_after=0.2)
    api.inject("/items", page=2, fault="reset_mid_body")
    api.inject("/items", page=3, fault="truncated_json", times=2)
    api.inject("/items", page=4, fault="status", status=502)
    api.inject("/items", page=4, fault="status", status=504)
    api.inject("/items", page=5, fault="expire_token")
    api.inject("/items", page=5, fault="status", status=503, times=2)
    api.inject("/items", page=6, fault="next_link_other_host", target=other.url)
    api.inject("/orders", page=1, fault="slow", delay=1.0)
    api.inject("/orders", page=2, fault="redirect", target=other.url)
    api.inject("/orders", page=3, fault="status", status=500, times=3)
    api.inject("/orders", page=4, fault="truncated_json")
    orders = resource("orders", "/orders", incremental=False, paginator="page_number")
    run = tap(config(api, resource(), orders, auth="oauth"), tmp_path, api)
    exactly_once(run, api)
    exactly_once(run, api, "orders", "/orders")
    assert_no_credentials(other)
    # in either order: both streams share the host's adaptive level, which starts at one
    assert sorted((r.path, r.page) for r in other.log()) == [("/items", 7), ("/orders", 2)]
    assert api.issued == ["tok-1", "tok-2"]
    assert sum(f.fired for f in api.faults) == sum(f.times for f in api.faults)


def kill_after_states(cfg: dict[str, Any], tmp_path: Path, states: int) -> Run:
    """Start the tap (``python -u``), SIGKILL it after ``states`` STATE messages."""
    run = cli.kill_after_states(cfg, tmp_path, states)
    FIGURES.output(run.stdout, run.stderr, secrets=SECRETS)
    return run


def test_sigkill_mid_run_then_resume_loses_nothing(servers: Start, tmp_path: Path) -> None:
    """Killed after the 2nd STATE (faults under way), resumed from it: nothing lost or doubled."""
    api = servers({"/items": 65}, page_delay=0.1)
    api.inject("/items", page=2, fault="status", status=503, times=2)
    api.inject("/items", page=4, fault="reset_mid_body")
    api.inject("/items", page=5, fault="truncated_json")
    cfg = config(api)
    killed = kill_after_states(cfg, tmp_path, states=2)
    assert killed.returncode == -signal.SIGKILL
    assert 0 < len(killed.ids("items")) < 65
    state = last_state(killed)
    resumed = tap(cfg, tmp_path, api, state=state)
    resumed_loses_nothing(killed, resumed, api, state, "items")
    written = killed.ids("items") + resumed.ids("items")
    assert sorted(written) == api.ids()


# --------------------------------------------------------------------------------------------
# Fuzz: random configs under random fault mixes, in-process


FUZZ_CASES = 40
RETRYABLE = ("status", "reset_mid_body", "truncated_json", "slow")


def fuzz_case(
    rng: random.Random, api: FaultServer, other: FaultServer, spec: dict[str, Any]
) -> None:
    """Schedule a random recoverable fault mix (and maybe one fatal burst) on ``api``."""
    budget: Counter[tuple[str, int]] = Counter()
    expired: set[tuple[str, int]] = set()
    slow_used = False
    for _ in range(rng.randint(1, 7)):
        path = rng.choice(list(spec["datasets"]))
        pages = max(1, -(-spec["datasets"][path] // spec["page_size"]))
        page = rng.randint(1, pages)
        kinds = [*RETRYABLE, "redirect"]
        if spec["auth"] == "oauth":
            kinds.append("expire_token")
        if spec["paginator"] != "page_number" and page < pages:
            kinds.append("next_link_other_host")
        kind = rng.choice(kinds)
        if kind == "slow" and slow_used:
            kind = "status"
        if kind in RETRYABLE:
            times = min(rng.randint(1, 3), 4 - budget[path, page])
            if times <= 0:
                continue
            budget[path, page] += times
            options: dict[str, Any] = {}
            if kind == "status":
                options["status"] = rng.choice([429, 500, 502, 503, 504])
                if options["status"] == 429 and rng.random() < 0.5:
                    options["retry_after"] = 0.1
            elif kind == "slow":
                options["delay"] = 1.0
                times, slow_used = 1, True
            api.inject(path, page, fault=kind, times=times, **options)
        elif kind == "expire_token":
            if (path, page) not in expired:
                expired.add((path, page))
                api.inject(path, page, fault=kind)
        else:
            api.inject(path, page, fault=kind, target=other.url)
    if spec["fatal"]:
        path = next(iter(spec["datasets"]))
        pages = max(1, -(-spec["datasets"][path] // spec["page_size"]))
        page = rng.randint(1, pages)
        api.faults = [f for f in api.faults if (f.path, f.page) != (path, page)]
        api.inject(path, page, fault="status", status=503, times=5)


def random_spec(rng: random.Random) -> dict[str, Any]:
    """A random config shape: auth, paginator, incremental or not, sizes, streams."""
    datasets = {"/items": rng.choice([0, 1, 9, 10, 11, 37, 60])}
    if rng.random() < 0.5:
        datasets["/orders"] = rng.choice([3, 20, 41])
    incremental = rng.random() < 0.6
    paginator = rng.choice(["json_link", "header_link", "page_number", "page_number"])
    return {
        "auth": rng.choice(["bearer", "api_key", "oauth"]),
        "paginator": paginator,
        "incremental": incremental,
        "page_size": rng.choice([5, 10, 25]),
        # 4: streams side by side; page_number pages fetched ahead once a response is slow
        "max_concurrency": rng.choice([1, 4]),
        "page_delay": rng.choice([0.0, 2 * SLOW_RESPONSE]),
        "datasets": datasets,
        "fatal": incremental and rng.random() < 0.35,
    }


@pytest.mark.parametrize("seed", range(FUZZ_CASES))
def test_fuzz_fault_mixes(
    seed: int, servers: Start, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Random config x random recoverable faults: each record exactly once per run; a fatal
    burst fails the run with a StreamRequestError and its last STATE resumes losing nothing."""
    monkeypatch.setattr(requester, "sleep", lambda _: None)
    rng = random.Random(seed)
    spec = random_spec(rng)
    FIGURES.configs_fuzzed += 1
    api = servers(
        spec["datasets"],
        auth=spec["auth"],
        page_size=spec["page_size"],
        page_delay=spec["page_delay"],
    )
    other = servers(spec["datasets"], auth=None, page_size=spec["page_size"], link_base=api.url)
    fuzz_case(rng, api, other, spec)
    streams = [
        resource(p.strip("/"), p, incremental=spec["incremental"], paginator=spec["paginator"])
        for p in spec["datasets"]
    ]
    cfg = config(api, *streams, auth=spec["auth"])
    cfg["max_concurrency"] = spec["max_concurrency"]
    messages: list[dict[str, Any]] = []
    failed = False
    try:
        messages = sync(cfg)
    except StreamRequestError as exc:
        failed = True
        assert spec["fatal"], f"recoverable faults failed the run: {exc}"
        FIGURES.failed_runs_reported += 1
    if failed:
        first, messages = messages, []
        state = states_of(first)[-1] if states_of(first) else None
        try:
            second = sync(cfg, state)
        finally:
            FIGURES.resumed_runs += 1
        for path in spec["datasets"]:
            stream = path.strip("/")
            boundary = boundary_ids(api, state, stream)
            written = ids_of(first, stream) + ids_of(second, stream)
            lost, dups, _ = FIGURES.account(api.ids(path), written, boundary=boundary)
            assert not lost, (spec, stream, sorted(lost))
            assert not dups, (spec, stream, sorted(dups))
    else:
        for path in spec["datasets"]:
            stream = path.strip("/")
            lost, dups, _ = FIGURES.account(api.ids(path), ids_of(messages, stream))
            assert not lost, (spec, stream, sorted(lost))
            assert not dups, (spec, stream, sorted(dups))
            assert ids_of(messages, stream) == api.ids(path)
    FIGURES.scan(caplog.text, secrets=[*SECRETS, *api.issued])
    assert "Traceback" not in caplog.text
    if other.log():
        assert_no_credentials(other)


# --------------------------------------------------------------------------------------------
# The figures


def test_zz_figures_show_nothing_lost() -> None:
    """Last: the suite's figures show 0 records lost, 0 tracebacks, 0 leaks."""
    figures = FIGURES.write()
    assert figures["records_lost"] == 0, figures
    assert figures["duplicates"] == 0, figures
    assert figures["tracebacks"] == 0, figures
    assert figures["leaks"] == 0, figures["leak_details"]
