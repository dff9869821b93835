"""Credentials go only to configured origins: requests, redirects, a token refresh on 401."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_restgeneric.redaction import REDACT
from tap_restgeneric.urls import origin

if TYPE_CHECKING:
    from tap_restgeneric.spec import RestApiSpec

_BODY_HEADERS = ("Content-Length", "Content-Type", "Transfer-Encoding")


def configure_session(session: requests.Session, api: RestApiSpec) -> None:
    """TLS verification (with ``ca_bundle``) and proxies, read from the environment once.

    requests would re-read proxy variables on every request; the tap reads them once for the
    API's host. REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are honoured when ``ca_bundle`` is not set.
    """
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(api.base_url or "http://localhost")
    bundle = (
        api.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    )
    session.verify = bundle or True


class Credentials:
    """Attaches an authenticator's credentials to requests for trusted origins only."""

    def __init__(self, authenticator: APIAuthenticatorBase, trusted: Iterable[str]) -> None:
        self.authenticator = authenticator
        self.trusted = {origin(url) for url in trusted}

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate a request to a trusted origin; strip anything secret from any other."""
        if origin(request.url or "") in self.trusted:
            return self.authenticator(request)
        secret_headers = {"authorization", "cookie"} | {
            str(name).lower() for name in getattr(self.authenticator, "auth_headers", {})
        }
        for name, value in list(request.headers.items()):
            if name.lower() in secret_headers or REDACT(value) != value:
                del request.headers[name]
        request.url = self._without_secret_params(request.url or "")
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
            if name not in names and REDACT(value) == value:
                kept.append(part)
        return urlunsplit((scheme, netloc, path, "&".join(kept), fragment))

    def follow(
        self, request: requests.PreparedRequest, url: str, status: int
    ) -> requests.PreparedRequest:
        """The request a redirect asks for; credentials only if it stays on a trusted origin."""
        nxt = request.copy()
        if status == 303 or (status in (301, 302) and nxt.method == "POST"):
            nxt.method = "GET"
            nxt.body = None
            for name in _BODY_HEADERS:
                nxt.headers.pop(name, None)
        nxt.prepare_url(url, None)
        if origin(url) not in self.trusted:
            for name in list(nxt.headers):
                if name.lower() in ("authorization", "cookie"):
                    del nxt.headers[name]
        return self.apply(nxt)

    def reauthenticate(self, request: requests.PreparedRequest) -> requests.PreparedRequest | None:
        """After a 401: drop a cached token and sign again (None when there is none to renew)."""
        invalidate = getattr(self.authenticator, "invalidate", None)
        if invalidate is None or origin(request.url or "") not in self.trusted:
            return None
        invalidate(request.headers.get("Authorization"))
        return self.authenticator(request.copy())
