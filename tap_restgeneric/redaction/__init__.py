"""Redaction of secret values from any text the tap prints: logs, errors, URLs, bodies.

What is a secret (README, *Secrets*):

- every ``{"secret": NAME}`` value, and any config value under a key in ``SENSITIVE_KEYS``;
- the literal value of a configured header, query parameter or body field whose *name* looks
  like a credential (``looks_like_credential``): ``X-Api-Key``, ``access_key``, ``sessionId``,
  ``X-Auth-Token``, ``Cookie``… but not ``per_page``, ``author`` or ``sort``;
- the password (and the Basic pair) of userinfo in a configured URL, and tokens the tap obtains.

Each value is masked in every form it may travel in: as is, URL-encoded (either style, either
hex case), base64 (standard and URL-safe, also when it is part of a longer encoded text),
HTML-escaped, and JSON-escaped (``\\/``, ``\\"``, ``\\uXXXX`` for any character, JSON in JSON up
to ``JSON_LEVELS`` deep). Besides values, ``?name=value`` query parameters named like a
credential and the userinfo of any ``scheme://user:password@`` URL are masked wherever they
appear.
"""

from __future__ import annotations

from tap_restgeneric.redaction.forms import JSON_LEVELS, MAX_ESCAPED_CHAR, MIN_SECRET_LENGTH
from tap_restgeneric.redaction.names import (
    CREDENTIAL_PARTS,
    CREDENTIAL_WORDS,
    SENSITIVE_KEYS,
    looks_like_credential,
)
from tap_restgeneric.redaction.redactor import (
    MASK,
    REDACT,
    Redactor,
    excerpt,
    install_log_redaction,
)

__all__ = [
    "CREDENTIAL_PARTS",
    "CREDENTIAL_WORDS",
    "JSON_LEVELS",
    "MASK",
    "MAX_ESCAPED_CHAR",
    "MIN_SECRET_LENGTH",
    "REDACT",
    "SENSITIVE_KEYS",
    "Redactor",
    "excerpt",
    "install_log_redaction",
    "looks_like_credential",
]
