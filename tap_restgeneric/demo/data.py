"""Deterministic record generators for the demo API's datasets."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

Record = dict[str, Any]

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
_CITIES = ("Berlin", "Lisbon", "Toronto", "Osaka", "Nairobi", "Denver", "Oslo")
_COUNTRIES = ("DE", "PT", "CA", "JP", "KE", "US", "NO")


_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    """Parse ``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 datetime with ``Z``/``±HH:MM``.

    Returns an aware UTC datetime; raises ValueError for anything else (naive datetimes too).
    """
    if date := _DATE.fullmatch(text):
        year, month, day = (int(part) for part in date.groups())
        return datetime(year, month, day, tzinfo=timezone.utc)
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not an ISO 8601 date or datetime with offset: {text!r}")
    *fields, fraction, offset = match.groups()
    year, month, day, hour, minute, second = (int(part or 0) for part in fields)
    zone = timezone.utc
    if offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    micro = int((fraction or "").ljust(6, "0"))
    moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    return moment.astimezone(timezone.utc)


def format_instant(moment: datetime) -> str:
    """Format an aware datetime like the generated records: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    moment = moment.astimezone(timezone.utc)
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def created_at(i: int) -> str:
    """Return the creation timestamp of record ``i`` (2024-01-01T00:00:00Z plus i hours)."""
    return _iso(_EPOCH + timedelta(hours=i))


def updated_at(i: int) -> str:
    """Return the update timestamp of record ``i`` (created_at + (i % 5) days + 30 minutes)."""
    return _iso(_EPOCH + timedelta(hours=i, days=i % 5, minutes=30))


def _stamps(i: int) -> Record:
    return {"created_at": created_at(i), "updated_at": updated_at(i)}


def _name(i: int) -> tuple[str, str]:
    return _FIRST[i % len(_FIRST)], _LAST[i % len(_LAST)]


def _s000_user(i: int) -> Record:
    first, last = _name(i)
    return {
        "id": f"usr_{i}",
        "email": f"user{i}@example.com",
        "first_name": first,
        "last_name": last,
        "role": "admin",
        "is_active": True,
        "team": {"id": 10, "name": "Operations"},
        **_stamps(i),
    }


def _s000_document(i: int) -> Record:
    return {
        "id": i,
        "title": f"Agreement {i:03d}",
        "status": ("draft", "sent", "completed")[i % 3],
        "page_count": 1 + i % 4,
        "is_signed": i % 3 == 2,
        "template_id": None if i % 2 else 500 + i,
        "tags": [f"tag{j}" for j in range(i % 3)],
        **_stamps(i),
    }


def _s000_contact(i: int) -> Record:
    first, last = _name(i)
    return {
        "id": i,
        "first_name": first,
        "last_name": last,
        "email": f"user{i}@example.com",
        "phone": None if i % 4 == 0 else f"+1-555-01{i:02d}",
        "lifetime_value": round(i * 12.75, 2),
        "is_subscribed": i % 2 == 0,
        "address": {"city": _CITIES[i % len(_CITIES)], "country": _COUNTRIES[i % len(_COUNTRIES)]},
        **_stamps(i),
    }


def _s000_signing_link(i: int) -> Record:
    return {
        "id": i,
        "document_id": 1 + i % 7,
        "signer_email": f"user{i}@example.com",
        "url": f"https://sign.example.com/l/{i:04d}",
        "expires_at": None if i % 3 == 0 else updated_at(i + 720),
        "opened": i % 2 == 1,
        **_stamps(i),
    }


def _s001_appointment_link(i: int) -> Record:
    return {
        "id": i,
        "slug": f"meet-{i:03d}",
        "title": f"{(15, 30, 45, 60)[i % 4]} minute meeting",
        "duration_minutes": (15, 30, 45, 60)[i % 4],
        "is_active": i % 6 != 0,
        "host_user_key": f"user-{1 + i % 9}",
        **_stamps(i),
    }


def _s001_code_snippet(i: int) -> Record:
    return {
        "id": i,
        "name": f"snippet_{i}",
        "language": ("javascript", "html", "python")[i % 3],
        "content_length": 120 * i,
        "is_published": i % 2 == 1,
        "description": None if i % 3 == 0 else f"Embeddable widget {i}",
        **_stamps(i),
    }


