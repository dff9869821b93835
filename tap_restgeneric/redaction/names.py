"""Which config keys and header/param/field names are credentials (``looks_like_credential``)."""

from __future__ import annotations

import functools
import re

SENSITIVE_KEYS = frozenset(
    {
        "token",
        "password",
        "api_key",
        "apikey",
        "api-key",
        "client_secret",
        "access_token",
        "refresh_token",
        "secret",
        "key",
        "pwd",
        "access-token",
        "authorization",
        "access_key",
        "secret_key",
        "private_key",
        "api_token",
        "auth_token",
        "session_token",
        "passphrase",
    }
)
"""Config keys (anywhere in the config) whose values are secrets, whatever their text."""

CREDENTIAL_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "auth",
        "authorization",
        "session",
        "sessionid",
        "sid",
        "signature",
        "sig",
        "credential",
        "credentials",
        "cookie",
        "bearer",
        "jwt",
        "hmac",
    }
)
"""Words of a header/param name (split at ``-``, ``_``, ``.`` and camelCase) that make it a
credential: ``X-Api-Key`` (key), ``access_key`` (key), ``sessionId`` (session)."""

CREDENTIAL_PARTS = (
    "token",
    "secret",
    "passw",
    "credential",
    "signature",
    "apikey",
    "accesskey",
    "privatekey",
    "authkey",
    "sessionid",
    "authorization",
)
"""Fragments that make a name a credential wherever they occur in it (``xapitoken``)."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def looks_like_credential(name: object) -> bool:
    """Whether a header, query parameter or body field name names a credential.

    True when one of its words is in ``CREDENTIAL_WORDS`` or it contains one of
    ``CREDENTIAL_PARTS``: ``X-Api-Key``, ``access_key``, ``apiKey``, ``X-Auth-Token``, ``sig``,
    ``Cookie``; false for ``per_page``, ``limit``, ``author``, ``fields``, ``keyword``.
    """
    text = _CAMEL.sub("_", str(name)).lower()
    words = [w for w in _WORD_SPLIT.split(text) if w]
    if any(w in CREDENTIAL_WORDS for w in words):
        return True
    compact = "".join(words)
    return any(part in compact for part in CREDENTIAL_PARTS)
