"""Authenticators, one small class per dlt auth type, registered by type name in ``AUTHS``."""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_restgeneric.config.fields import REQUIRED, Field
from tap_restgeneric.errors import ConfigErrors, Path, StreamRequestError
from tap_restgeneric.http import requester
from tap_restgeneric.http.auth_options import AuthOptions, option
from tap_restgeneric.http.deadline import mount_deadlines
from tap_restgeneric.redaction import REDACT, excerpt
from tap_restgeneric.registry import Registry

if TYPE_CHECKING:
    from tap_restgeneric.config.spec import ComponentSpec

AUTHS: Registry[type[Authenticator[Any]]] = Registry("auth")
OptionsT = TypeVar("OptionsT", bound=AuthOptions)


@functools.cache
def _token_session() -> requests.Session:
    """The session token requests go through: response heads within the timeout too."""
    session = requests.Session()
    mount_deadlines(session)
    return session


class Authenticator(APIAuthenticatorBase, Generic[OptionsT]):
    """Base: built from its typed options; adds headers or query params to each request.

    A subclass names its options dataclass in ``options_type``; ``fields`` (the validator's
    table, also read for shorthand auth) is derived from it.
    """

    options_type: ClassVar[type[AuthOptions]] = AuthOptions
    fields: ClassVar[dict[str, Field]] = {}
    verify: bool | str = True
    """TLS verification for requests the authenticator makes itself (a CA bundle path)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fields = cls.options_type.fields()

    def __init__(self, options: OptionsT, timeout: float = 60.0) -> None:
        super().__init__()
        self.options = options
        self.timeout = timeout

    @classmethod
    def options_from(cls, raw: Mapping[str, Any], path: Path, errors: ConfigErrors) -> AuthOptions:
        """The typed options of a config object (called once, when the config is resolved)."""
        return cls.options_type.build(raw, path, errors)

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the auth headers, and the auth params without re-encoding the rest of the query.

        The SDK's version re-parses the query, which drops blank values (``?q=``) and re-quotes
        next-page URLs (``$skiptoken`` becomes ``%24skiptoken``).
        """
        request.headers.update(self.auth_headers)
        if self.auth_params and request.url:
            request.url = with_query_params(request.url, self.auth_params)
        return request


API_KEY_LOCATIONS = ("header", "query", "param", "cookie")


def with_query_params(url: str, extra: Mapping[str, Any]) -> str:
    """Set ``extra`` in the query of ``url``, keeping every other part of it byte for byte."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    kept = [p for p in query.split("&") if p and unquote_plus(p.split("=", 1)[0]) not in extra]
    query = "&".join([*kept, urlencode(extra)])
    return urlunsplit((scheme, netloc, path, query, fragment))


@dataclass(frozen=True, eq=False, kw_only=True)
class BearerOptions(AuthOptions):
    """``bearer``'s options."""

    token: str = option("string", REQUIRED, nullable=False, secret=True)


