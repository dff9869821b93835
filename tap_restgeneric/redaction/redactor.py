"""The process-wide redactor (``REDACT``): masks secrets in text and log records; ``excerpt``."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from tap_restgeneric.redaction.forms import (
    JSON_LEVELS,
    MAX_ESCAPED_CHAR,
    MIN_SECRET_LENGTH,
    merge_spans,
    secret_forms,
    unescape,
)
from tap_restgeneric.redaction.names import looks_like_credential

MASK = "***"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*:(?:\\*/){2})[^\s/?#@\"'<>]*@")
_QUERY_PARAM = re.compile(r"([?&;]([^=&#\s?;\"'<>]+)=)[^&#\s)\"'<>]*")


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
        forms = secret_forms(value)
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
            level, starts = unescape(level)
            where = [where[i] for i in starts]
            spans += [(where[m.start()], where[m.end()]) for m in pattern.finditer(level)]
        return merge_spans(spans)

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
