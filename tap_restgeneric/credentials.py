"""Credentials go only to configured origins: requests, redirects, a token refresh on 401."""

from __future__ import annotations

from collections.abc import Iterable

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_restgeneric.redaction import REDACT
from tap_restgeneric.urls import origin

_BODY_HEADERS = ("Content-Length", "Content-Type", "Transfer-Encoding")


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
        return request

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
        invalidate()
        return self.authenticator(request.copy())
