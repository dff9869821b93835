"""Cursor values: parse, compare, shift by a lag, and render in the format an API expects."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

FORMATS = ("iso8601", "iso8601_offset", "date", "epoch", "epoch_ms", "rfc1123")
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 1123 / HTTP-date (``Mon, 01 Jan 2024 01:00:00 GMT``, Eve's default) and RFC 2822 offsets
_RFC1123 = re.compile(
    r"^(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})?"
    r" (?:GMT|UTC?|[+-]\d{4})$"
)
_MS_THRESHOLD = 100_000_000_000  # epoch numbers above this are milliseconds (after 1973 in ms)


def parse_duration(text: str) -> timedelta | None:
    """Parse an ISO 8601 duration of weeks/days/hours/minutes/seconds (``P7D``, ``PT6H``)."""
    match = _DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    delta = timedelta(**parts)
    return delta if delta > timedelta(0) else None


def parse_point(value: Any) -> datetime | float | str | None:
    """A comparable form: aware UTC datetime for ISO strings/dates, float for numbers."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if _RFC1123.match(text):
            return _rfc1123(text)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return text
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return str(value)


def _rfc1123(text: str) -> datetime | str:
    """An RFC 1123 date as an aware datetime (text it cannot read stays text)."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return text
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def as_datetime(point: datetime | float | str) -> datetime | None:
    """The instant a point stands for (numbers as epoch seconds or ms); None for other text."""
    if isinstance(point, datetime):
        return point
    if isinstance(point, float):
        seconds = point / 1000 if point > _MS_THRESHOLD else point
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    return None


def compare(a: datetime | float | str, b: datetime | float | str) -> int:
    """-1, 0 or 1; datetimes and epoch numbers compare as instants, other mixes as text."""
    if isinstance(a, datetime) != isinstance(b, datetime):
        da, db = as_datetime(a), as_datetime(b)
        if da is not None and db is not None:
            a, b = da, db
    if type(a) is not type(b):
        a, b = str(a), str(b)
    return (a > b) - (a < b)  # type: ignore[operator]


def detect_format(raw: Any) -> str | None:
    """The format a raw value is written in, to send shifted values back the same way."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return "epoch_ms" if raw > _MS_THRESHOLD else "epoch"
    if isinstance(raw, str):
        if _DATE.match(raw.strip()):
            return "date"
        if _RFC1123.match(raw.strip()) and isinstance(parse_point(raw), datetime):
            return "rfc1123"
        if raw.strip().endswith(("Z", "z")):
            return "iso8601"
        if isinstance(parse_point(raw), datetime):
            return "iso8601_offset"
    return None


def render(point: datetime | float | str, fmt: str | None) -> Any:
    """Write a cursor value in a format: a FORMATS name or a strftime pattern."""
    moment = as_datetime(point)
    if fmt is None or moment is None:
        return point
    if fmt == "epoch":
        return int(moment.timestamp())
    if fmt == "epoch_ms":
        return int(moment.timestamp() * 1000)
    if fmt == "date":
        return moment.date().isoformat()
    if fmt == "iso8601":
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if fmt == "iso8601_offset":
        return moment.isoformat()
    if fmt == "rfc1123":
        return format_datetime(moment.astimezone(timezone.utc), usegmt=True)
    return moment.strftime(fmt)


def shift(point: datetime | float | str, lag: float, raw_format: str | None) -> Any:
    """Move a start back by ``lag``: seconds for datetimes, days for dates, units for numbers."""
    if isinstance(point, datetime):
        return point - (timedelta(days=lag) if raw_format == "date" else timedelta(seconds=lag))
    if isinstance(point, float):
        return point - lag
    return point
