"""One resource per collection GET (dependent ones for paths a list endpoint can fill)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tap_restgeneric.config.raw import ResourceConfig
from tap_restgeneric.tools.openapi.envelope import WHOLE_BODY, Envelope, envelope
from tap_restgeneric.tools.openapi.incremental import candidate
from tap_restgeneric.tools.openapi.names import CURSOR_PARAMS, OFFSET_PARAMS, PAGE_PARAMS, norm
from tap_restgeneric.tools.openapi.operations import (
    Operation,
    fill_fixed,
    is_placeholder,
    segments,
)
from tap_restgeneric.tools.openapi.paginators import Guess, guess
from tap_restgeneric.tools.openapi.parents import ListEndpoint, Parent, find_parent, singular
from tap_restgeneric.tools.openapi.schemas import Memo, json_schema, properties


@dataclass
class Planned:
    """An operation the importer turns into a resource, and what the report says about it."""

    op: Operation
    shape: Envelope
    name: str = ""
    parent: Parent | None = None
    resource: ResourceConfig | None = None
    lines: list[str] = field(default_factory=list)
    skipped: str = ""  # why no resource was made


def primary_key(item: Any, name: str) -> str | None:
    """``id``, ``<name>_id`` or ``<name>Id`` when the record schema has it."""
    props = properties(item) if item is not None else {}
    stem = singular(name.rsplit("_", 1)[-1])
    for key in ("id", "ID", "Id", f"{stem}_id", f"{stem}Id", "uuid"):
        if key in props:
            return key
    return None


def _style(op: Operation) -> str:
    """How the query parameters alone say the operation pages (``offset``, ``page``, ``cursor``)."""
    names = {norm(p) for p in op.query}
    if names & OFFSET_PARAMS:
        return "offset"
    if names & PAGE_PARAMS:
        return "page"
    return "cursor" if names & CURSOR_PARAMS else ""


def doubted(plans: list[Planned]) -> dict[int, str]:
    """Operations whose shared response schema contradicts their own paging parameters.

    A generator that names response schemas by record type can give operations paged three
    ways one envelope (Django Ninja's ``PagedItemOut``, the last one written wins). When one
    schema serves operations whose parameters page differently, its paging fields are only
    trusted for the operations whose parameters agree with them.
    """
    groups: dict[str, list[Planned]] = {}
    for plan in plans:
        if plan.op.body is not None and plan.op.body.ref:
            groups.setdefault(plan.op.body.ref, []).append(plan)
    found = {}
    for ref, members in groups.items():
        styles = {_style(p.op) for p in members} - {""}
        if len(styles) < 2:
            continue
        for plan in members:
            body_style = guess(plan.op, plan.shape.selector).style
            agrees = {"json_link": "cursor", "cursor": "cursor", "offset": "offset"}
            agrees |= {"page_number": "page"}
            if agrees.get(body_style) != _style(plan.op):
                schema = ref.rsplit("/", 1)[-1]
                found[id(plan)] = (
                    f"the response schema {schema} is shared by operations paged by "
                    f"{', '.join(sorted(styles))} parameters, and its fields page by {body_style}"
                    f" while this one's parameters page by {_style(plan.op)}: its envelope is "
                    "not trusted (data_selector detected at run time, paging from parameters)"
                )
    return found


def names_for(plans: list[Planned]) -> None:
    """Resource names from the path's literal segments, after the prefix all paths share."""
    literal = [[unquote(s) for s in segments(p.op.path) if not is_placeholder(s)] for p in plans]
    shortest = min((len(x) for x in literal), default=0)
    common = 0
    while common < shortest - 1 and len({tuple(x[: common + 1]) for x in literal}) == 1:
        common += 1
    taken: set[str] = set()
    for plan, parts in zip(plans, literal, strict=True):
        base = "_".join(parts[common:] or parts) or "root"
        base = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_").lower() or "root"
        if plan.shape.kind == "object":
            base += "_detail"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        plan.name = name


def _fixed_params(plan: Planned, paging: Guess, used: set[str]) -> dict[str, Any] | None:
    """Values for required query parameters the paginator does not send; None: one has none."""
    params: dict[str, Any] = dict(paging.params)
    config = paging.paginator or {}
    used = used | set(params) | {str(v) for v in config.values()}
    for name, param in plan.op.query.items():
        if not param.required or name in used:
            continue
        for key in ("default", "example"):
            if param.attr(key) is not None:
                params[name] = param.attr(key)
                break
        else:
            enum = param.attr("enum")
            if not isinstance(enum, list) or not enum:
                plan.skipped = f"required query parameter '{name}' has no default or example"
                return None
            params[name] = enum[0]
        plan.lines.append(f"required query parameter {name}={params[name]!r}")
    return params


def _paging(plan: Planned, doubt: str, key: str | None, endpoint: dict[str, Any]) -> Guess:
    """Write the records path and paginator into ``endpoint``; the guess (with its reasons)."""
    shape = plan.shape
    if shape.kind != "list":  # one object, below a list endpoint
        endpoint |= {"data_selector": WHOLE_BODY, "paginator": "single_page"}
        return Guess({"type": "single_page"}, ["one object"])
    paging = guess(plan.op, shape.selector, trust_body=not doubt, key=key)
    if doubt:
        plan.lines.append(f"doubt: {doubt}")
    else:
        endpoint["data_selector"] = shape.selector
    endpoint["paginator"] = paging.paginator if paging.paginator is not None else "auto"
    sure = "" if paging.sure else " (unsure)"
    plan.lines.append(f"paginator: {paging.style}{sure} from {'; '.join(paging.evidence)}")
    if paging.suggestion:
        plan.lines.append(f"  to try if auto fails: {paging.suggestion}")
    return paging


def build(plan: Planned, doubt: str, memo: Memo, sent: frozenset[str] = frozenset()) -> None:
    """Fill ``plan.resource`` (or ``plan.skipped``) from the operation; ``sent``: query
    parameters the auth sends on every request."""
    op, shape = plan.op, plan.shape
    endpoint: dict[str, Any] = {"path": op.path.lstrip("/") or "/"}
    plan.lines.append(f"records: {shape.why}")
    used: set[str] = set(sent)
    key = primary_key(shape.item, plan.name)
    paging = _paging(plan, doubt, key, endpoint)
    if plan.parent is not None:
        parent = plan.parent
        fields = {**parent.inherited, parent.param: parent.field}
        endpoint["params"] = {
            name: {"type": "resolve", "resource": parent.resource, "field": field}
            for name, field in fields.items()
        }
        used.update(fields)
        plan.lines.append(f"parent: {parent.why}")
    params = _fixed_params(plan, paging, used)
    if params is None:
        return
    if params:
        endpoint["params"] = {**endpoint.get("params", {}), **params}
    found = candidate(shape.item, op.query) if shape.kind == "list" else None
    if found is not None and found.sure:
        endpoint["incremental"] = {"cursor_path": found.field, "start_param": found.param}
        plan.lines.append(
            f"incremental: {found.why}; initial_value not set: add it (or the start_date "
            "setting), else the first run sends no start and reads everything"
        )
    elif found is not None:
        block = {"cursor_path": found.field, "start_param": found.param, "initial_value": "…"}
        plan.lines.append(f"incremental (not written, unsure): {found.why}; to add: {block}")
    resource: ResourceConfig = {"name": plan.name, "endpoint": endpoint}  # type: ignore[typeddict-item]
    if key:
        resource["primary_key"] = key
        plan.lines.append(f"primary_key: {key}")
    if shape.item is not None:
        schema = json_schema(shape.item, memo=memo)
        if schema.get("properties") and schema.get("type") == "object":
            resource["schema"] = schema
            plan.lines.append(f"schema: {len(schema['properties'])} properties declared")
    plan.resource = resource


def plan_all(ops: list[Operation], sent: set[str] | None = None) -> list[Planned]:
    """Plan every operation: classify, name, find parents, build (``sent``: query parameters
    the auth sends on every request, never required of an operation)."""
    fill_fixed(ops)
    plans = [
        Planned(
            op, envelope(op.body, bool(op.path_params) and op.path.endswith("}")), lines=[*op.fixed]
        )
        for op in ops
    ]
    usable = [p for p in plans if p.shape.kind != "none"]
    for plan in plans:
        if plan.shape.kind == "none":
            plan.skipped = plan.shape.why
    names_for(usable)
    lists: list[ListEndpoint] = []
    for plan in sorted(usable, key=lambda p: len(p.op.path_params)):  # parents first
        if plan.op.path_params:
            found = find_parent(plan.op, lists)
            if isinstance(found, str):
                plan.skipped = found
                continue
            plan.parent = found
        elif plan.shape.kind == "object":
            plan.skipped = f"{plan.shape.why}, not a collection (and no path parameter)"
        if plan.shape.kind == "list":
            lists.append(ListEndpoint(plan.name, plan.op.path, plan.shape.item, resolves(plan)))
    doubts = doubted([p for p in usable if not p.skipped and p.shape.kind == "list"])
    memo: Memo = {}
    for plan in usable:
        if not plan.skipped:
            build(plan, doubts.get(id(plan), ""), memo, frozenset(sent or ()))
    by_name = {p.name: p for p in usable}
    for plan in sorted(usable, key=lambda p: len(p.op.path_params)):  # parents first
        owner = by_name[plan.parent.resource] if plan.parent else None
        if owner is not None and owner.resource is None and plan.resource is not None:
            plan.resource = None  # a child whose parent was skipped (a required parameter …)
            plan.skipped = f"its parent '{owner.name}' was skipped"
    for plan in usable:  # parents carry what their children's earlier parameters need
        owner = by_name[plan.parent.resource] if plan.parent else None
        if plan.parent and plan.resource is not None and owner and owner.resource is not None:
            carried = owner.resource.setdefault("include_from_parent", []) or []
            carried += [name for name in plan.parent.includes if name not in carried]
            owner.resource["include_from_parent"] = carried
    return plans


def resolves(plan: Planned) -> dict[str, tuple[str, str]]:
    """How a planned resource's path parameters are filled: param → (parent, field)."""
    if plan.parent is None:
        return {}
    fields = {**plan.parent.inherited, plan.parent.param: plan.parent.field}
    return {name: (plan.parent.resource, field) for name, field in fields.items()}


def cap(plans: list[Planned], limit: int) -> int:
    """Keep at most ``limit`` resources (top-level ones first, then children of kept parents);
    the number left out."""
    made = [p for p in plans if p.resource is not None]
    kept: set[str] = set()
    children = sorted((p for p in made if p.parent), key=lambda p: len(p.op.path_params))
    for plan in [p for p in made if p.parent is None] + children:
        parent_kept = plan.parent is None or plan.parent.resource in kept
        if len(kept) < limit and parent_kept:
            kept.add(plan.name)
            continue
        plan.resource = None
        plan.skipped = f"over the tap's {limit:,}-resource limit: narrow with --include/--exclude"
    return len(made) - len(kept)
