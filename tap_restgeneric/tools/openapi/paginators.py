"""Guessing an operation's paginator from its query parameters, response fields and headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tap_restgeneric.tools.openapi.names import (
    AFTER_PARAMS,
    CURSOR_PARAMS,
    DEFAULT_SIZE,
    LIMIT_PARAMS,
    LINK_FIELDS,
    MAX_SIZE,
    MORE_FIELDS,
    NEXT_FIELDS,
    OFFSET_PARAMS,
    PAGE_PARAMS,
    PAGES_FIELDS,
    PAGES_HEADERS,
    RECORDS_FIELDS,
    RECORDS_HEADERS,
    SIZE_PARAMS,
    TOKEN_FIELDS,
    Fields,
    json_path,
    norm,
)
from tap_restgeneric.tools.openapi.operations import Operation, Param
from tap_restgeneric.tools.openapi.pagebase import base_page
from tap_restgeneric.tools.openapi.refs import Node
from tap_restgeneric.tools.openapi.schemas import kinds, non_null, properties


@dataclass
class Guess:
    """A paginator (None: left to ``auto``), extra first-request params, and the evidence."""

    paginator: dict[str, Any] | None
    evidence: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    sure: bool = True
    suggestion: dict[str, Any] | None = None  # an unsure guess, shown in the report only

    @property
    def style(self) -> str:
        """The paginator type written (``auto`` when none)."""
        return str(self.paginator["type"]) if self.paginator else "auto"


def body_fields(body: Node | None, skip: str | None) -> dict[tuple[str, ...], Node]:
    """The envelope's fields (three levels deep) but the records array at ``skip``."""
    found: dict[tuple[str, ...], Node] = {}

    def walk(node: Node, trail: tuple[str, ...]) -> None:
        for name, prop in properties(node).items():
            path = (*trail, name)
            if json_path(path) == skip:
                continue
            plain = non_null(prop)[0]
            found[path] = plain
            if len(path) < 3 and properties(plain):
                walk(plain, path)

    if body is not None:
        walk(non_null(body)[0], ())
    return found


def _first(fields: dict[tuple[str, ...], Node], names: set[str], *types: str) -> Any:
    """The shallowest field whose last key is one of ``names`` (and of one of ``types``)."""
    hits = [
        p
        for p, node in fields.items()
        if norm(p[-1]) in names and (not types or set(kinds(node)) & set(types))
    ]
    return min(hits, key=len) if hits else None


def _next_field(fields: dict[tuple[str, ...], Node], kind: str) -> tuple[str, ...] | None:
    """The shallowest ``next_page``/``next_cursor``/``next_page_token``/``cursor.next`` field
    of ``kind`` only (a ``string`` that may not also be an ``integer``, or the reverse); a
    string declared as a URL is a next link, not a cursor."""
    other = "integer" if kind == "string" else "string"
    hits = [
        p
        for p, node in fields.items()
        if (
            norm(p[-1]) in NEXT_FIELDS
            or (len(p) > 1 and (norm(p[-2]), p[-1]) == ("cursor", "next"))
        )
        and kind in kinds(node)
        and other not in kinds(node)
        and node.raw("format") not in ("uri", "url")
    ]
    return min(hits, key=len) if hits else None


def _param(query: dict[str, Param], names: set[str]) -> Param | None:
    """The first query parameter named one of ``names``."""
    return next((p for p in query.values() if norm(p.name) in names), None)


MAX_IN_TEXT = re.compile(r"\b(?:max|maximum)\b\W{0,3}(?:of\s+|is\s+)?(\d{1,5})\b", re.I)


def page_size(param: Param) -> tuple[int, str]:
    """The page size to ask for and why: the declared maximum (in the schema, else in the
    description: ``(max 100)``), else its default, else 100."""
    maximum, default = param.attr("maximum"), param.attr("default")
    if isinstance(maximum, int) and maximum > 0:
        return min(maximum, MAX_SIZE), f"{param.name}'s maximum"
    if (found := MAX_IN_TEXT.search(param.description)) and int(found.group(1)) > 0:
        value = min(int(found.group(1)), MAX_SIZE)
        return value, f"'{found.group(0)}' in {param.name}'s description"
    if isinstance(default, int) and default > 0:
        return default, f"{param.name}'s default; no maximum declared"
    return DEFAULT_SIZE, f"{param.name} declares no maximum or default"


CREDENTIAL = re.compile(
    r"\b(?:authentication|authori[sz]ation|access token|api key|bearer)\b", re.I
)


def is_credential(param: Param) -> bool:
    """A query parameter that carries the caller's credentials, not a page token (Slack's
    ``token``: 'Authentication token. Requires scope: …')."""
    return bool(CREDENTIAL.search(param.description))


