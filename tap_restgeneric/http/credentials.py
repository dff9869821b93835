"""Credentials go only to configured origins: requests, redirects, a token refresh on 401.

The rule is by origin (scheme, host, port), not by key name. A request to a configured origin
(base_url's, an absolute endpoint path's) gets everything configured: the auth, the configured
headers, query parameters and body, and base_url's userinfo as HTTP Basic. A request to any other
origin — a next link (json_link, header_link, auto), a redirect, a rendered path — gets only:

- the URL it was given, minus userinfo and minus any query parameter named like the auth's
  parameter or holding a secret value (the link's own query otherwise kept byte for byte);
- the generic headers in ``PORTABLE_HEADERS`` (unless one holds a secret value).

No auth, no configured header, no cookie, no body.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_restgeneric.http.deadline import mount_deadlines
from tap_restgeneric.http.urls import origin
from tap_restgeneric.redaction import REDACT

if TYPE_CHECKING:
    from tap_restgeneric.config.spec import RestApiSpec

_BODY_HEADERS = ("Content-Length", "Content-Type", "Transfer-Encoding")
PORTABLE_HEADERS = frozenset(
    {"user-agent", "accept", "accept-encoding", "accept-language", "connection"}
)
"""The only headers a request to another origin keeps."""
_CONFIGURED = "_restgeneric_configured"
"""Attribute of a request sent to another origin: the request as configured, for a redirect
that comes back to a configured origin."""


def configure_session(session: requests.Session, api: RestApiSpec) -> None:
    """TLS verification (with ``ca_bundle``), proxies read from the environment once, and a
    total deadline for response heads (``deadline.py``).

    requests would re-read proxy variables on every request; the tap reads them once for the
    API's host. REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are honoured when ``ca_bundle`` is not set.
    """
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(api.base_url or "http://localhost")
    bundle = (
        api.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    )
    session.verify = bundle or True
    mount_deadlines(session)


def without_userinfo(url: str) -> str:
    """``url`` without ``user:password@``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def userinfo_basic(url: str) -> str | None:
    """The HTTP Basic header for the userinfo of ``url`` (None without userinfo); the
    password, the pair and its base64 are registered as secrets."""
    netloc = urlsplit(url).netloc
    if "@" not in netloc:
        return None
    userinfo = netloc.rsplit("@", 1)[0]
    username, _, password = userinfo.partition(":")
    pair = f"{unquote(username)}:{unquote(password)}"
    token = base64.b64encode(pair.encode()).decode("ascii")
    secret = (password, unquote(password)) if password else (username, unquote(username))
    REDACT.extend([*secret, userinfo, pair, token])
    return f"Basic {token}"


class Credentials:
    """Attaches credentials to requests for configured origins only (see the module doc)."""

    def __init__(
        self,
        authenticator: APIAuthenticatorBase,
        trusted: Iterable[str],
        configured: Iterable[object] = (),
    ) -> None:
        """``trusted``: the configured URLs; ``configured``: the configured headers, params
        and bodies, whose values under credential-like names are registered as secrets."""
        self.authenticator = authenticator
        urls = list(trusted)
        self.trusted = {origin(url) for url in urls}
        self._basic: dict[tuple[str, str], str] = {}
        for url in urls:
            basic = userinfo_basic(url)
            if basic is not None:
                self._basic.setdefault(origin(url), basic)
        for node in configured:
            REDACT.add_named(node)

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate a request to a configured origin; strip everything from any other."""
        target = origin(request.url or "")
        request.url = without_userinfo(request.url or "")
        if target in self.trusted:
            return self._authenticate(request, target)
        configured = request.copy()
        for name in list(request.headers):
            value = request.headers[name]
            if name.lower() not in PORTABLE_HEADERS or REDACT.holds_secret(str(value)):
                del request.headers[name]
        if request.body is not None:
            request.prepare_body(None, None)
        request.url = self._without_secret_params(request.url)
        setattr(request, _CONFIGURED, configured)
        return request

    def _authenticate(
        self, request: requests.PreparedRequest, target: tuple[str, str]
    ) -> requests.PreparedRequest:
        """The auth, and base_url's userinfo as Basic on its own origin only."""
        sent = request.headers.get("Authorization")
        if sent is not None and sent in self._basic.values() and sent != self._basic.get(target):
            del request.headers["Authorization"]  # userinfo of another configured origin
        request = self.authenticator(request)
        basic = self._basic.get(target)
        if basic is not None and "Authorization" not in request.headers:
            request.headers["Authorization"] = basic
        return request

    def _without_secret_params(self, url: str) -> str:
        """Drop the auth's query params and any param holding a secret (a next link or a
        redirect to another host may carry them over); keep the rest byte for byte."""
        scheme, netloc, path, query, fragment = urlsplit(url)
        if not query:
            return url
        names = {str(name) for name in getattr(self.authenticator, "auth_params", {})}
        kept = []
        for part in query.split("&"):
            name, _, value = (unquote_plus(p) for p in part.partition("="))
            if name not in names and not (REDACT.holds_secret(part) or REDACT.holds_secret(value)):
                kept.append(part)
        return urlunsplit((scheme, netloc, path, "&".join(kept), fragment))

    def follow(
        self, request: requests.PreparedRequest, url: str, status: int
    ) -> requests.PreparedRequest:
        """The request a redirect asks for; credentials only if it goes to a configured origin.

        After a hop through another origin, a redirect back to a configured origin gets the
        request as configured again.
        """
        nxt = getattr(request, _CONFIGURED, request).copy()
        if status == 303 or (status in (301, 302) and nxt.method == "POST"):
            nxt.method = "GET"
            nxt.body = None
            for name in _BODY_HEADERS:
                nxt.headers.pop(name, None)
        nxt.prepare_url(url, None)
        return self.apply(nxt)

    def reauthenticate(self, request: requests.PreparedRequest) -> requests.PreparedRequest | None:
        """After a 401: drop a cached token and sign again (None when there is none to renew)."""
        invalidate = getattr(self.authenticator, "invalidate", None)
        if invalidate is None or origin(request.url or "") not in self.trusted:
            return None
        invalidate(request.headers.get("Authorization"))
        return self.authenticator(request.copy())
