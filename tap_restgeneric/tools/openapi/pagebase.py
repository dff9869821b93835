"""The number of a page parameter's first page (``base_page``), with its evidence."""

from __future__ import annotations

import re

from tap_restgeneric.tools.openapi.names import (
    PAGE_PARAMS,
    PAGES_FIELDS,
    PAGES_HEADERS,
    Fields,
    json_path,
    norm,
)
from tap_restgeneric.tools.openapi.operations import Operation, Param
from tap_restgeneric.tools.openapi.schemas import kinds, properties

BASED = re.compile(
    r"\b(?P<n>0|1|zero|one)[- ]?(?:based|indexed)\b|\b(?:page\s+)?(?:numbers?\s+)?"
    r"(?:starts?|starting|begins?|beginning|counts?|counting)\s+(?:at|from|with)\s+"
    r"(?:page\s+)?(?P<m>0|1|zero|one)\b|\bfirst page is (?:page\s+)?(?P<f>0|1)\b",
    re.I,
)


def base_page(page: Param, fields: Fields, op: Operation) -> tuple[int | None, str]:
    """The number of the first page and the evidence: the parameter's ``minimum``/``default``
    of 0 or 1, its description (``1-based``, ``starts at 0``), else a page count or current page
    number in the response (Litestar's ``total_pages``/``current_page``, Laravel's
    ``last_page``, fastapi-pagination's ``pages``), which APIs that number pages from 1 write;
    Spring Data's ``Page`` (``pageable``, ``number``) counts from 0 and is left to the tap."""
    for key in ("minimum", "default"):
        value = page.attr(key)
        if value in (0, 1) and not isinstance(value, bool):
            return int(value), f"base_page {value} from its {key}"
    if found := BASED.search(page.description):
        said = next(g for g in found.groups() if g).lower()
        value = 0 if said in ("0", "zero") else 1
        return value, f"base_page {value} from its description ('{found.group(0)}')"
    top = {norm(p[-1]) for p in fields if len(p) == 1}
    spring = "pageable" in top or {"number", "totalelements"} <= top
    counts = [p for p in fields if norm(p[-1]) in PAGES_FIELDS | PAGE_PARAMS]
    counts = [p for p in counts if {"integer", "number"} & set(kinds(fields[p]))]
    said = [f"field '{json_path(p)}'" for p in counts]
    for name, header in op.headers.items():
        inner = [k for k in properties(header) if norm(k) in PAGES_FIELDS | PAGE_PARAMS]
        if name.lower() in PAGES_HEADERS or inner:
            said.append(f"'{', '.join(inner)}' in response header '{name}'" if inner else name)
    if said and not spring:
        why = "base_page 1: no minimum or default declared, and the response has "
        why += " and ".join(said)
        return 1, why + " (a page count or page number: such APIs number pages from 1)"
    why = "base_page not declared: the tap starts at 0 and moves to 1 if page 0 is empty or "
    why += "repeats page 1"
    if spring:
        why += " (Spring Data's Page numbers pages from 0)"
    return None, why
