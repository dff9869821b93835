"""Auth: what each dlt auth type sends, token reuse and refresh, and credential scoping."""

from __future__ import annotations

import base64
import itertools
import threading
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import requests_mock
from helpers import (
    BASE_URL,
    make_tap,
    page,
    params,
    records_of,
    resource,
    run,
    sent_params,
    sent_urls,
    serve,
)
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.errors import ConfigErrors, StreamRequestError
from tap_restgeneric.http import auth

URL = f"{BASE_URL}/items"
TOKEN_URL = "https://auth.example.com/oauth/token"


def basic(user: str, password: str) -> str:
    """The expected HTTP Basic header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def one_request(client_auth: Any, **endpoint: Any) -> Any:
    """Run a single_page endpoint with this client auth; return the request that was sent."""
    with requests_mock.Mocker() as m:
        serve(m, URL, page([{"id": 1}]))
        assert run({"paginator": "single_page", **endpoint}, client={"auth": client_auth}) == [
            {"id": 1}
        ]
    [request] = m.request_history
    return request


# --------------------------------------------------------------------------------------------
# what each type sends


@pytest.mark.parametrize(
    ("config", "header", "value"),
    [
        ({"type": "bearer", "token": "tok-123"}, "Authorization", "Bearer tok-123"),
        ({"token": "tok-123"}, "Authorization", "Bearer tok-123"),
        ({"type": "api_key", "api_key": "key-123"}, "Authorization", "key-123"),
        (
            {"type": "api_key", "name": "X-API-Token", "api_key": "key-123", "location": "header"},
            "X-API-Token",
            "key-123",
        ),
        (
            {"type": "api_key", "name": "sid", "api_key": "c00kie", "location": "cookie"},
            "Cookie",
            "sid=c00kie",
        ),
        (
            {"type": "http_basic", "username": "ann", "password": "pw:1"},
            "Authorization",
            basic("ann", "pw:1"),
        ),
        (
            {"type": "http_basic", "username": "ann", "password": ""},
            "Authorization",
            basic("ann", ""),
        ),
        ({"type": "basic", "username": "sk_live_abc"}, "Authorization", basic("sk_live_abc", "")),
        (
            {"type": "basic", "username": "ann", "password": "pw"},
            "Authorization",
            basic("ann", "pw"),
        ),
    ],
    ids=[
        "bearer",
        "bearer without type",
        "api_key default header Authorization, no prefix",
        "api_key custom header",
        "api_key cookie",
        "http_basic",
        "http_basic empty password",
        "basic username only",
        "basic with password",
    ],
)
def test_auth_header(config: dict[str, Any], header: str, value: str) -> None:
    request = one_request(config)
    assert request.headers[header] == value
    assert params(request) == {}


@pytest.mark.parametrize("location", ["query", "param"])
def test_api_key_in_query_on_every_page(location: str) -> None:
    client_auth = {"type": "api_key", "name": "api_key", "api_key": "k-9", "location": location}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": [{"id": 1}], "next": f"{URL}?page=2"}),
            page({"data": [{"id": 2}]}),
        )
        records = run(
            {"paginator": "json_link", "params": {"q": "x"}}, client={"auth": client_auth}
        )
    assert [r["id"] for r in records] == [1, 2]
    assert sent_params(m) == [{"q": "x", "api_key": "k-9"}, {"page": "2", "api_key": "k-9"}]
    assert all("Authorization" not in r.headers for r in m.request_history)


def test_api_key_in_query_replaces_a_key_echoed_in_the_next_link() -> None:
    client_auth = {"type": "api_key", "name": "key", "api_key": "k-9", "location": "query"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": [{"id": 1}], "next": f"{URL}?page=2&key=k-9"}),
            page({"data": [{"id": 2}]}),
        )
        run({"paginator": "json_link"}, client={"auth": client_auth})
    assert sent_params(m) == [{"key": "k-9"}, {"page": "2", "key": "k-9"}]  # no repeated key


def test_api_key_in_query_keeps_the_rest_of_the_url_as_is() -> None:
    """Blank params survive and a next URL is not re-quoted (signed or OData links)."""
    client_auth = {"type": "api_key", "name": "key", "api_key": "k-9", "location": "query"}
    link = f"{URL}?$skiptoken=a%2Fb&empty=&sig=x~y"
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [{"id": 1}], "next": link}), page({"data": []}))
        run({"paginator": "json_link", "params": {"q": ""}}, client={"auth": client_auth})
    assert sent_urls(m) == [f"{URL}?q=&key=k-9", f"{link}&key=k-9"]


def test_without_auth_the_query_is_sent_as_configured() -> None:
    link = f"{URL}?$skiptoken=abc&empty="
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [{"id": 1}], "next": link}), page({"data": []}))
        run({"paginator": "json_link", "params": {"q": ""}})
    assert sent_urls(m) == [f"{URL}?q=", link]


def test_auth_type_as_a_bare_string_reads_fields_from_secrets() -> None:
    tap = make_tap(
        resource("items", paginator="single_page"),
        client={"auth": "bearer"},
        secrets={"token": "s-1"},
    )
    with requests_mock.Mocker() as m:
        serve(m, URL, page([]))
        records_of(tap, "items")
    assert m.last_request.headers["Authorization"] == "Bearer s-1"


def test_secret_reference_from_secrets_setting_and_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENV_API_KEY", "from-env")
    tap = make_tap(
        [
            resource("a", paginator="single_page"),
            resource(
                "b",
                paginator="single_page",
                auth={"type": "api_key", "name": "X-Key", "api_key": {"secret": "env_api_key"}},
            ),
        ],
        client={"auth": {"type": "bearer", "token": {"secret": "my_token"}}},
        secrets={"my_token": "from-secrets"},
    )
    with requests_mock.Mocker() as m:
        serve(m, f"{BASE_URL}/a", page([]))
        serve(m, f"{BASE_URL}/b", page([]))
        records_of(tap, "a")
        records_of(tap, "b")
    first, second = m.request_history
    assert first.headers["Authorization"] == "Bearer from-secrets"
    assert second.headers["X-Key"] == "from-env"
    assert "Authorization" not in second.headers


def test_endpoint_auth_overrides_client_auth() -> None:
    tap = make_tap(
        [
            resource("a", paginator="single_page"),
            resource("b", paginator="single_page", auth={"type": "bearer", "token": "endpoint"}),
        ],
        client={"auth": {"type": "api_key", "name": "X-Key", "api_key": "client-key"}},
    )
    with requests_mock.Mocker() as m:
        serve(m, f"{BASE_URL}/a", page([]))
        serve(m, f"{BASE_URL}/b", page([]))
        records_of(tap, "a")
        records_of(tap, "b")
    first, second = m.request_history
    assert first.headers["X-Key"] == "client-key"
    assert "Authorization" not in first.headers
    assert second.headers["Authorization"] == "Bearer endpoint"
    assert "X-Key" not in second.headers


@pytest.mark.parametrize(
    ("config", "fragment", "where"),
    [
        ({"type": "http_basic", "password": "x"}, "missing required key 'username'", "['auth']"),
        ({"type": "bearer"}, "missing required key 'token'", "['auth']"),
        ({"type": "api_key", "name": "k"}, "missing required key 'api_key'", "['auth']"),
        (
            {"type": "api_key", "api_key": "k", "location": "body"},
            "unknown value 'body'",
            "['auth']['location']",
        ),
        ({"type": "bearer_token", "token": "t"}, "(did you mean 'bearer'?)", "['auth']['type']"),
        (
            {"type": "bearer", "token": "t", "location": "header"},
            "unknown key 'location'",
            "['auth']['location']",
        ),
    ],
)
def test_auth_config_errors(config: dict[str, Any], fragment: str, where: str) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap("items", client={"auth": config})
    assert any(
        fragment in line and line.endswith(f"at config['client']{where}")
        for line in raised.value.errors
    ), raised.value.errors


# --------------------------------------------------------------------------------------------
# oauth2_client_credentials


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Replace the auth module's clock."""
    fake = Clock()
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=fake))
    return fake


