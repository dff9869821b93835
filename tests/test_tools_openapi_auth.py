"""``import-openapi``'s auth from several security schemes (issue 16): requirement objects listed
as alternatives (OR'ed) give the first one the config can express; the schemes of one
requirement object (AND'ed) give one ``auth`` plus client headers and query parameters on every
request for the other api keys, each a ``{"secret": ...}`` reference listed in the report. A run
with the imported config sends every credential."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests_mock
from helpers import sync
from large_api import Api, Reply
from test_tools_openapi import ITEM, get, imported, openapi, query

from tap_restgeneric.tools.__main__ import main
from tap_restgeneric.tools.openapi.auth import secret_name
from tap_restgeneric.tools.openapi.report import Report

HEADER_KEY = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
QUERY_KEY = {"type": "apiKey", "in": "query", "name": "api_key"}
COOKIE_KEY = {"type": "apiKey", "in": "cookie", "name": "session"}
BEARER = {"type": "http", "scheme": "bearer"}
BASIC = {"type": "http", "scheme": "basic"}
MTLS = {"type": "mutualTLS"}
ITEMS = {"/items": get({"type": "array", "items": ITEM})}


def document(schemes: dict[str, Any], security: list[dict[str, Any]], **paths: Any) -> Any:
    """A one-list document with these schemes and global requirement objects."""
    return openapi(paths or ITEMS, components={"securitySchemes": schemes}, security=security)


def auth_line(report: Report) -> str:
    """The report's ``auth:`` line."""
    return next(line for line in report.lines() if line.startswith("auth: "))


def secrets_line(report: Report) -> str:
    """The report's ``secrets to set:`` line."""
    return next(line for line in report.lines() if line.startswith("secrets to set: "))


def test_anded_api_keys_header_and_query(tmp_path: Path) -> None:
    """Header key AND query key (one requirement object): the first as ``auth``, the second as
    a query parameter of every resource (``resource_defaults``), both secrets listed."""
    doc = document(
        {"ApiKeyHeader": HEADER_KEY, "ApiKeyQuery": QUERY_KEY},
        [{"ApiKeyHeader": [], "ApiKeyQuery": []}],
    )
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"] == {
        "type": "api_key",
        "name": "X-API-Key",
        "api_key": {"secret": "api_key"},
        "location": "header",
    }
    assert "headers" not in config["client"]
    assert config["resource_defaults"] == {
        "endpoint": {"params": {"api_key": {"secret": "api_key_query"}}}
    }
    assert report.auth.secrets == ["api_key", "api_key_query"]
    assert secrets_line(report).startswith("secrets to set: api_key, api_key_query (")
    assert (
        "required together: 'ApiKeyHeader' as auth, 'ApiKeyQuery' as query parameter 'api_key' "
        "on every request (resource_defaults.endpoint.params; secret 'api_key_query')"
    ) in auth_line(report)
    with requests_mock.Mocker() as mock:
        mock.get("https://api.example.com/v1/items", json=[{"id": 1}])
        sync({**config, "secrets": {"api_key": "h-secret", "api_key_query": "q-secret"}})
        sent = mock.request_history[0]
    assert sent.headers["X-API-Key"] == "h-secret"
    assert sent.qs == {"api_key": ["q-secret"]}