def is_token(param: Param) -> bool:
    """An ``offset``-named parameter that takes an opaque token, not a number (Asana's
    ``offset``: a string, 'Offset token', example ``eyJ0eXAiOJiKV1iQ…``)."""
    if param.type != "string":
        return False
    sample = next((v for v in (param.attr("example"), param.attr("default")) if v), None)
    if isinstance(sample, str) and not sample.strip().isdigit():
        return True
    return bool(re.search(r"\btoken\b", param.description, re.I))


def _totals(
    fields: Fields, op: Operation, trust: bool, *, pages: bool = True
) -> tuple[dict[str, Any], str]:
    """Total/has-more options for a range paginator (a page count only if ``pages``), and why.

    ``_counts`` in the options says what the total counts (``pages`` or ``records``).
    """
    order: list[tuple[set[str], str]] = [(PAGES_FIELDS, "pages")] if pages else []
    order.append((RECORDS_FIELDS, "records"))
    for names, counts in order:
        if trust and (path := _first(fields, names, "integer", "number")):
            why = f"field '{json_path(path)}'"
            if norm(path[-1]) == "count":  # DRF's and Ninja's total; elsewhere a page's count
                why += " (read as the total of all records, as Django REST framework writes it)"
            return {"total_path": json_path(path), "_counts": counts}, why
    for name, header in op.headers.items():
        lower = name.lower()
        if lower in RECORDS_HEADERS | (PAGES_HEADERS if pages else set()):
            counts = "pages" if lower in PAGES_HEADERS else "records"
            return {"total_header": name, "_counts": counts}, f"response header '{name}'"
        inner = {norm(k): k for k in properties(header)}
        for names, counts in order:
            key = next((inner[n] for n in inner if n in names), None)
            if key:
                options = {"total_header": name, "total_path": key, "_counts": counts}
                return options, f"'{key}' in the JSON response header '{name}'"
    if trust and (path := _first(fields, MORE_FIELDS, "boolean")):
        return {"has_more_path": json_path(path)}, f"field '{json_path(path)}'"
    return {}, ""


def guess(
    op: Operation, selector: str | None, trust_body: bool = True, key: str | None = None
) -> Guess:
    """The paginator for ``op``; ``trust_body`` False ignores the response schema's fields;
    ``key``: the records' primary key (for a cursor that is the last record's id)."""
    query = op.query
    fields = body_fields(op.body, selector) if trust_body else {}
    size = _param(query, SIZE_PARAMS)
    link = _first(fields, LINK_FIELDS, "string")
    if link and len(link) > 1 and norm(link[-2]) == "cursor":
        link = None  # ``cursor.next``: the next cursor, not a URL
    href = next(
        (p for p in fields if len(p) > 1 and norm(p[-2]) == "next" and p[-1] == "href"), None
    )
    first: dict[str, Any] = {}
    why_size = ""
    if size is not None:
        value, why = page_size(size)
        first, why_size = {size.name: value}, f"; sends {size.name}={value} ({why})"
    if any(name.lower() == "link" for name in op.headers):
        return Guess({"type": "header_link"}, ["response header 'Link'" + why_size], first)
    if href or link:
        path = json_path(href or link)
        evidence = f"response field '{path}' (a next link)" + why_size
        return Guess({"type": "json_link", "next_url_path": path}, [evidence], first)
    offset, limit = _param(query, OFFSET_PARAMS), _param(query, LIMIT_PARAMS)
    opaque = offset if offset is not None and is_token(offset) else None
    if opaque is not None:
        offset = None
    if offset is not None and limit is not None:
        value, why = page_size(limit)
        options, total_why = _totals(fields, op, trust_body, pages=False)
        options.pop("_counts", None)
        config = {"type": "offset", "limit": value, "offset_param": offset.name}
        config |= {"limit_param": limit.name, **options}
        evidence = f"query parameters '{offset.name}' and '{limit.name}' (limit {value}: {why})"
        return Guess(config, [evidence + (f"; total from {total_why}" if total_why else "")])
    page = _param(query, PAGE_PARAMS)
    if page is not None and (number := _next_field(fields, "integer")):
        return _next_page(page, number, size, first)
    if page is not None:
        return _page_number(page, size, fields, op, trust_body)
    token_names = TOKEN_FIELDS | ({norm(opaque.name)} if opaque else set())
    token = _first(fields, token_names, "string", "integer") or _next_field(fields, "string")
    cursors = [
        p
        for p in query.values()
        if (norm(p.name) in CURSOR_PARAMS and not is_credential(p)) or p is opaque
    ]
    if token and cursors:
        return _cursor(token, cursors, size, fields, first)
    after = next((p for p in cursors if norm(p.name) in AFTER_PARAMS), None)
    if after is not None and key and selector and trust_body:
        return _after_last(after, f"{selector}[-1].{key}", size, fields, first)
    return _unsure(op, token, cursors, fields, first)


