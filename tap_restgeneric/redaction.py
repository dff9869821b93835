"""Redaction of secret values from any text the tap prints: logs, errors, URLs, bodies."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET_LENGTH = 3
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
    }
)
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:" + "|".join(re.escape(k) for k in sorted(SENSITIVE_KEYS)) + r")=)[^&#\s]*"
)


class Redactor:
    """Replaces every known secret value (and its encoded forms) with ``***``."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: object) -> None:
        """Register a secret value (numbers as text, containers item by item) and its encodings."""
        if isinstance(value, dict | list | tuple):
            self.extend(value.values() if isinstance(value, dict) else value)
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, quote(value, safe=""), quote_plus(value)}
        forms.add(base64.b64encode(value.encode()).decode())
        if not forms <= self._values:
            self._values |= forms
            self._pattern = None

    def extend(self, values: Iterable[object]) -> None:
        """Register several secret values."""
        for value in values:
            self.add(value)

    def __call__(self, text: str) -> str:
        """Return ``text`` with secrets and sensitive query values masked."""
        if self._values:
            if self._pattern is None:
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            text = self._pattern.sub(MASK, text)
        return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)


REDACT = Redactor()
"""The process-wide redactor: the tap registers secrets here as it resolves config."""


def install_log_redaction() -> None:
    """Make every log record pass through the redactor before any handler sees it."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_restgeneric_redacting", False):
        return

    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.msg = REDACT(record.getMessage())
        record.args = ()
        return record

    make_record._restgeneric_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)


def excerpt(text: str, limit: int = 300) -> str:
    """Return a one-line, redacted, truncated excerpt of a response body."""
    flat = " ".join(REDACT(text).split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