OAUTH = {
    "type": "oauth2_client_credentials",
    "access_token_url": TOKEN_URL,
    "client_id": "cid",
    "client_secret": "csecret",
    "access_token_request_data": {"audience": "https://api.example.com", "scope": "read"},
}


def token_posts(m: Any) -> list[Any]:
    """The token requests sent."""
    return [r for r in m.request_history if r.url == TOKEN_URL]


def test_oauth2_token_fetched_once_and_reused_across_pages_and_streams(clock: Clock) -> None:
    tap = make_tap([resource("a", paginator="json_link"), resource("b")], client={"auth": OAUTH})
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={"access_token": "at-1", "expires_in": 3600, "token_type": "bearer"})
        serve(
            m,
            f"{BASE_URL}/a",
            page({"data": [{"id": 1}], "next": f"{BASE_URL}/a?page=2"}),
            page({"data": [{"id": 2}]}),
        )
        serve(m, f"{BASE_URL}/b", page([{"id": 3}]))
        assert [r["id"] for r in records_of(tap, "a")] == [1, 2]
        assert [r["id"] for r in records_of(tap, "b")] == [3]
    [post] = token_posts(m)
    assert post.method == "POST"
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(post.text) == {
        "grant_type": ["client_credentials"],
        "client_id": ["cid"],
        "client_secret": ["csecret"],
        "audience": ["https://api.example.com"],
        "scope": ["read"],
    }
    api_calls = [r for r in m.request_history if r.url != TOKEN_URL]
    assert len(api_calls) == 3
    assert {r.headers["Authorization"] for r in api_calls} == {"Bearer at-1"}