def _after_last(
    after: Param, path: str, size: Param | None, fields: Fields, first: dict[str, Any]
) -> Guess:
    """``cursor`` whose value is the last record's key (Stripe's ``starting_after``)."""
    config: dict[str, Any] = {"type": "cursor", "cursor_path": path, "cursor_param": after.name}
    evidence = f"query parameter '{after.name}' takes the last record's key ('{path}')"
    if more := _first(fields, MORE_FIELDS, "boolean"):
        config["has_more_path"] = json_path(more)
        evidence += f"; field '{json_path(more)}' says when to stop"
    else:
        evidence += "; no has_more field: paging ends on an empty page"
    if size is not None:
        config |= {"limit": first[size.name], "limit_param": size.name}
    return Guess(config, [evidence])


def _next_page(
    page: Param, number: tuple[str, ...], size: Param | None, first: dict[str, Any]
) -> Guess:
    """``next_page``: an integer field names the next page number, sent back as ``page``."""
    path = json_path(number)
    config: dict[str, Any] = {"type": "next_page", "next_page_path": path}
    config["page_param"] = page.name
    evidence = f"response field '{path}' (an integer: the next page number) feeds query"
    evidence += f" parameter '{page.name}'; paging ends when it is null"
    if size is not None:
        config |= {"limit": first[size.name], "limit_param": size.name}
    return Guess(config, [evidence])


def _page_number(
    page: Param, size: Param | None, fields: Fields, op: Operation, trust: bool
) -> Guess:
    """``page_number`` from a page parameter (and a size parameter, totals when declared)."""
    config: dict[str, Any] = {"type": "page_number", "page_param": page.name}
    evidence = [f"query parameter '{page.name}'"]
    base, why = base_page(page, fields, op)
    if base is not None:
        config["base_page"] = base
    evidence.append(why)
    if size is not None:
        value, why = page_size(size)
        config |= {"limit": value, "limit_param": size.name}
        evidence.append(f"sends {size.name}={value} ({why})")
    options, why = _totals(fields, op, trust)
    if options.pop("_counts", "pages") == "records":
        options["total_counts"] = "records"
    config |= options
    if why and options:
        evidence.append(f"total from {why}")
    return Guess(config, evidence)


def _cursor(
    token: tuple[str, ...],
    cursors: list[Param],
    size: Param | None,
    fields: Fields,
    first: dict[str, Any],
) -> Guess:
    """``cursor``: the response field that feeds the query parameter."""
    field_name = norm(token[-1])
    wanted = {field_name, field_name.removeprefix("next"), "".join(("page", field_name[4:]))}
    param = next((p for p in cursors if norm(p.name) in wanted), None)
    how = "same name"
    if param is None:
        param, how = cursors[0], "the only cursor-like parameter"
        if len(cursors) > 1:
            how = f"first of {', '.join(p.name for p in cursors)}"
    config: dict[str, Any] = {"type": "cursor", "cursor_path": json_path(token)}
    config["cursor_param"] = param.name
    if more := _first(fields, MORE_FIELDS, "boolean"):
        config["has_more_path"] = json_path(more)
    if size is not None:
        config |= {"limit": first[size.name], "limit_param": size.name}
    evidence = f"response field '{json_path(token)}' feeds query parameter '{param.name}' ({how})"
    if norm(token[-1]) == "nextpage" or token[-1] == "next":
        evidence += "; a string, so an opaque cursor, not a page number"
    return Guess(config, [evidence])


def _unsure(
    op: Operation,
    token: tuple[str, ...] | None,
    cursors: list[Param],
    fields: Fields,
    first: dict[str, Any],
) -> Guess:
    """No paging evidence that decides: left to ``auto``, with what was seen."""
    if token:
        why = f"response field '{json_path(token)}' looks like a cursor, but no query parameter"
        why += " takes it: auto tries the usual names at run time"
        suggestion = {"type": "cursor", "cursor_path": json_path(token), "cursor_param": "cursor"}
        return Guess(None, [why], first, sure=False, suggestion=suggestion)
    if cursors:
        why = f"query parameter '{cursors[0].name}' looks like a cursor, but no response field"
        why += " holds the next one: auto detects it at run time"
        return Guess(None, [why], first, sure=False)
    totals, how = _totals(fields, op, True)
    if totals:
        why = f"{how} counts records, but no page, offset or cursor parameter"
        return Guess(None, [why + ": auto decides at run time"], first, sure=False)
    return Guess(None, ["no paging parameter, field or header: auto decides at run time"], first)
