"""Auth options: one typed dataclass per auth type, built once when config is resolved."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from helpers import BASE_URL

from tap_restgeneric.config.fields import REQUIRED, Field
from tap_restgeneric.config.resolve import resolve_config
from tap_restgeneric.config.spec import ComponentSpec
from tap_restgeneric.errors import ConfigErrors
from tap_restgeneric.http import auth
from tap_restgeneric.http.auth_options import AuthOptions

# The validator's tables as they were written by hand before the options were typed.
TABLES: dict[str, dict[str, Field]] = {
    "bearer": {"token": Field("string", REQUIRED, nullable=False)},
    "api_key": {
        "name": Field("name", "Authorization", nullable=False),
        "api_key": Field("string", REQUIRED, nullable=False),
        "location": Field("string", "header", False, ("header", "query", "param", "cookie")),
    },
    "http_basic": {
        "username": Field("string", REQUIRED, nullable=False),
        "password": Field("string", "", nullable=False),
    },
    "oauth2_client_credentials": {
        "access_token_url": Field("string", REQUIRED, nullable=False),
        "client_id": Field("string", REQUIRED, nullable=False),
        "client_secret": Field("string", REQUIRED, nullable=False),
        "access_token_request_data": Field("object", {}),
        "default_token_expiration": Field("integer", 3600, nullable=False),
        "access_token": Field("string"),
    },
}
TABLES["basic"] = TABLES["http_basic"]

SECRET_CONFIGS: list[dict[str, Any]] = [
    {"type": "bearer", "token": "s3cret-bearer"},
    {"type": "api_key", "name": "X-Key", "api_key": "s3cret-key"},
    {"type": "basic", "username": "s3cret-user", "password": "s3cret-pass"},
    {
        "type": "oauth2_client_credentials",
        "access_token_url": "https://auth.example.com/token",
        "client_id": "cid",
        "client_secret": "s3cret-client",
        "access_token_request_data": {"assertion": "s3cret-assertion"},
        "access_token": "s3cret-token",
    },
]


def built(raw: dict[str, Any]) -> AuthOptions:
    """The options of one auth config object, checked without errors."""
    errors = ConfigErrors()
    options = auth.AUTHS[raw["type"]].options_from(raw, ("auth",), errors)
    assert errors.lines == []
    return options


def test_every_auth_type_has_a_table() -> None:
    assert sorted(TABLES) == auth.AUTHS.names


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_validator_table_is_derived_from_the_options_dataclass(name: str) -> None:
    cls = auth.AUTHS[name]
    assert cls.fields == TABLES[name]
    assert list(cls.fields) == [f.name for f in dataclasses.fields(cls.options_type)]


@pytest.mark.parametrize("raw", SECRET_CONFIGS, ids=lambda raw: str(raw["type"]))
def test_reprs_never_show_a_secret(raw: dict[str, Any]) -> None:
    options = built(raw)
    spec = ComponentSpec(raw["type"], options)
    for text in (repr(options), str(options), repr(spec)):
        assert "s3cret" not in text, text
    assert type(options).__name__ in repr(options)


def test_the_options_read_as_the_config_gave_them() -> None:
    options = built({"type": "api_key", "api_key": "k"})
    assert isinstance(options, auth.APIKeyOptions)
    assert (options.name, options.api_key, options.location) == ("Authorization", "k", "header")
    assert dict(options) == {"name": "Authorization", "api_key": "k", "location": "header"}
    assert options == {"name": "Authorization", "api_key": "k", "location": "header"}
    with pytest.raises(KeyError):
        options["type"]


def test_resolve_builds_the_options_once() -> None:
    config = {
        "client": {"base_url": BASE_URL, "auth": {"type": "bearer", "token": "t"}},
        "resources": ["a", {"name": "b", "endpoint": {"auth": {"token": "t"}}}],
    }
    first, second = resolve_config(config).resources
    assert first.endpoint.auth is not None and second.endpoint.auth is not None
    assert isinstance(first.endpoint.auth.options, auth.BearerOptions)
    assert first.endpoint.auth.options.token == "t"
    assert first.endpoint.auth == second.endpoint.auth


def test_equal_specs_share_one_authenticator_without_serialising_secrets() -> None:
    oauth = SECRET_CONFIGS[-1]
    one, two = built(oauth), built(dict(oauth))
    assert one is not two and one == two and hash(one) == hash(two)
    authenticators = auth.Authenticators(timeout=5.0, verify="/ca.pem")
    first = authenticators(ComponentSpec("oauth2_client_credentials", one))
    assert authenticators(ComponentSpec("oauth2_client_credentials", two)) is first
    assert isinstance(first, auth.OAuth2ClientCredentials)
    assert (first.timeout, first.verify) == (5.0, "/ca.pem")
    basic = built({"type": "basic", "username": "u"})
    assert authenticators(ComponentSpec("basic", basic)) is not authenticators(
        ComponentSpec("http_basic", basic)
    )
    other = built({**oauth, "client_secret": "another"})
    assert authenticators(ComponentSpec("oauth2_client_credentials", other)) is not first


def test_no_auth_adds_nothing() -> None:
    none = auth.Authenticators()(None)
    assert none.auth_headers == {} and none.auth_params == {}


def test_options_from_reports_problems_with_their_paths() -> None:
    errors = ConfigErrors()
    raw = {"type": "basic", "pasword": 1}
    options = auth.BasicAuth.options_from(raw, ("client", "auth"), errors)
    assert isinstance(options, auth.BasicOptions)
    assert any("missing required key 'username'" in line for line in errors.lines)
    assert any("pasword" in line for line in errors.lines)