def test_anded_bearer_and_header_key(tmp_path: Path) -> None:
    """Bearer AND an api key header: bearer is the auth (only it can be), the key a client
    header; the run sends both."""
    doc = document({"key": HEADER_KEY, "jwt": BEARER}, [{"key": [], "jwt": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"] == {"type": "bearer", "token": {"secret": "token"}}
    assert config["client"]["headers"] == {"X-API-Key": {"secret": "key"}}
    assert "resource_defaults" not in config
    assert report.auth.secrets == ["token", "key"]
    assert "'jwt' as auth, 'key' as client header 'X-API-Key' (secret 'key')" in auth_line(report)
    with requests_mock.Mocker() as mock:
        mock.get("https://api.example.com/v1/items", json=[{"id": 1}])
        sync({**config, "secrets": {"token": "t0k", "key": "k3y"}})
        sent = mock.request_history[0]
    assert sent.headers["Authorization"] == "Bearer t0k"
    assert sent.headers["X-API-Key"] == "k3y"


def test_anded_cookie_key_takes_the_auth(tmp_path: Path) -> None:
    """A cookie key can only be the ``auth``; the header key beside it is a client header."""
    doc = document({"h": HEADER_KEY, "c": COOKIE_KEY}, [{"h": [], "c": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"]["location"] == "cookie"
    assert config["client"]["headers"] == {"X-API-Key": {"secret": "h"}}
    assert report.auth.secrets == ["api_key", "h"]


def test_alternatives_first_expressible_wins(tmp_path: Path) -> None:
    """mutual TLS OR an api key: mutual TLS cannot be sent, so the api key; the report says
    why the first was passed over."""
    doc = document({"mtls": MTLS, "key": QUERY_KEY}, [{"mtls": []}, {"key": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"]["type"] == "api_key"
    assert report.auth.secrets == ["api_key"]
    assert "mtls not used: 'mtls' is of a type the tap cannot send" in auth_line(report)
    assert "other schemes declared, not used: mtls" in auth_line(report)


def test_alternatives_in_document_order(tmp_path: Path) -> None:
    """Bearer OR (header key AND query key): both expressible, the first listed is used."""
    schemes = {"jwt": BEARER, "h": HEADER_KEY, "q": QUERY_KEY}
    doc = document(schemes, [{"jwt": []}, {"h": [], "q": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"] == {
        "base_url": "https://api.example.com/v1",
        "auth": {"type": "bearer", "token": {"secret": "token"}},
    }
    assert report.auth.secrets == ["token"]
    assert "other schemes declared, not used: h, q" in auth_line(report)


@pytest.mark.parametrize(
    ("schemes", "why"),
    [
        ({"a": BEARER, "b": BASIC}, "'a' and 'b' both need the one auth"),
        (
            {"a": HEADER_KEY, "b": {**HEADER_KEY, "name": "x-api-key"}},
            "'b' sends header 'x-api-key' that another scheme sends too",
        ),
        (
            {"a": BEARER, "b": {**HEADER_KEY, "name": "Authorization"}},
            "'b' sends header 'Authorization' that another scheme sends too",
        ),
    ],
    ids=["bearer-and-basic", "same-header-twice", "key-in-authorization-beside-bearer"],
)
def test_anded_schemes_the_config_cannot_say_fall_to_the_next(
    tmp_path: Path, schemes: dict[str, Any], why: str
) -> None:
    """(a AND b) OR a query key: a and b cannot both be sent, so the query key."""
    doc = document({**schemes, "q": QUERY_KEY}, [{"a": [], "b": []}, {"q": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"]["name"] == "api_key"
    assert f"a and b not used: {why}" in auth_line(report)


def test_no_alternative_expressible_keeps_the_first_scheme(tmp_path: Path) -> None:
    """Bearer AND basic, nothing else: the first scheme, with the reason in the report."""
    doc = document({"a": BEARER, "b": BASIC}, [{"a": [], "b": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"]["type"] == "bearer"
    assert report.auth.secrets == ["token"]
    line = auth_line(report)
    assert "no requirement the config can express (a and b not used: 'a' and 'b'" in line
    assert "other schemes declared, not used: b" in line


def test_an_operation_requirement_and_its_declared_key_parameter(tmp_path: Path) -> None:
    """No global ``security``; the operation's own requirement (an empty alternative: auth
    optional) is read, and the operation's required ``api_key`` query parameter, which the
    config sends on every request, does not make it skipped."""
    paths = {"/items": get({"type": "array", "items": ITEM}, query("api_key", "string"))}
    paths["/items"]["get"]["parameters"][0]["required"] = True
    paths["/items"]["get"]["security"] = [{}, {"h": [], "q": []}]
    doc = openapi(paths, components={"securitySchemes": {"h": HEADER_KEY, "q": QUERY_KEY}})
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"]["name"] == "X-API-Key"
    assert config["resource_defaults"]["endpoint"]["params"] == {"api_key": {"secret": "q"}}
    assert [r["name"] for r in config["resources"]] == ["items"]
    assert "params" not in config["resources"][0]["endpoint"]
    assert report.auth.secrets == ["api_key", "q"]


def test_secret_names() -> None:
    assert secret_name("ApiKeyQuery", []) == "api_key_query"
    assert secret_name("api-key", ["api_key"]) == "api_key_2"
    assert secret_name("2fa", []) == "key_2fa"
    assert secret_name("---", []) == "key"


def test_anded_oauth2_flows_are_one_token(tmp_path: Path) -> None:
    """Two OAuth2 schemes in one requirement (Google's ``Oauth2`` + ``Oauth2c``: implicit and
    authorization code) are one access token: a bearer ``token``, not a conflict."""
    implicit = {"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://a"}}}
    code = {
        "type": "oauth2",
        "flows": {"authorizationCode": {"authorizationUrl": "https://a", "tokenUrl": "https://t"}},
    }
    doc = document({"Oauth2": implicit, "Oauth2c": code}, [{"Oauth2": [], "Oauth2c": []}])
    config, report = imported(tmp_path, doc)
    assert config["client"]["auth"] == {"type": "bearer", "token": {"secret": "token"}}
    assert report.auth.secrets == ["token"]
    line = auth_line(report)
    assert "required together: 'Oauth2' and 'Oauth2c', one access token with their scopes" in line
    assert "not used" not in line


def test_check_sends_every_anded_credential(tmp_path: Path) -> None:
    """``--check`` with two query keys required together (the auth's and one under
    ``resource_defaults``), their secrets from ``--settings``: the API answers only when both
    come; the resource is ok, and the config written keeps the references, not the values."""

    def keyed(got: dict[str, str]) -> Reply:
        if got.get("key") != "k1" or got.get("app") != "a2":
            return 401, {"Content-Type": "application/json"}, b'{"error": "no key"}', False
        return 200, {"Content-Type": "application/json"}, b'[{"id": 1}]', False

    with Api(routes={"/items": keyed}) as api:
        schemes = {"key": QUERY_KEY | {"name": "key"}, "App": QUERY_KEY | {"name": "app"}}
        doc = document(schemes, [{"key": [], "App": []}]) | {"servers": [{"url": api.url}]}
        path, out, settings = tmp_path / "d.json", tmp_path / "c.json", tmp_path / "s.json"
        path.write_text(json.dumps(doc))
        settings.write_text(json.dumps({"secrets": {"api_key": "k1", "app": "a2"}}))
        args = ["import-openapi", str(path), "--check", "-o", str(out), "--settings"]
        assert main([*args, str(settings)]) == 0
        assert all("key=k1" in hit and "app=a2" in hit for hit in api.hits), api.hits
    config = json.loads(out.read_text())
    assert config["resource_defaults"] == {"endpoint": {"params": {"app": {"secret": "app"}}}}
    assert "k1" not in out.read_text() and "a2" not in out.read_text()
