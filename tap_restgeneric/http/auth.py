"""Authenticators, one small class per dlt auth type, registered by type name in ``AUTHS``."""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_restgeneric.config.fields import REQUIRED, Field
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import requester
from tap_restgeneric.http.deadline import mount_deadlines
from tap_restgeneric.redaction import REDACT, excerpt
from tap_restgeneric.registry import Registry

AUTHS: Registry[type[Authenticator]] = Registry("auth")


@functools.cache
def _token_session() -> requests.Session:
    """The session token requests go through: response heads within the timeout too."""
    session = requests.Session()
    mount_deadlines(session)
    return session


class Authenticator(APIAuthenticatorBase):
    """Base: built from checked options; adds headers or query params to each request."""

    fields: ClassVar[dict[str, Field]] = {}
    verify: bool | str = True
    """TLS verification for requests the authenticator makes itself (a CA bundle path)."""

    def __init__(self, options: Mapping[str, Any], timeout: float = 60.0) -> None:
        super().__init__()
        self.options = options
        self.timeout = timeout

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the auth headers, and the auth params without re-encoding the rest of the query.

        The SDK's version re-parses the query, which drops blank values (``?q=``) and re-quotes
        next-page URLs (``$skiptoken`` becomes ``%24skiptoken``).
        """
        request.headers.update(self.auth_headers)
        if self.auth_params and request.url:
            request.url = with_query_params(request.url, self.auth_params)
        return request


def with_query_params(url: str, extra: Mapping[str, Any]) -> str:
    """Set ``extra`` in the query of ``url``, keeping every other part of it byte for byte."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    kept = [p for p in query.split("&") if p and unquote_plus(p.split("=", 1)[0]) not in extra]
    query = "&".join([*kept, urlencode(extra)])
    return urlunsplit((scheme, netloc, path, query, fragment))


