"""The forms a secret travels in: URL-encoded, base64, HTML- and JSON-escaped (``secret_forms``)."""

from __future__ import annotations

import base64
import html
import re
from urllib.parse import quote, quote_plus

MIN_SECRET_LENGTH = 3
_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])"
)
_SHORT_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
JSON_LEVELS = 3
"""JSON-escaped text is decoded up to this many times (JSON in a JSON string in a JSON string)."""
MAX_ESCAPED_CHAR = 12 * 2**JSON_LEVELS
"""The most text one character can take up escaped ``JSON_LEVELS`` times (a surrogate pair)."""


def unescape(text: str) -> tuple[str, list[int]]:
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


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching (begin, end) spans joined, in order."""
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


def secret_forms(value: str) -> set[str]:
    """The texts that give ``value`` away (JSON escapes are handled by the pattern)."""
    encoded = {quote(value, safe=""), quote(value), quote_plus(value)}
    lower = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), e) for e in encoded}
    forms = {value, html.escape(value), *encoded, *lower}
    forms |= _base64_forms(value.encode())
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}