@AUTHS.register("bearer")
class BearerAuth(Authenticator[BearerOptions]):
    """``bearer``: ``Authorization: Bearer <token>``."""

    options_type = BearerOptions

    def __init__(self, options: BearerOptions, timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        self.auth_headers["Authorization"] = f"Bearer {options.token}"


@dataclass(frozen=True, eq=False, kw_only=True)
class APIKeyOptions(AuthOptions):
    """``api_key``'s options."""

    name: str = option("name", "Authorization", nullable=False)
    api_key: str = option("string", REQUIRED, nullable=False, secret=True)
    location: str = option("string", "header", nullable=False, choices=API_KEY_LOCATIONS)


@AUTHS.register("api_key")
class APIKeyAuth(Authenticator[APIKeyOptions]):
    """``api_key``: the key in a header (no prefix), a query parameter, or a cookie."""

    options_type = APIKeyOptions

    def __init__(self, options: APIKeyOptions, timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        name, key = options.name, options.api_key
        if options.location == "header":
            self.auth_headers[name] = key
        elif options.location == "cookie":
            self.auth_headers["Cookie"] = f"{name}={key}"
        else:
            self.auth_params[name] = key


@dataclass(frozen=True, eq=False, kw_only=True)
class BasicOptions(AuthOptions):
    """``http_basic``'s options (the username too is kept out of reprs: some APIs take a key
    as the username)."""

    username: str = option("string", REQUIRED, nullable=False, secret=True)
    password: str = option("string", "", nullable=False, secret=True)


@AUTHS.register("http_basic", "basic")
class BasicAuth(Authenticator[BasicOptions]):
    """``http_basic`` (alias ``basic``): username and password; a missing password is empty."""

    options_type = BasicOptions

    def __init__(self, options: BasicOptions, timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        pair = f"{options.username}:{options.password}".encode()
        token = base64.b64encode(pair).decode("ascii")
        REDACT.add(token)
        self.auth_headers["Authorization"] = f"Basic {token}"


@dataclass(frozen=True, eq=False, kw_only=True)
class OAuth2Options(AuthOptions):
    """``oauth2_client_credentials``' options."""

    access_token_url: str = option("string", REQUIRED, nullable=False)
    client_id: str = option("string", REQUIRED, nullable=False)
    client_secret: str = option("string", REQUIRED, nullable=False, secret=True)
    access_token_request_data: Mapping[str, Any] | None = option("object", {}, secret=True)
    default_token_expiration: int = option("integer", 3600, nullable=False)
    access_token: str | None = option("string", secret=True)


@AUTHS.register("oauth2_client_credentials")
class OAuth2ClientCredentials(Authenticator[OAuth2Options]):
    """``oauth2_client_credentials``: a token fetched once per run, refreshed before it expires."""

    options_type = OAuth2Options
    refresh_margin: ClassVar[float] = 5.0
    """A token is replaced this many seconds before it expires, or, for a short-lived one, ..."""
    refresh_fraction: ClassVar[float] = 0.1
    """... this share of its lifetime before: a 2 s token is used for 1.8 s, a 1 h one 3595 s."""
    token_retries: ClassVar[int] = 3

    def __init__(self, options: OAuth2Options, timeout: float = 60.0) -> None:
        super().__init__(options, timeout)
        self._lock = threading.Lock()
        self._token: str | None = options.access_token
        self._refresh_at = self._refresh_time(
            time.monotonic(), float(options.default_token_expiration)
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
        options = self.options
        form = {
            "grant_type": "client_credentials",
            "client_id": options.client_id,
            "client_secret": options.client_secret,
            **(options.access_token_request_data or {}),
        }
        url = options.access_token_url
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
            lifetime = float(payload.get("expires_in") or options.default_token_expiration)
        except (TypeError, ValueError):
            lifetime = float(options.default_token_expiration)
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


class Authenticators:
    """The run's authenticators: one per distinct auth spec (so one OAuth2 token per run).

    Keyed by the spec itself (its typed options hash and compare by value): two endpoints with
    the same auth share one authenticator, and no secret is serialised to build a key.
    """

    def __init__(self, timeout: float = 60.0, verify: bool | str = True) -> None:
        self.timeout = timeout
        self.verify = verify
        self._built: dict[tuple[str, AuthOptions], Authenticator[Any]] = {}

    def __call__(self, spec: ComponentSpec | None) -> APIAuthenticatorBase:
        """The authenticator for ``spec`` (None: one that adds nothing)."""
        if spec is None:
            return Authenticator(AuthOptions(), self.timeout)
        options = spec.options
        if not isinstance(options, AuthOptions):
            raise TypeError(f"auth {spec.type!r}: options are built when the config is resolved")
        key = (spec.type, options)
        if key not in self._built:
            auth = AUTHS[spec.type](options, self.timeout)
            auth.verify = self.verify
            self._built[key] = auth
        return self._built[key]
