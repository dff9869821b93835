"""The document's GET operations: parameters, the 2xx JSON response schema and its headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tap_restgeneric.tools.openapi.loading import Document
from tap_restgeneric.tools.openapi.refs import Node, Refs
from tap_restgeneric.tools.openapi.schemas import non_null

JSON_TYPES = ("application/json", "application/hal+json", "application/vnd.api+json")


@dataclass
class Param:
    """One parameter: where it goes, whether it is required, and its (null-free) schema."""

    name: str
    location: str  # query, path, header, cookie
    required: bool
    schema: Node
    description: str = ""

    def attr(self, key: str) -> Any:
        """A scalar of the schema (``type``, ``format``, ``default``, ``minimum`` …)."""
        return self.schema.raw(key)

    @property
    def type(self) -> str | None:
        """The first non-null JSON type declared, if any."""
        kind = self.attr("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        return kind if isinstance(kind, str) else None


@dataclass
class Operation:
    """A GET operation with what the importer reads from it."""

    path: str
    node: Node
    params: list[Param] = field(default_factory=list)
    body: Node | None = None  # the 2xx JSON response schema
    headers: dict[str, Node] = field(default_factory=dict)  # response header → its schema
    template: str = ""  # the document's path, when fixed values were filled into ``path``
    fixed: list[str] = field(default_factory=list)  # how each was filled, for the report

    @property
    def query(self) -> dict[str, Param]:
        """The query parameters by name."""
        return {p.name: p for p in self.params if p.location == "query"}

    @property
    def path_params(self) -> list[str]:
        """The ``{names}`` in the path, in order (also inside a segment: ``{name}:search``)."""
        return re.findall(r"\{([^{}]+)\}", self.path)


def segments(path: str) -> list[str]:
    """A path's non-empty segments."""
    return [part for part in path.split("/") if part]


def is_placeholder(segment: str) -> bool:
    """``{id}``, ``{name}:search``, ``x{ext}``: a segment holding a path parameter."""
    return "{" in segment


def _params(nodes: list[Node], swagger: bool) -> list[Param]:
    """Parameters of a path item and an operation (the operation's win by name and place)."""
    found: dict[tuple[str, str], Param] = {}
    for node in nodes:
        name, location = node.raw("name"), node.raw("in")
        if not isinstance(name, str) or not isinstance(location, str):
            continue
        schema = node if swagger else node.get("schema")
        plain = non_null(schema)[0] if schema is not None else node
        required = bool(node.raw("required")) or location == "path"
        text = node.raw("description")
        found[(name, location)] = Param(
            name, location, required, plain, text if isinstance(text, str) else ""
        )
    return list(found.values())


def _success(responses: Node) -> Node | None:
    """The 200 response, else the first other 2xx one, else ``default``."""
    codes = dict(responses.items())
    for code in ("200", "2XX", "2xx", *sorted(c for c in codes if c.startswith("2")), "default"):
        if code in codes:
            return codes[code]
    return None


def _json_schema(response: Node, swagger: bool) -> Node | None:
    """The response's JSON schema (3.x: a JSON media type's; Swagger 2: ``schema``)."""
    if swagger:
        return response.get("schema")
    content = response.get("content")
    if content is None:
        return None
    media = dict(content.items())
    # springdoc (Spring Boot) writes JSON responses as */*
    for name in (*JSON_TYPES, *(m for m in media if "json" in m.lower()), "*/*"):
        if name in media:
            return media[name].get("schema")
    return None


def operations(refs: Refs, document: Document) -> list[Operation]:
    """Every GET operation of ``paths``, in document order."""
    found = []
    paths = refs.root.get("paths")
    for path, item in paths.items() if paths is not None else []:
        get = item.get("get")
        if get is None or not path.startswith("/"):
            continue
        common = item.get("parameters")
        own = get.get("parameters")
        nodes = [*(common.elements() if common else []), *(own.elements() if own else [])]
        operation = Operation(path, get, _params(nodes, document.swagger))
        responses = get.get("responses")
        response = _success(responses) if responses is not None else None
        if response is not None:
            operation.body = _json_schema(response, document.swagger)
            headers = response.get("headers")
            for name, header in headers.items() if headers is not None else []:
                schema = header if document.swagger else header.get("schema") or header
                operation.headers[name] = schema
        found.append(operation)
    return found


def _fixed_value(param: Param) -> tuple[Any, str] | None:
    """A path parameter's one possible value (``enum`` of one, 3.1 ``const``) or its
    ``default``, and which; None when it has neither (or not a string/number)."""
    enum, const, default = param.attr("enum"), param.attr("const"), param.attr("default")
    for value, why in (
        (enum[0] if isinstance(enum, list) and len(enum) == 1 else None, "its only enum value"),
        (const, "its const"),
        (default, "its default"),
    ):
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            return value, why
    return None


def fill_fixed(ops: list[Operation]) -> None:
    """Fill path parameters that can take one value into the paths (``/{version}/items`` with
    ``version``'s enum ``["v2"]`` → ``/v2/items``). A ``default`` is used only where no GET
    path ends just before the parameter (``/users/{id}`` under ``GET /users`` stays a child,
    its values taken from the list's records)."""
    templates = {tuple(segments(op.path)) for op in ops}
    for op in ops:
        by_name = {p.name: p for p in op.params if p.location == "path"}
        path = op.path
        for name in op.path_params:
            param = by_name.get(name)
            found = _fixed_value(param) if param is not None else None
            if found is None:
                continue
            value, why = found
            parts = segments(op.path)
            prefix = tuple(parts[: next(i for i, s in enumerate(parts) if "{" + name + "}" in s)])
            if why == "its default" and prefix in templates:
                continue
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
            op.fixed.append(f"path parameter {{{name}}} = {value!r} ({why})")
        if op.fixed:
            op.template, op.path = op.path, path