@AUTHS.register("bearer")
class BearerAuth(Authenticator):
    """``bearer``: ``Authorization: Bearer <token>``."""

    fields: ClassVar[dict[str, Field]] = {"token": Field("string", REQUIRED, nullable=False)}

    def __init__(self, options: Mapping[str, Any], timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        self.auth_headers["Authorization"] = f"Bearer {options['token']}"


@AUTHS.register("api_key")
class APIKeyAuth(Authenticator):
    """``api_key``: the key in a header (no prefix), a query parameter, or a cookie."""

    fields: ClassVar[dict[str, Field]] = {
        "name": Field("name", "Authorization", nullable=False),
        "api_key": Field("string", REQUIRED, nullable=False),
        "location": Field("string", "header", False, ("header", "query", "param", "cookie")),
    }

    def __init__(self, options: Mapping[str, Any], timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        name, key, location = options["name"], options["api_key"], options["location"]
        if location == "header":
            self.auth_headers[name] = key
        elif location == "cookie":
            self.auth_headers["Cookie"] = f"{name}={key}"
        else:
            self.auth_params[name] = key


@AUTHS.register("http_basic", "basic")
class BasicAuth(Authenticator):
    """``http_basic`` (alias ``basic``): username and password; a missing password is empty."""

    fields: ClassVar[dict[str, Field]] = {
        "username": Field("string", REQUIRED, nullable=False),
        "password": Field("string", "", nullable=False),
    }

    def __init__(self, options: Mapping[str, Any], timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        pair = f"{options['username']}:{options['password']}".encode()
        token = base64.b64encode(pair).decode("ascii")
        REDACT.add(token)
        self.auth_headers["Authorization"] = f"Basic {token}"


@AUTHS.register("oauth2_client_credentials")
class OAuth2ClientCredentials(Authenticator):
    """``oauth2_client_credentials``: a token fetched once per run, refreshed before it expires."""

    fields: ClassVar[dict[str, Field]] = {
        "access_token_url": Field("string", REQUIRED, nullable=False),
        "client_id": Field("string", REQUIRED, nullable=False),
        "client_secret": Field("string", REQUIRED, nullable=False),
        "access_token_request_data": Field("object", {}),
        "default_token_expiration": Field("integer", 3600, nullable=False),
        "access_token": Field("string"),
    }
    refresh_margin: ClassVar[float] = 5.0
    """A token is replaced this many seconds before it expires, or, for a short-lived one, ..."""
    refresh_fraction: ClassVar[float] = 0.1
    """... this share of its lifetime before: a 2 s token is used for 1.8 s, a 1 h one 3595 s."""
    token_retries: ClassVar[int] = 3

    def __init__(self, options: Mapping[str, Any], timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        self._lock = threading.Lock()
        self._token: str | None = options.get("access_token")
        self._refresh_at = self._refresh_time(
            time.monotonic(), float(options["default_token_expiration"])
        )

    @classmethod
    def _refresh_time(cls, issued: float, lifetime: float) -> float:
        """When a token issued at ``issued`` (monotonic) for ``lifetime`` seconds is replaced.

        The margin is ``refresh_margin`` capped at ``refresh_fraction`` of the lifetime, so a
        short-lived token still serves many requests instead of being fetched before each one.
        """
        margin = min(cls.refresh_margin, cls.refresh_fraction * max(lifetime, 0.0))
        return issued + lifetime - margin

    def invalidate(self, rejected: str | None = None) -> None:
        """Forget the token so the next request fetches a new one (after a 401).

        ``rejected`` is the Authorization header the server refused: when another request
        (a worker thread) has already replaced that token, the new one is kept, so one expiry
        costs one token request however many requests were in flight.
        """
        with self._lock:
            if rejected is None or rejected == f"Bearer {self._token}":
                self._token = None

    def _fetch(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.options["client_id"],
            "client_secret": self.options["client_secret"],
            **(self.options.get("access_token_request_data") or {}),
        }
        url = self.options["access_token_url"]
        try:
            response, sent_at = self._post(url, form)
        except requests.RequestException as exc:
            msg = f"OAuth2 token request to {REDACT(url)} failed: {type(exc).__name__}"
            raise StreamRequestError(msg) from None
        if response.status_code >= 400:
            msg = (
                f"OAuth2 token request to {REDACT(url)} failed with status "
                f"{response.status_code}: {excerpt(response.text)}"
            )
            raise StreamRequestError(msg)
        try:
            payload = response.json()
        except ValueError:
            msg = f"OAuth2 token response from {REDACT(url)} is not JSON: {excerpt(response.text)}"
            raise StreamRequestError(msg) from None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str):
            msg = f"OAuth2 token response from {REDACT(url)} has no access_token"
            raise StreamRequestError(msg)
        REDACT.add(token)
        try:
            lifetime = float(payload.get("expires_in") or self.options["default_token_expiration"])
        except (TypeError, ValueError):
            lifetime = float(self.options["default_token_expiration"])
        self._token = token
        # expires_in counts from when the server issued the token, which is after the request
        # was sent: counting from the send time is never late, however slow the answer was
        self._refresh_at = self._refresh_time(sent_at, lifetime)

    def _post(self, url: str, form: dict[str, Any]) -> tuple[requests.Response, float]:
        """POST the token request; connection errors, timeouts, 429 and 5xx are retried.

        Returns the response and the monotonic time its request was sent.
        """
        for attempt in range(self.token_retries + 1):
            last = attempt == self.token_retries
            wait: float | None = None
            sent_at = time.monotonic()
            try:
                response = _token_session().post(
                    url, data=form, timeout=self.timeout, verify=self.verify
                )
            except (requests.ConnectionError, requests.Timeout):
                if last:
                    raise
            else:
                if last or (response.status_code != 429 and response.status_code < 500):
                    return response, sent_at
                wait = requester.retry_after(response, 30.0)
            requester.sleep(0.5 * 2**attempt if wait is None else wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Fetch or refresh the token if needed, then send it as a Bearer header."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                self._fetch()  # under the lock: one token request per expiry, whatever the threads
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request