def test_oauth2_token_refreshed_after_expiry(clock: Clock) -> None:
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": OAUTH})
    with requests_mock.Mocker() as m:
        m.post(
            TOKEN_URL,
            [
                {"json": {"access_token": "at-1", "expires_in": 60}},
                {"json": {"access_token": "at-2"}},
            ],
        )
        m.get(URL, json=[])
        records_of(tap, "items")  # t=1000: fetch at-1, valid until 1060
        clock.now += 30
        records_of(tap, "items")  # reused
        clock.now += 31
        records_of(tap, "items")  # expired: fetch at-2 (no expires_in: default 3600 s)
        clock.now += 3000
        records_of(tap, "items")  # still at-2
    assert len(token_posts(m)) == 2
    api = [r.headers["Authorization"] for r in m.request_history if r.url != TOKEN_URL]
    assert api == ["Bearer at-1", "Bearer at-1", "Bearer at-2", "Bearer at-2"]


def test_oauth2_token_endpoint_failure_is_a_clear_error(clock: Clock) -> None:
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": OAUTH})
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        m.post(TOKEN_URL, status_code=401, json={"error": "invalid_client"})
        records_of(tap, "items")
    assert str(raised.value) == (
        f'OAuth2 token request to {TOKEN_URL} failed with status 401: {{"error": "invalid_client"}}'
    )
    assert m.call_count == 1


def test_oauth2_token_response_without_access_token(clock: Clock) -> None:
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": OAUTH})
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        m.post(TOKEN_URL, json={"token": "nope"})
        records_of(tap, "items")
    assert str(raised.value) == f"OAuth2 token response from {TOKEN_URL} has no access_token"


def test_oauth2_token_response_that_is_not_json(clock: Clock) -> None:
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": OAUTH})
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        m.post(TOKEN_URL, text="<html>Sign in</html>")
        records_of(tap, "items")
    assert str(raised.value) == (
        f"OAuth2 token response from {TOKEN_URL} is not JSON: <html>Sign in</html>"
    )


def test_oauth2_odd_expires_in_falls_back_to_default_expiration(clock: Clock) -> None:
    config = {**OAUTH, "default_token_expiration": 100}
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": config})
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={"access_token": "at-1", "expires_in": "soon"})
        m.get(URL, json=[])
        records_of(tap, "items")
        clock.now += 90
        records_of(tap, "items")
        clock.now += 20
        records_of(tap, "items")
    assert len(token_posts(m)) == 2


def test_oauth2_preset_access_token_is_used_first(clock: Clock) -> None:
    config = {**OAUTH, "access_token": "preset", "default_token_expiration": 60}
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": config})
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={"access_token": "fresh"})
        m.get(URL, json=[])
        records_of(tap, "items")
        clock.now += 120
        records_of(tap, "items")
    api = [r.headers["Authorization"] for r in m.request_history if r.url != TOKEN_URL]
    assert api == ["Bearer preset", "Bearer fresh"]


def test_oauth2_short_lived_token_is_reused_across_pages_until_nine_tenths_of_its_life(
    clock: Clock,
) -> None:
    """A 2 s token serves every page of its first 1.8 s: 2 token requests for 10 pages, not 10."""
    pages = 10

    def answer(number: int) -> Any:
        def body(request: Any, context: Any) -> dict[str, Any]:
            clock.now += 0.25  # each page takes a quarter of a second
            following = f"{URL}?page={number + 1}" if number < pages else None
            return {"data": [{"id": number}], "next": following}

        return body

    with requests_mock.Mocker() as m:
        m.post(
            TOKEN_URL,
            [
                {"json": {"access_token": "at-1", "expires_in": 2}},
                {"json": {"access_token": "at-2", "expires_in": 2}},
            ],
        )
        serve(m, URL, *[{"json": answer(n)} for n in range(1, pages + 1)])
        records = run({"paginator": "json_link"}, client={"auth": OAUTH})
    assert [r["id"] for r in records] == list(range(1, pages + 1))
    assert len(token_posts(m)) == 2
    api = [r.headers["Authorization"] for r in m.request_history if r.url != TOKEN_URL]
    # sent at t=0, 0.25 … 1.75 s: at-1; at 2.0 s it is past 1.8 s (2 s minus 10 %): at-2
    assert api == ["Bearer at-1"] * 8 + ["Bearer at-2"] * 2