def _s001_insights_report(i: int) -> Record:
    return {
        "id": i,
        "name": f"Report {i}",
        "metric": ("bookings", "cancellations", "no_shows")[i % 3],
        "value": round(i * 3.14159, 3),
        "dimensions": ["week", "host"] if i % 2 else ["month"],
        "is_shared": i % 4 == 0,
        **_stamps(i),
    }


def _s002_resource(i: int) -> Record:
    return {
        "id": i,
        "name": f"Resource {i}",
        "category": ("hardware", "software", "service")[i % 3],
        "quantity": i * 7,
        "unit_price": round(9.99 + i * 1.5, 2),
        "archived": i % 4 == 0,
        "owner": None if i % 3 == 0 else {"user_key": f"user-{i}", "team": "core"},
        **_stamps(i),
    }


def _s003_account(i: int) -> Record:
    return {
        "id": f"acct_{i}",
        "name": "Example Corp",
        "plan": "business",
        "seats": 25,
        "settings": {"timezone": "UTC", "currency": "EUR", "two_factor_required": True},
        **_stamps(i),
    }


def _s003_customer(i: int) -> Record:
    first, last = _name(i)
    return {
        "id": i,
        "customer_id": f"cus_{i:05d}",
        "name": f"{first} {last}",
        "email": f"user{i}@example.com",
        "balance": round((i % 11) * 25.5 - 50, 2),
        "delinquent": i % 13 == 0,
        "metadata": {"segment": ("smb", "mid", "enterprise")[i % 3]} if i % 2 else {},
        **_stamps(i),
    }


def _s003_custom_field(i: int) -> Record:
    kind = ("text", "number", "select", "date")[i % 4]
    return {
        "id": i,
        "key": f"field_{i}",
        "label": f"Custom field {i}",
        "field_type": kind,
        "required": i % 5 == 0,
        "options": ["low", "medium", "high"] if kind == "select" else None,
        **_stamps(i),
    }


def _s004_user(i: int) -> Record:
    first, last = _name(i)
    return {
        "id": i,
        "user_key": f"user_{i:04d}",
        "email": f"user{i}@example.com",
        "display_name": f"{first} {last}",
        "is_admin": i % 25 == 0,
        "last_login_at": None if i % 7 == 0 else updated_at(i + 48),
        "login_count": i * 3 % 97,
        **_stamps(i),
    }


def _s004_custom_field(object_type: str) -> Callable[[int], Record]:
    def make(i: int) -> Record:
        kind = ("text", "number", "choices", "date")[i % 4]
        return {
            "id": i,
            "name": f"{object_type.title()} field {i}",
            "object_type": object_type,
            "type": kind,
            "accepts_multiple_values": kind == "choices",
            "choices": ["alpha", "beta"] if kind == "choices" else None,
            **_stamps(i),
        }

    return make


_TABLE: dict[str, tuple[int, Callable[[int], Record]]] = {
    "s000_user": (1, _s000_user),
    "s000_documents": (7, _s000_document),
    "s000_contacts": (45, _s000_contact),
    "s000_signing_links": (23, _s000_signing_link),
    "s001_appointmentlinks": (120, _s001_appointment_link),
    "s001_codesnippets": (7, _s001_code_snippet),
    "s001_insightsreports": (51, _s001_insights_report),
    "s002_resource": (9, _s002_resource),
    "s003_account": (1, _s003_account),
    "s003_customers": (130, _s003_customer),
    "s003_custom_fields": (12, _s003_custom_field),
    "s004_user": (250, _s004_user),
    "s004_custom_field_lead": (3, _s004_custom_field("lead")),
    "s004_custom_field_contact": (4, _s004_custom_field("contact")),
    "s004_custom_field_opportunity": (5, _s004_custom_field("opportunity")),
    "s004_custom_field_activity": (2, _s004_custom_field("activity")),
}

DATASETS: dict[str, int] = {name: count for name, (count, _) in _TABLE.items()}
"""Dataset name -> number of records the demo API serves for it."""


@cache
def _all_records(name: str) -> tuple[Record, ...]:
    count, make = _TABLE[name]
    return tuple(make(i) for i in range(1, count + 1))


def records(name: str, start: int = 0, stop: int | None = None) -> list[Record]:
    """Return the records of dataset ``name`` in id order, sliced to [start, stop)."""
    return list(_all_records(name)[start:stop])
