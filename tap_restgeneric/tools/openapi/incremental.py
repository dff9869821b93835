"""Incremental candidates: a date-time field in the records and a query parameter filtering it."""

from __future__ import annotations

from dataclasses import dataclass

from tap_restgeneric.tools.openapi.names import norm
from tap_restgeneric.tools.openapi.operations import Param
from tap_restgeneric.tools.openapi.refs import Node
from tap_restgeneric.tools.openapi.schemas import kinds, non_null, properties

CURSOR_FIELDS = (
    *("updatedat", "modifiedat", "lastmodified", "updated", "modified", "changedat"),
    *("updatedon", "modifiedon", "datemodified", "lastupdated", "lastmodifiedat"),
)
SINCE_PARAMS = {"since", "updatedsince", "updatedafter", "modifiedsince", "modifiedafter"}
SINCE_PARAMS |= {"changedsince", "updatedfrom", "lastmodifiedsince", "updatedmin", "minupdated"}
SUFFIXES = ("gte", "gt", "from", "after", "since", "min", "start")
DATE_FORMATS = ("date-time", "date")


@dataclass
class Candidate:
    """A cursor field and the parameter taking its start; ``sure`` when both are dates."""

    field: str
    param: str
    sure: bool
    why: str


def date_fields(item: Node) -> list[str]:
    """The record's string fields named like a last-change time, best first."""
    found = []
    for name, prop in properties(item).items():
        plain = non_null(prop)[0]
        if "string" in kinds(plain) and norm(name) in CURSOR_FIELDS:
            found.append((CURSOR_FIELDS.index(norm(name)), name))
    return [name for _, name in sorted(found)]


def _filters(field: str, param: Param) -> bool:
    """``param`` filters ``field`` from a start: ``since``, ``updated_at[gte]``, ``…_after``."""
    name, base = norm(param.name), norm(field)
    if name in SINCE_PARAMS:
        return True
    stems = {base, base.removesuffix("at"), base.removesuffix("on")}
    return any(name in (stem + s, s + stem) for stem in stems for s in SUFFIXES)


def candidate(item: Node | None, query: dict[str, Param]) -> Candidate | None:
    """The first date field a string query parameter filters (``sure`` with a date format)."""
    if item is None:
        return None
    for field in date_fields(item):
        for param in query.values():
            if param.type not in ("string", None) or not _filters(field, param):
                continue
            sure = param.attr("format") in DATE_FORMATS
            kind = f"format {param.attr('format')}" if sure else "no date format declared"
            why = f"date-time field '{field}' and query parameter '{param.name}' ({kind})"
            return Candidate(field, param.name, sure, why)
    return None