def test_oauth2_one_second_token_is_reused_until_it_expires_then_refreshed(clock: Clock) -> None:
    tap = make_tap(resource("items", paginator="single_page"), client={"auth": OAUTH})
    with requests_mock.Mocker() as m:
        m.post(
            TOKEN_URL,
            [
                {"json": {"access_token": "at-1", "expires_in": 1}},
                {"json": {"access_token": "at-2", "expires_in": 1}},
            ],
        )
        m.get(URL, json=[])
        records_of(tap, "items")  # t=1000: fetch at-1, replaced from 1000.9
        clock.now += 0.5
        records_of(tap, "items")  # reused
        clock.now += 0.375
        records_of(tap, "items")  # t=1000.875: still reused
        clock.now += 0.125
        records_of(tap, "items")  # t=1001: expired, fetch at-2
        records_of(tap, "items")  # reused
    assert len(token_posts(m)) == 2
    api = [r.headers["Authorization"] for r in m.request_history if r.url != TOKEN_URL]
    assert api == ["Bearer at-1"] * 3 + ["Bearer at-2"] * 2


def test_oauth2_token_lifetime_counts_from_when_the_token_request_was_sent(clock: Clock) -> None:
    """A token endpoint answering in 30 s: a 60 s token is replaced 55 s after the request."""

    def slow_token(number: int) -> Any:
        def body(request: Any, context: Any) -> dict[str, Any]:
            clock.now += 30
            return {"access_token": f"at-{number}", "expires_in": 60}

        return body

    tap = make_tap(resource("items", paginator="single_page"), client={"auth": OAUTH})
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, [{"json": slow_token(1)}, {"json": slow_token(2)}])
        m.get(URL, json=[])
        records_of(tap, "items")  # sent at 1000, answered at 1030: replaced from 1055, not 1085
        clock.now = 1054
        records_of(tap, "items")  # reused
        clock.now = 1056
        records_of(tap, "items")  # 26 s after the answer, but 56 s after the request: at-2
    assert len(token_posts(m)) == 2
    api = [r.headers["Authorization"] for r in m.request_history if r.url != TOKEN_URL]
    assert api == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]


def test_oauth2_threads_share_one_refresh_per_expiry(clock: Clock) -> None:
    """Eight threads needing a token at the moment it expires cause one token request."""
    raw = {**OAUTH, "default_token_expiration": 3600, "access_token": None}
    authenticator = auth.OAuth2ClientCredentials(auth.OAuth2Options.build(raw, (), ConfigErrors()))
    threads = 8
    barrier = threading.Barrier(threads)
    sent: list[str] = []
    issued = itertools.count(1)

    def slow_token(request: Any, context: Any) -> dict[str, Any]:
        time.sleep(0.05)  # a slow token endpoint widens the race
        return {"access_token": f"at-{next(issued)}", "expires_in": 60}

    def call() -> None:
        barrier.wait()
        prepared = requests.Request("GET", URL).prepare()
        sent.append(authenticator.authenticate_request(prepared).headers["Authorization"])

    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json=slow_token)
        for expected in ("Bearer at-1", "Bearer at-2"):
            sent.clear()
            workers = [threading.Thread(target=call) for _ in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert sent == [expected] * threads
            clock.now += 60  # the token expires: the next burst refreshes it, once
    assert len(token_posts(m)) == 2


# --------------------------------------------------------------------------------------------
# credentials stay on the configured host (the rest in test_credentials.py)


def test_oauth2_token_not_sent_to_another_host(clock: Clock) -> None:
    foreign = "https://cdn.example.net/items?page=2"
    with requests_mock.Mocker() as m:
        m.post(TOKEN_URL, json={"access_token": "at-1"})
        serve(m, URL, page({"data": [{"id": 1}], "next": foreign}))
        serve(m, foreign.split("?", maxsplit=1)[0], page({"data": [{"id": 2}]}))
        run({"paginator": "json_link"}, client={"auth": OAUTH})
    api = [r for r in m.request_history if r.url != TOKEN_URL]
    assert [r.headers.get("Authorization") for r in api] == ["Bearer at-1", None]
