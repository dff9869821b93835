"""Retries: Retry-After, backoff and jitter, error_handler, transient errors, request_timeout."""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import requests_mock
from helpers import BASE_URL, make_tap, record_sleeps, records_of, resource, run, serve
from response_helpers import OK, SINGLE, URL, failure, fetch, get, instant_retries, status

from tap_restgeneric.config.spec import RetrySpec
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import requester, retries
from tap_restgeneric.http.limiter import HostLimiter


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Instant retries without jitter; the waits asked for, in order."""
    return instant_retries(monkeypatch)


def test_429_retry_after_seconds_is_honoured(waits: list[float]) -> None:
    records = fetch(status(429, "slow down", headers={"Retry-After": "7"}), OK)
    assert [r["id"] for r in records] == [1, 2]
    assert waits == [7.0]


def test_429_retry_after_http_date_is_honoured(
    waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1445412450.0  # 30 s before Wed, 21 Oct 2015 07:28:00 GMT
    monkeypatch.setattr(retries, "time", SimpleNamespace(time=lambda: now))
    retry_at = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert fetch(status(429, headers=retry_at), OK) != []
    assert waits == [30.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("2.5", 2.5),
        ("100000", 300.0),
        ("-4", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),  # naive date
        ("soon", 1.0),  # unreadable: the normal backoff
    ],
)
def test_retry_after_values(value: str, expected: float, waits: list[float]) -> None:
    fetch(status(503, headers={"Retry-After": value}), OK)
    assert waits == [expected]


def test_retry_after_capped_by_max_retry_delay(waits: list[float]) -> None:
    handler = {"max_retry_delay": 10}
    fetch(status(429, headers={"Retry-After": "3600"}), OK, error_handler=handler)
    assert waits == [10.0]


def test_5xx_retried_with_exponential_backoff_then_success(
    waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    records = fetch(status(500, "boom"), status(502), status(503), OK)
    assert [r["id"] for r in records] == [1, 2]
    assert waits == [1.0, 2.0, 4.0]
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert retries[0] == (
        f"stream 'items': GET {URL}: status 500 Internal Server Error: boom; retry 1/4 in 1.0 s"
    )
    assert len(retries) == 3


def test_backoff_has_at_most_ten_percent_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "random", SimpleNamespace(random=lambda: 0.999))
    waits = record_sleeps(monkeypatch)
    fetch(status(500), status(500), OK)
    assert waits == [pytest.approx(1.0999), pytest.approx(2.1998)]


def test_exhausted_retries_name_stream_method_redacted_url_and_status(waits: list[float]) -> None:
    client = {
        "auth": {"type": "api_key", "name": "api_key", "api_key": "k-secret", "location": "query"}
    }
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, *[status(503, "maintenance")] * 5)
        run({**SINGLE, "params": {"status": "open"}}, client=client)
    assert str(raised.value) == (
        f"stream 'items': GET {URL}?status=open&api_key=*** failed after 4 retries: "
        "status 503 Service Unavailable: maintenance"
    )
    assert "k-secret" not in str(raised.value)
    assert m.call_count == 5
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_secret_query_value_is_redacted_whatever_the_param_name(waits: list[float]) -> None:
    client = {
        "auth": {"type": "api_key", "name": "appid", "api_key": "k-secret", "location": "query"}
    }
    message = failure(*[status(500)] * 5, client=client)
    assert message.startswith(f"stream 'items': GET {URL}?appid=*** failed after 4 retries")


def test_post_failure_names_the_method(waits: list[float]) -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, status(400, "bad filter"), method="POST")
        run({**SINGLE, "method": "POST", "json": {"q": 1}})
    assert str(raised.value) == (
        f"stream 'items': POST {URL} failed with status 400 Bad Request: bad filter"
    )


def test_error_handler_retry_codes_make_other_5xx_fatal_at_once(waits: list[float]) -> None:
    handler = {"retry_on_status_codes": [429], "max_retries": 3, "backoff_factor": 2}
    message = failure(status(503, "down"), OK, error_handler=handler)
    assert message == f"stream 'items': GET {URL} failed with status 503 Service Unavailable: down"
    assert waits == []


def test_seed_error_handler_retries_429_with_its_backoff(waits: list[float]) -> None:
    handler = {"retry_on_status_codes": [429], "max_retries": 3, "backoff_factor": 2}
    message = failure(*[status(429)] * 4, error_handler=handler)
    assert message == (
        f"stream 'items': GET {URL} failed after 3 retries: status 429 Too Many Requests"
    )
    assert waits == [2.0, 4.0, 8.0]


def test_max_retries_zero_fails_on_the_first_error(waits: list[float]) -> None:
    message = failure(status(500, "x"), OK, error_handler={"max_retries": 0})
    assert message == f"stream 'items': GET {URL} failed: status 500 Internal Server Error: x"
    assert waits == []


def test_most_specific_error_handler_wins(waits: list[float]) -> None:
    tap = make_tap(
        [
            resource("a", **SINGLE),
            resource("b", **SINGLE, error_handler={"max_retries": 1}),
        ],
        client={"error_handler": {"max_retries": 2, "backoff_factor": 0.5}},
    )
    with requests_mock.Mocker() as m:
        serve(m, f"{BASE_URL}/a", *[status(500)] * 3)
        serve(m, f"{BASE_URL}/b", *[status(500)] * 2)
        with pytest.raises(StreamRequestError, match="failed after 2 retries"):
            records_of(tap, "a")
        with pytest.raises(StreamRequestError, match="failed after 1 retries"):
            records_of(tap, "b")
    assert waits == [0.5, 1.0, 1.0]


def test_resource_defaults_error_handler_applies(waits: list[float]) -> None:
    tap = make_tap(
        resource("a", **SINGLE),
        resource_defaults={"endpoint": {"error_handler": {"retry_on_status_codes": [502]}}},
    )
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError, match="status 500"):
        serve(m, f"{BASE_URL}/a", status(500), OK)
        records_of(tap, "a")
    assert waits == []


def test_truncated_json_is_retried(waits: list[float]) -> None:
    records = fetch(status(200, '{"data": [{"id": 1}, {"id"'), OK)
    assert [r["id"] for r in records] == [1, 2]
    assert waits == [1.0]


def test_truncated_json_every_time_fails(waits: list[float]) -> None:
    message = failure(*[status(200, '{"data": [')] * 5)
    assert (
        message
        == f"stream 'items': GET {URL} failed after 4 retries: status 200 but a truncated JSON "
        'body (10 bytes): {"data": ['
    )


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError("connection reset"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("incomplete chunk"),
    ],
)
def test_connection_errors_are_retried(error: Exception, waits: list[float]) -> None:
    records = fetch({"exc": error}, {"exc": error}, OK)
    assert [r["id"] for r in records] == [1, 2]
    assert waits == [1.0, 2.0]


def test_connection_error_exhausted(waits: list[float]) -> None:
    error = requests.exceptions.ConnectionError("Name or service not known")
    message = failure(*[{"exc": error}] * 5)
    assert message == (
        f"stream 'items': GET {URL} failed after 4 retries: "
        "ConnectionError (Name or service not known)"
    )


@pytest.mark.parametrize(("setting", "expected"), [(None, 60.0), (5, 5.0)])
def test_request_timeout(setting: float | None, expected: float) -> None:
    settings: dict[str, Any] = {} if setting is None else {"request_timeout": setting}
    tap = make_tap(resource("items", **SINGLE), **settings)
    with requests_mock.Mocker() as m:
        serve(m, URL, OK)
        records_of(tap, "items")
    assert m.last_request.timeout == expected


def test_a_429_pause_is_sat_out_once_per_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread that slept the Retry-After retries at once; another thread sending to the host
    meanwhile still waits out the pause (threads fetching ahead share one requester)."""
    limiter = HostLimiter(4)
    api = requester.Requester(requests.Session(), "items", RetrySpec(), (), 10.0, limiter=limiter)
    waits: dict[str, list[float]] = {"main": [], "worker": []}

    def sleep(seconds: float) -> None:
        name = "main" if threading.current_thread() is threading.main_thread() else "worker"
        waits[name].append(round(seconds, 1))
        if name == "main" and not waits["worker"]:  # while main sits out the 429
            worker = threading.Thread(target=api.fetch, args=(get(f"{URL}?page=2"),))
            worker.start()
            worker.join()

    monkeypatch.setattr(requester, "sleep", sleep)
    with requests_mock.Mocker() as m:
        serve(m, URL, status(429, headers={"Retry-After": "2"}), OK, OK)
        assert api.fetch(get(f"{URL}?page=1")) is not None
    assert waits == {"main": [2.0], "worker": [2.0]}
    assert (api.retries, round(api.throttled, 1)) == (1, 4.0)
