"""Retries, Retry-After, error_handler, response_actions and the fatal error messages."""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import requests_mock
from helpers import BASE_URL, make_tap, page, record_sleeps, records_of, resource, run, serve
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.spec import RetrySpec
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import requester, retries
from tap_restgeneric.http.limiter import HostLimiter

URL = f"{BASE_URL}/items"
OK = page({"data": [{"id": 1}, {"id": 2}]})
SINGLE = {"paginator": "single_page", "data_selector": "data"}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Instant retries without jitter; the waits asked for, in order."""
    monkeypatch.setattr(retries, "random", SimpleNamespace(random=lambda: 0.0))
    return record_sleeps(monkeypatch)


def status(code: int, text: str = "", **response: Any) -> dict[str, Any]:
    """requests-mock kwargs for a response with this status, its reason phrase and body text."""
    return {"status_code": code, "reason": HTTPStatus(code).phrase, "text": text, **response}


def fetch(*responses: dict[str, Any], **endpoint: Any) -> list[dict[str, Any]]:
    """Serve ``responses`` at URL and run a single-page endpoint; return its records."""
    client = endpoint.pop("client", None)
    with requests_mock.Mocker() as m:
        serve(m, URL, *responses)
        return run({**SINGLE, **endpoint}, client=client)


def failure(*responses: dict[str, Any], **endpoint: Any) -> str:
    """The StreamRequestError message of a run that must fail."""
    with pytest.raises(StreamRequestError) as raised:
        fetch(*responses, **endpoint)
    return str(raised.value)


# --------------------------------------------------------------------------------------------
# retries


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


# --------------------------------------------------------------------------------------------
# fatal responses


@pytest.mark.parametrize(
    ("code", "reason"), [(401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found")]
)
def test_4xx_is_fatal_at_once_with_a_body_excerpt(
    code: int, reason: str, waits: list[float]
) -> None:
    message = failure(status(code, '{"error": "nope",\n  "hint": "check"}'), OK)
    assert message == (
        f"stream 'items': GET {URL} failed with status {code} {reason}: "
        '{"error": "nope", "hint": "check"}'
    )
    assert waits == []


def test_401_body_excerpt_is_short_and_redacted(waits: list[float]) -> None:
    body = "invalid token tok-abcdef " + "x" * 1000
    message = failure(status(401, body), client={"auth": {"type": "bearer", "token": "tok-abcdef"}})
    assert message.startswith(f"stream 'items': GET {URL} failed with status 401 Unauthorized: ")
    assert "invalid token *** xxx" in message
    assert "tok-abcdef" not in message
    assert message.endswith("x…")
    assert len(message) < 400


def test_html_page_with_status_200_is_fatal(waits: list[float]) -> None:
    html = "<!DOCTYPE html>\n<html><body>Please log in</body></html>"
    message = failure(status(200, html, headers={"Content-Type": "text/html"}))
    assert message == (
        f"stream 'items': GET {URL} failed with status 200 but an HTML page where JSON was "
        "expected: <!DOCTYPE html> <html><body>Please log in</body></html>"
    )
    assert waits == []


def test_html_page_labelled_json_is_still_reported_as_html(waits: list[float]) -> None:
    message = failure(
        status(200, "<html>oops</html>", headers={"Content-Type": "application/json"})
    )
    assert "an HTML page where JSON was expected" in message


def test_utf8_bom_before_json_is_accepted() -> None:
    records = fetch({"content": b'\xef\xbb\xbf{"data": [{"id": 1}]}'})
    assert records == [{"id": 1}]


def test_invalid_json_is_fatal(waits: list[float]) -> None:
    message = failure(status(200, "id,name\n1,a\n"))
    assert message.startswith(
        f"stream 'items': GET {URL} failed with status 200 but invalid JSON ("
    )
    assert waits == []


def test_status_without_reason_phrase(waits: list[float]) -> None:
    """HTTP/2 responses carry no reason phrase."""
    message = failure({"status_code": 404, "text": "gone"})
    assert message == f"stream 'items': GET {URL} failed with status 404: gone"


def test_errors_on_a_later_page_keep_the_page_url(waits: list[float]) -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page({"data": [{"id": 1}], "next": f"{URL}?page=2"}), status(404, "gone"))
        run({"paginator": "json_link", "data_selector": "data"})
    assert (
        str(raised.value)
        == f"stream 'items': GET {URL}?page=2 failed with status 404 Not Found: gone"
    )


# --------------------------------------------------------------------------------------------
# response_actions


def test_ignore_by_status_code_yields_nothing_and_no_error(
    waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    actions = [{"status_code": 404, "action": "ignore"}]
    assert fetch(status(404, "no such thing"), response_actions=actions) == []
    assert f"stream 'items': GET {URL}: status 404 Not Found ignored by response_actions" in (
        caplog.text
    )


def test_ignore_by_content(waits: list[float]) -> None:
    actions = [{"content": "Not found", "action": "ignore"}]
    assert fetch(status(400, '{"message": "Not found"}'), response_actions=actions) == []


def test_ignore_by_content_on_a_200(waits: list[float]) -> None:
    actions = [{"content": "no results", "action": "ignore"}]
    assert (
        fetch(
            status(200, '{"message": "no results", "data": [{"id": 1}]}'), response_actions=actions
        )
        == []
    )


def test_ignore_needs_both_status_and_content_to_match(waits: list[float]) -> None:
    actions = [{"status_code": 404, "content": "Not found", "action": "ignore"}]
    message = failure(status(404, "missing route"), response_actions=actions)
    assert message.endswith("failed with status 404 Not Found: missing route")


def test_ignore_on_a_later_page_keeps_earlier_pages(waits: list[float]) -> None:
    actions = [{"status_code": 404, "action": "ignore"}]
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [{"id": 1}], "next": f"{URL}?page=2"}), status(404))
        records = run({"paginator": "json_link", "response_actions": actions})
    assert [r["id"] for r in records] == [1]
    assert m.call_count == 2


def test_ignore_429_prevents_its_retry(waits: list[float]) -> None:
    actions = [{"status_code": 429, "action": "ignore"}]
    assert fetch(status(429), OK, response_actions=actions) == []
    assert waits == []


def test_unmatched_actions_leave_the_default_policy(waits: list[float]) -> None:
    actions = [{"status_code": 404, "action": "ignore"}]
    assert [r["id"] for r in fetch(status(500), OK, response_actions=actions)] == [1, 2]
    assert waits == [1.0]


def test_retry_action(waits: list[float]) -> None:
    actions = [{"content": "still processing", "action": "retry"}]
    records = fetch(
        status(200, '{"status": "still processing"}', headers={"Retry-After": "3"}),
        status(200, '{"status": "still processing"}'),
        OK,
        response_actions=actions,
    )
    assert [r["id"] for r in records] == [1, 2]
    assert waits == [3.0, 1.0]


def test_retry_action_exhausted(waits: list[float]) -> None:
    actions = [{"status_code": 409, "action": "retry"}]
    message = failure(*[status(409, "locked")] * 5, response_actions=actions)
    assert message == (
        f"stream 'items': GET {URL} failed after 4 retries: "
        "status 409 Conflict (response_actions: retry)"
    )


def test_fail_action(waits: list[float]) -> None:
    actions = [{"content": '"error"', "action": "fail"}]
    message = failure(status(200, '{"error": "quota exceeded"}'), OK, response_actions=actions)
    assert message == (
        f"stream 'items': GET {URL} failed with status 200 OK (response_actions: fail): "
        '{"error": "quota exceeded"}'
    )
    assert waits == []


def test_first_matching_action_wins(waits: list[float]) -> None:
    actions = [
        {"status_code": 503, "content": "planned", "action": "ignore"},
        {"status_code": 503, "action": "fail"},
    ]
    assert fetch(status(503, "planned maintenance"), response_actions=actions) == []
    message = failure(status(503, "outage"), response_actions=actions)
    assert "(response_actions: fail)" in message


def test_unknown_action_is_a_config_error() -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", response_actions=[{"status_code": 404, "action": "ignor"}]))
    [line] = raised.value.errors
    assert "unknown value 'ignor' (did you mean 'ignore'?)" in line
    assert line.endswith("at config['resources'][0]['endpoint']['response_actions'][0]['action']")


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


def get(url: str) -> requests.PreparedRequest:
    """A prepared GET."""
    return requests.Request("GET", url).prepare()
