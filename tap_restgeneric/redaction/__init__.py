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

import base64
import functools
import html
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

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
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*:(?:\\*/){2})[^\s/?#@\"'<>]*@")
_QUERY_PARAM = re.compile(r"([?&;]([^=&#\s?;\"'<>]+)=)[^&#\s)\"'<>]*")


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


_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])"
)
_SHORT_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
JSON_LEVELS = 3
"""JSON-escaped text is decoded up to this many times (JSON in a JSON string in a JSON string)."""
MAX_ESCAPED_CHAR = 12 * 2**JSON_LEVELS
"""The most text one character can take up escaped ``JSON_LEVELS`` times (a surrogate pair)."""


def _unescape(text: str) -> tuple[str, list[int]]:
    """Decode one level of JSON string escapes; also return, for each decoded character (and
    the end), where it starts in ``text``. Invalid escapes are kept as they are."""
    pieces: list[str] = []
    starts: list[int] = []
    pos = 0
    for match in _ESCAPE.finditer(text):
        begin = match.start()
        pieces.append(text[pos:begin])
        starts.extend(range(pos, begin))
        high, low, code, short = match.groups()
        if high is not None:
            pair = (int(high, 16) - 0xD800) * 0x400 + (int(low, 16) - 0xDC00) + 0x10000
            pieces.append(chr(pair))
        elif code is not None:
            pieces.append(chr(int(code, 16)))
        else:
            pieces.append(_SHORT_ESCAPES.get(short, short))
        starts.append(begin)
        pos = match.end()
    pieces.append(text[pos:])
    starts.extend(range(pos, len(text) + 1))
    return "".join(pieces), starts


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def _base64_forms(raw: bytes) -> set[str]:
    """Base64 of ``raw`` (standard and URL-safe, with and without padding) and, for values of
    six bytes or more, the part of its encoding that is the same wherever it sits in a longer
    encoded text (the three byte alignments)."""
    full = base64.b64encode(raw).decode()
    forms = {full, full.rstrip("=")}
    if len(raw) >= 6:
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw).decode()
            start, end = (8 * shift + 5) // 6, 8 * (shift + len(raw)) // 6
            forms.add(encoded[start:end])
    return forms | {f.replace("+", "-").replace("/", "_") for f in forms}


def _forms(value: str) -> set[str]:
    """The texts that give ``value`` away (JSON escapes are handled by the pattern)."""
    encoded = {quote(value, safe=""), quote(value), quote_plus(value)}
    lower = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), e) for e in encoded}
    forms = {value, html.escape(value), *encoded, *lower}
    forms |= _base64_forms(value.encode())
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces every known secret value (and its encoded forms) with ``***``."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()  # worker threads register tokens while others redact

    def add(self, value: object) -> None:
        """Register a secret value (numbers as text, containers item by item) and its encodings."""
        if isinstance(value, dict | list | tuple):
            self.extend(value.values() if isinstance(value, dict) else value)
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        forms = _forms(value)
        with self._lock:
            if not forms <= self._values:
                self._values |= forms
                self._pattern = None

    def extend(self, values: Iterable[object]) -> None:
        """Register several secret values."""
        for value in values:
            self.add(value)

    def add_named(self, node: object, *, credential: bool = False) -> None:
        """Register the values of a configured mapping (headers, params, a body) that sit
        under a name that looks like a credential (``looks_like_credential``), at any depth.

        A header value such as ``Bearer abc`` or ``sid=abc; lang=en`` also registers its parts
        (``abc``), so that the part alone is masked too.
        """
        if isinstance(node, Mapping):
            if node.get("type") in ("resolve", "incremental"):
                return  # a param filled at run time, not a literal value
            for name, value in node.items():
                self.add_named(value, credential=credential or looks_like_credential(name))
        elif isinstance(node, list | tuple):
            for value in node:
                self.add_named(value, credential=credential)
        elif credential and isinstance(node, str | int | float) and not isinstance(node, bool):
            text = str(node).strip()
            self.add(text)
            for piece in re.split(r"\s*[;,]\s*", text):
                name, equals, value = piece.partition("=")
                part = value if equals and name and value.strip("=") else piece
                self.add(part.split()[-1] if part.split() else part)

    def forget(self) -> None:
        """Drop every registered value (one process serves one config; tests serve many)."""
        with self._lock:
            self._values = set()
            self._pattern = None

    def holds_secret(self, text: str) -> bool:
        """Whether ``text`` contains a registered secret value in any of its forms."""
        return bool(self._spans(text))

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return self._pattern

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Where secrets are in ``text``: as they are, or JSON-escaped (up to ``JSON_LEVELS``)."""
        pattern = self._compiled()
        if pattern is None:
            return []
        spans = [m.span() for m in pattern.finditer(text)]
        level, where = text, list(range(len(text) + 1))
        for _ in range(JSON_LEVELS):
            if "\\" not in level:
                break
            level, starts = _unescape(level)
            where = [where[i] for i in starts]
            spans += [(where[m.start()], where[m.end()]) for m in pattern.finditer(level)]
        return _merge(spans)

    def __call__(self, text: str) -> str:
        """Return ``text`` with secrets, credential query values and URL userinfo masked."""
        spans = self._spans(text)
        if spans:
            pieces, pos = [], 0
            for begin, end in spans:
                pieces += [text[pos:begin], MASK]
                pos = end
            text = "".join([*pieces, text[pos:]])
        if "@" in text:
            text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
        return _QUERY_PARAM.sub(_mask_param, text) if "=" in text else text

    @property
    def longest(self) -> int:
        """Length of the longest registered form (as text, before any JSON escaping)."""
        with self._lock:
            return max(map(len, self._values), default=0)


def _mask_param(match: re.Match[str]) -> str:
    name = match.group(2)
    if looks_like_credential(unquote_plus(name) if "%" in name or "+" in name else name):
        return match.group(1) + MASK
    return match.group(0)


REDACT = Redactor()
"""The process-wide redactor: the tap registers secrets here as it resolves config."""


def install_log_redaction() -> None:
    """Make every log record pass through the redactor before any handler sees it.

    The message, and the traceback and stack of a record that carries one, are redacted.
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_restgeneric_redacting", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.msg = REDACT(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = REDACT(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = REDACT(record.stack_info)
        return record

    make_record._restgeneric_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)


def excerpt(text: str, limit: int = 300) -> str:
    """Return a one-line, redacted, truncated excerpt of a response body.

    Only the start of a large body is redacted: a window that, once redacted and flattened, is
    longer than the excerpt by more than any secret can take up escaped (so a secret cut at the
    window's end is never within the excerpt).
    """
    size = 4096
    while True:
        flat = " ".join(REDACT(text[:size]).split())
        if size >= len(text) or len(flat) > limit + MAX_ESCAPED_CHAR * REDACT.longest:
            break
        size *= 4
    return flat if len(flat) <= limit else flat[:limit] + "…"
