"""Credentials go only to configured origins (http/credentials.py): links, hosts, secret headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
import requests_mock
from helpers import BASE_URL, make_tap, page, records_of, resource, run, sent_urls, serve

URL = f"{BASE_URL}/items"


CREDENTIALS = [
    ({"type": "bearer", "token": "tok-123"}, "Authorization", None),
    ({"type": "api_key", "name": "X-API-Key", "api_key": "key-123"}, "X-API-Key", None),
    (
        {"type": "api_key", "name": "api_key", "api_key": "key-123", "location": "query"},
        None,
        "api_key",
    ),
    ({"type": "basic", "username": "ann", "password": "pw"}, "Authorization", None),
    ({"type": "api_key", "name": "sid", "api_key": "c00kie", "location": "cookie"}, "Cookie", None),
]
CREDENTIAL_IDS = ["bearer", "api_key header", "api_key query", "basic", "api_key cookie"]


def has_credentials(request: Any, header: str | None, param: str | None) -> bool:
    """Whether a recorded request carries the configured credential."""
    if header is not None:
        return header in request.headers
    return param in parse_qs(request.query)


@pytest.mark.parametrize(("config", "header", "param"), CREDENTIALS, ids=CREDENTIAL_IDS)
@pytest.mark.parametrize(
    "foreign",
    [
        "https://cdn.example.net/items?page=2",
        "http://api.example.com/items?page=2",
        "https://api.example.com:8443/items?page=2",
        "https://api.example.com.evil.net/items?page=2",
    ],
    ids=["other host", "other scheme", "other port", "lookalike host"],
)
def test_json_link_to_another_origin_gets_no_credentials(
    config: dict[str, Any], header: str | None, param: str | None, foreign: str
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [{"id": 1}], "next": foreign}), page({"data": [{"id": 3}]}))
        serve(
            m,
            foreign.split("?", maxsplit=1)[0],
            page({"data": [{"id": 2}], "next": f"{URL}?page=3"}),
        )
        records = run({"paginator": "json_link"}, client={"auth": config})
    assert [r["id"] for r in records] == [1, 2, 3]
    assert sent_urls(m)[1] == foreign
    assert [has_credentials(r, header, param) for r in m.request_history] == [True, False, True]


@pytest.mark.parametrize(("config", "header", "param"), CREDENTIALS, ids=CREDENTIAL_IDS)
def test_header_link_to_another_host_gets_no_credentials(
    config: dict[str, Any], header: str | None, param: str | None
) -> None:
    foreign = "https://cdn.example.net/items?page=2"
    with requests_mock.Mocker() as m:
        serve(m, URL, page([{"id": 1}], headers={"Link": f'<{foreign}>; rel="next"'}))
        serve(m, foreign.split("?", maxsplit=1)[0], page([{"id": 2}]))
        records = run({"paginator": "header_link"}, client={"auth": config})
    assert [r["id"] for r in records] == [1, 2]
    assert [has_credentials(r, header, param) for r in m.request_history] == [True, False]


def test_endpoint_on_another_host_than_base_url_gets_its_credentials() -> None:
    """An absolute endpoint path is a configured origin, so it is trusted."""
    other = "https://files.example.org/v2/list"
    with requests_mock.Mocker() as m:
        serve(m, other, page([{"id": 1}]))
        run({"path": other, "paginator": "single_page"}, client={"auth": {"token": "t-1"}})
    assert m.last_request.headers["Authorization"] == "Bearer t-1"


def test_secret_header_not_sent_to_another_host() -> None:
    foreign = "https://cdn.example.net/items?page=2"
    tap = make_tap(
        resource("items", paginator="json_link"),
        client={"headers": {"X-Api-Token": {"secret": "api_token"}}},
        secrets={"api_token": "s3cr3t-token"},
    )
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [{"id": 1}], "next": foreign}))
        serve(m, foreign.split("?", maxsplit=1)[0], page({"data": [{"id": 2}]}))
        records_of(tap, "items")
    assert [r.headers.get("X-Api-Token") for r in m.request_history] == ["s3cr3t-token", None]
