"""Response fates: the fatal error messages (status, HTML, invalid JSON) and response_actions."""

from __future__ import annotations

import logging

import pytest
import requests_mock
from helpers import make_tap, page, resource, run, serve
from response_helpers import OK, URL, failure, fetch, instant_retries, status
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.errors import StreamRequestError


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Instant retries without jitter; the waits asked for, in order."""
    return instant_retries(monkeypatch)


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
